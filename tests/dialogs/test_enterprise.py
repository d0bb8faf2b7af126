"""Issue 18 in whole conversations, on SQLite and PostgreSQL: an enterprise's process need
reaching a team, achievements registered by chat and from a file, a farmer and an enterprise
finding them by natural questions and completing a 对接 to a rating, 找项目 and its digest."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from dialogs.assistant import Assistant
from dialogs.types import Incoming, MediaIn, Outcome
from store.achievements import Achievement, AchievementIn, add_achievement
from store.enterprises import Enterprise
from store.needs import Need
from store.order_tables import Order
from store.teams import Team, TeamMember
from store.users import User
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat

SEVEN_DIGITS = re.compile(r"\d{7,}")


@pytest.fixture
def desk(engine: Engine, tmp_path) -> Assistant:  # type: ignore[no-untyped-def]
    return make_assistant(engine, None, tmp_path)


def register(chat: Chat, intro: str) -> None:
    assert "擅长领域" in chat.send(intro).text
    assert "登记成功" in chat.send("确认").text  # 确认 at an optional question: done


def user_of(engine: Engine, external_id: str) -> User:
    with Session(engine) as s:
        return s.exec(select(User).where(User.external_id == external_id)).one()


def outbound_to(out: Outcome, who: str) -> list[str]:
    return [m.text for m in out.outbound if m.external_id == who]


def test_enterprise_process_need_reaches_a_team_which_accepts_and_is_rated(desk, engine):
    zhang, wang = Chat(desk, "zhang"), Chat(desk, "wang")
    register(
        zhang,
        "我是四川农业大学的，做发酵工程和农产品加工，眉山成都都能跑，电话13800000001，我叫张明",
    )
    register(
        wang,
        "我是眉山市农科所的，做食品检测和发酵工程，眉山东坡区都能跑，电话13800000002，我叫王芳",
    )
    formed = zhang.send("我想组建一个团队，叫川味发酵团队")
    assert "团队名称：川味发酵团队" in formed.text  # fields and regions come from the profile
    saved = zhang.send("确认").text
    code = re.search(r"加入团队 (\d{6})", saved)
    assert "团队「川味发酵团队」组建好了" in saved and code is not None
    assert "已加入团队「川味发酵团队」" in wang.send(f"加入团队 {code.group(1)}").text

    boss = Chat(desk, "boss")
    boss.send(
        "我们公司泡菜发酵工艺不稳定，想找专家改进，眉山东坡区，预算10万，三个月内，电话13800000009"
    )
    assert "贵单位（企业）的名称是" in boss.text
    boss.send("眉山东坡泡菜食品有限公司")
    assert "有偿技术服务合同" in boss.text
    summary = boss.send("要").text
    assert "需求类型：工艺改进" in summary and "有偿合同：是" in summary
    posted = boss.send("确认")
    assert "需求已发布" in posted.text
    for member in ("zhang", "wang"):
        (told,) = outbound_to(posted, member)
        assert "团队「川味发酵团队」" in told and "企业项目，预算10万元" in told
        assert not SEVEN_DIGITS.search(told)  # nothing carries the requester's phone
    with Session(engine) as s:
        need = s.exec(select(Need)).one()
        assert (need.requester_kind, need.service_kind, need.paid_contract) == (
            "enterprise",
            "process",
            True,
        )
        assert (need.budget, need.deadline, need.category) == (100_000, "三个月内", "processing")
        assert s.exec(select(Enterprise)).one().name == "眉山东坡泡菜食品有限公司"

    taken = wang.send("接单")
    assert "接单成功" in taken.text
    with Session(engine) as s:
        order = s.exec(select(Order)).one()
        team = s.exec(select(Team)).one()
        assert (order.team_id, order.expert_id) == (team.id, user_of(engine, "wang").id)
    # the lead sees the team's order although a colleague took it
    assert "#1" in zhang.send("我的订单").text and "团队" in zhang.text
    resolved = wang.send("已解决 1 已调整发酵温度和盐度")
    assert outbound_to(resolved, "boss")
    assert "感谢评价" in boss.send("评价 1 5 很专业").text
    with Session(engine) as s:
        team = s.exec(select(Team)).one()
        assert (team.rating_count, team.rating_sum) == (1, 5)


CSV = """成果名称,类型,成熟度,转化方式,领域,作物,应用地区,价格
花椒智能烘干装置,专利,示范,许可,农产品加工,花椒,汉源,10-20万
茶园单轨运输机,装备,示范应用,转让,农业机械,茶,雅安,15万
泡菜低盐快速发酵工艺,飞船,推广,技术服务,发酵工程,,,
猕猴桃溃疡病绿色防控技术规程,标准,大面积推广,技术服务,植物保护,猕猴桃,都江堰,
川椒3号,新品种,示范,转让,果树栽培,花椒,汉源,30万
,技术,中试,合作开发,,,,
生猪粪污资源化利用技术,技术,推广,合作开发,畜牧兽医,猪,内江,面议
"""


def test_expert_registers_two_achievements_by_chat_and_five_from_a_file(desk, engine):
    zhang = Chat(desk, "zhang")
    register(
        zhang,
        "我是四川农业大学的，做果蔬加工和保鲜技术，眉山成都都能跑，电话13800000001，我叫张明",
    )
    zhang.send("我有一项成果想登记")
    assert "成果叫什么名字" in zhang.text
    zhang.send("柑橘采后保鲜技术")  # a 技术: the kind is understood from the title
    assert "成熟到什么程度" in zhang.text
    zhang.send("已经在眉山示范应用了")
    assert "怎样转化" in zhang.text
    zhang.send("转让或者技术服务都可以")
    assert "价格区间" in zhang.text
    summary = zhang.send("5-10万").text
    assert "成熟度：示范应用" in summary and "转化方式：转让" in summary
    assert "应用地区：眉山" in summary and "价格：5万–10万元" in summary
    assert "已登记（编号 1）" in zhang.send("确认").text
    zhang.send("登记成果《丘陵山区小型履带式微耕机》，是装备，已中试，可以许可使用，价格面议")
    assert "已登记（编号 2）" in zhang.send("确认").text

    upload = Incoming(
        "test",
        "zhang",
        display_name="zhang",
        media=(MediaIn("document", CSV.encode("utf-8"), "text/csv", name="成果.csv"),),
    )
    report = desk.handle(upload).text
    assert "已登记 5 项成果，2 行未导入" in report
    assert "第 4 行：类型“飞船”无法识别" in report
    assert "第 7 行：成果名称不能为空" in report
    with Session(engine) as s:
        rows = s.exec(select(Achievement).order_by(Achievement.id)).all()
        assert [a.title for a in rows][:2] == ["柑橘采后保鲜技术", "丘陵山区小型履带式微耕机"]
        assert len(rows) == 7
        dryer = next(a for a in rows if a.title == "花椒智能烘干装置")
        assert (dryer.kind, dryer.maturity, dryer.transfer_mode) == (
            "patent",
            "demonstrated",
            "licence",
        )
        assert (dryer.price_low, dryer.price_high) == (100_000, 200_000)
    # not an expert: nothing is registered, the reason is said
    farmer = Chat(desk, "farmer")
    refused = desk.handle(
        Incoming("test", "farmer", media=(MediaIn("document", CSV.encode(), name="a.csv"),))
    )
    assert "需要先登记为专家" in refused.text
    assert (
        "无法导入"
        in desk.handle(
            Incoming("test", "zhang", media=(MediaIn("document", b"x", name="a.xlsx"),))
        ).text
    )
    assert farmer.user == "farmer"


def achievements_of_zhang(desk: Assistant, engine: Engine) -> None:
    register(
        Chat(desk, "zhang"),
        "我是四川农业大学的，做果蔬加工和农业机械，眉山达州都能跑，电话13800000001，我叫张明",
    )
    with Session(engine, expire_on_commit=False) as s:
        owner = s.exec(select(User).where(User.external_id == "zhang")).one()
        for data in (
            AchievementIn(
                "柑橘采后保鲜技术",
                "技术",
                "示范",
                "转让",
                fields=("保鲜技术",),
                crops=("柑橘",),
                applied_in="眉山",
                price="5-10万",
            ),
            AchievementIn(
                "丘陵山区小型履带式微耕机", "装备", "中试", "许可", fields=("农业机械",)
            ),
            AchievementIn("猕猴桃果酒酿造技术", "技术", "示范", "转让", crops=("猕猴桃",)),
        ):
            add_achievement(session=s, owner=owner, data=data)


def test_farmer_and_enterprise_find_achievements_and_complete_a_dock_to_a_rating(desk, engine):
    achievements_of_zhang(desk, engine)
    zhang, farmer = Chat(desk, "zhang"), Chat(desk, "farmer")
    found = farmer.send("有没有柑橘保鲜的成果可以转让").text
    assert "《柑橘采后保鲜技术》技术 · 示范应用 · 转让 · 5万–10万元" in found
    assert "持有人：张明" in found and "微耕机" not in found and "果酒" not in found
    farmer.press("对接 #1")
    farmer.send("我在眉山丹棱县")
    assert "联系电话" in farmer.text
    assert "请确认对接请求" in farmer.send("13800000005").text
    sent = farmer.press("确认")
    assert "对接请求已发给成果持有人" in sent.text
    (told,) = outbound_to(sent, "zhang")
    assert "【对接请求 #1】" in told and not SEVEN_DIGITS.search(told)
    assert [m.external_id for m in sent.outbound] == ["zhang"]  # the owner only
    assert outbound_to(zhang.send("接单 1"), "farmer")
    assert outbound_to(zhang.send("已解决 1 已提供保鲜方案"), "farmer")
    assert "感谢评价" in farmer.send("评价 1 5").text

    boss = Chat(desk, "boss")
    boss.send("我们是达州巴山农机制造厂，想在平台登记企业")
    assert "主要做哪个行业" in boss.text
    boss.send("农机制造")
    assert "联系人怎么称呼" in boss.text
    boss.send("赵强")
    boss.send("13800000007")
    assert "请确认企业信息" in boss.send("确认").text or "企业“" in boss.text
    if "请确认企业信息" in boss.text:
        boss.send("确认")
    assert "企业“达州巴山农机制造厂”登记好了" in boss.text
    found = boss.send("有适合丘陵的小型农机吗").text
    assert "《丘陵山区小型履带式微耕机》装备 · 中试 · 许可 · 面议" in found
    assert "请确认对接请求" in boss.send("对接 2 我们想在达州的丘陵地试用").text
    sent = boss.send("确认")
    assert outbound_to(sent, "zhang")
    zhang.send("接单 2")
    zhang.send("已解决 2 已送样机试用")
    assert "感谢评价" in boss.send("评价 2 4").text
    with Session(engine) as s:
        needs = s.exec(select(Need).order_by(Need.id)).all()
        assert [(n.achievement_id, n.requester_kind, n.rating) for n in needs] == [
            (1, "individual", 5),
            (2, "enterprise", 4),
        ]
        assert {o.status for o in s.exec(select(Order)).all()} == {"closed"}


def test_owner_declining_a_dock_ends_it_and_says_so(desk, engine):
    achievements_of_zhang(desk, engine)
    farmer = Chat(desk, "farmer")
    farmer.send("有没有猕猴桃果酒的成果")
    assert "对接 #3" in farmer.buttons()
    farmer.send("对接 3")
    farmer.send("我在眉山丹棱县，电话13800000005")
    farmer.send("确认")
    declined = Chat(desk, "zhang").send("不合适 1")
    assert "婉拒了对接请求 #1" in outbound_to(declined, "farmer")[0]
    with Session(engine) as s:
        assert s.exec(select(Order)).one().status == "expired"
    assert "自己的成果" in Chat(desk, "zhang").send("对接 3").text
    assert "没有编号为 99 的成果" in farmer.send("对接 99").text


def test_experts_browse_and_get_a_weekly_digest_of_projects_without_contacts(desk, engine):
    zhang = Chat(desk, "zhang")
    register(
        zhang,
        "我是四川农业大学的，做发酵工程和农产品加工，眉山成都都能跑，电话13800000001，我叫张明",
    )
    assert "已订阅项目周报" in zhang.send("订阅项目").text
    boss = Chat(desk, "boss")
    boss.send("我们公司泡菜发酵工艺不稳定，想找专家改进，眉山东坡区，预算10万，电话13800000009")
    while "请确认需求" not in boss.text:
        boss.send("跳过")
    boss.send("确认")
    browse = zhang.send("有没有适合我的企业项目").text
    assert "企业项目，预算10万元" in browse and not SEVEN_DIGITS.search(browse)
    morning = datetime.now(UTC).replace(hour=2)  # 10:00 in Sichuan
    digest = desk.projects.run_due(desk.session_factory, morning)
    (text,) = outbound_to(digest, "zhang")
    assert "【本周项目】有 1 个新需求适合您" in text and "预算10万元" in text
    assert not SEVEN_DIGITS.search(text)
    assert not desk.projects.run_due(desk.session_factory, morning).outbound  # once a week
    assert "已退订" in zhang.send("退订项目").text


def test_mydata_and_delete_me_cover_enterprise_teams_and_achievements(desk, engine):
    achievements_of_zhang(desk, engine)
    zhang = Chat(desk, "zhang")
    zhang.send("我想组建一个团队，叫川味发酵团队")
    zhang.send("确认")
    shown = zhang.send("/mydata")
    assert "团队：川味发酵团队；登记的科技成果 3 项" in shown.text
    document = shown.replies[-1].document
    assert document is not None and b'"achievements"' in document[1]
    zhang.send("/delete_me")
    zhang.send("确认删除我的数据")
    with Session(engine) as s:
        assert all(a.withdrawn and not a.title for a in s.exec(select(Achievement)).all())
        assert s.exec(select(TeamMember)).all() == []
    assert "成果库里暂时没有" in Chat(desk, "farmer").send("有没有柑橘保鲜的成果可以转让").text


def test_enterprise_finds_talent_by_field_then_posts_it_as_a_need(desk, engine):
    zhang = Chat(desk, "zhang")
    register(
        zhang,
        "我是四川农业大学的，做发酵工程和农产品加工，眉山成都都能跑，电话13800000001，我叫张明",
    )
    zhang.send("我想组建一个团队，叫川味发酵团队")
    zhang.send("确认")
    boss = Chat(desk, "boss")
    found = boss.send("想找做发酵工程的专家团队").text
    assert "团队「川味发酵团队」" in found and "张明（四川农业大学）" in found
    assert not SEVEN_DIGITS.search(found)  # names and fields, never a contact
    # 发布需求: the need form opens with their words as the problem
    assert "请问在哪个地方" in boss.press("发布需求").text
    assert "联系电话" in boss.send("眉山东坡区").text


def test_a_described_company_keeps_its_place_and_lookups_inside_the_form_are_served(desk, engine):
    zhang = Chat(desk, "zhang")
    register(zhang, "我是做发酵工程的，眉山成都都能跑，电话13800000001，我叫张明")
    boss = Chat(desk, "boss")
    out = boss.send("你好 我们是眉山的一家泡菜厂 想找懂发酵的专家").text
    assert "地点：四川省眉山市" in out and "企业名称" not in out  # 眉山: the place, no name
    assert "联系电话" in out
    # 找人才 while the need is being written: the talent is shown, then the form goes on
    out = boss.send("找人才 食品发酵方向").text
    assert "张明" in out and not SEVEN_DIGITS.search(out.split("我们继续")[0])
    assert "我们继续发布企业技术需求" in out and "联系电话" in out.split("我们继续")[1]
