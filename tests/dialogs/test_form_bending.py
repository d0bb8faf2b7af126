"""Forms that bend to how people answer (issue 14): expert sign-up answered out of order,
skills named in passing, none answers for a unit or a title, corrections at free-text
questions; and the slot readings those rest on."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import select

from dialogs import forms as engine
from dialogs.assistant import Assistant
from dialogs.form_reading import updates_from
from dialogs.form_specs import EXPERT, SKIPPED
from dialogs.form_words import CONFIRM, cancels
from dialogs.nlu.commands import order_command
from dialogs.nlu.intents import is_question_shaped, understand
from dialogs.nlu.slots import extract
from dialogs.state import FormState
from store.experts import ExpertProfile
from store.users import User
from tests.dialogs.chat import Chat


def _expert(assistant: Assistant, who: str) -> tuple[User, ExpertProfile]:
    with assistant.session_factory() as s:
        user = s.exec(select(User).where(User.external_id == who)).one()
        profile = s.exec(select(ExpertProfile).where(ExpertProfile.user_id == user.id)).one()
        return user, profile


# ---- whole sign-ups through the assistant ---------------------------------------------------
def test_sign_up_answered_out_of_order_keeps_every_answer(assistant: Assistant):
    chat = Chat(assistant, "老何")
    out = chat.send("我是兽医 想在你们这接活 牛羊的病都看 服务理塘 巴塘")
    assert "· 称呼：" not in out.text  # 兽医 is what they are, not their name
    assert "请问怎么称呼您？" in out.text
    out = chat.send("13800033333")  # the phone, before the name: kept and said back
    assert out.text == "好的，已记下：电话 13800033333。\n请问怎么称呼您？"
    out = chat.send("何国庆")
    assert out.text.startswith("您在哪个单位？")
    out = chat.send("个人干 没有单位的")
    assert out.text.startswith("好的，跳过。") and "职称" in out.text
    out = chat.send("没评过职称")
    assert "请确认登记信息" in out.text and "· 单位" not in out.text and "· 职称" not in out.text
    chat.send("确认")
    user, profile = _expert(assistant, "老何")
    assert (user.display_name, user.phone) == ("何国庆", "13800033333")
    assert (profile.organisation, profile.title) == ("", "")
    assert {r["county"] for r in profile.service_regions} == {"理塘县", "巴塘县"}


def test_skills_said_at_the_area_question_are_added_not_refused(assistant: Assistant):
    chat = Chat(assistant, "老邓")
    chat.send("想当专家 帮养鸡的看鸡病")
    out = chat.send("养鸡 家禽养殖 干了十几年了")
    assert "没听出具体地点" not in out.text
    assert out.replies[-1].text.startswith("您能服务哪些地方？")
    for answer in ("蓬安 营山", "邓小林", "15000012312", "跳过", "跳过", "确认"):
        chat.send(answer)
    _, profile = _expert(assistant, "老邓")
    assert "鸡病防治" in profile.fields and "家禽养殖" in profile.fields


def test_a_correction_at_the_unit_question_changes_the_area(assistant: Assistant):
    chat = Chat(assistant, "小吴")
    for answer in ("注册专家 柑橘病虫害防治", "服务江津 綦江", "吴晓东", "13900077777"):
        chat.send(answer)
    out = chat.send("不对 服务地区是江津和永川")
    assert "已改为：服务地区 重庆市江津区、重庆市永川区" in out.text
    assert out.replies[-1].text.startswith("您在哪个单位？")  # asked again, not answered


def test_a_bare_no_at_the_summary_is_no_question(chat: Chat):
    for answer in ("我要当专家", "茶叶加工", "名山", "13800055555", "陈明", "跳过", "跳过"):
        chat.send(answer)
    out = chat.send("没有")
    assert "来源：" not in out.text and "请确认登记信息" in out.text


def test_a_skill_in_own_words_is_kept_and_later_answers_fill_their_own_slots(
    assistant: Assistant,
):
    """Console finding: "会看蔬菜病虫害" was no field, so the question came back and then
    swallowed the name, the phone and "没有职称" until the expert gave up."""
    chat = Chat(assistant, "老张")
    chat.send("我想登记成为专家")
    out = chat.send("会看蔬菜病虫害")
    assert out.text.startswith("您能服务哪些地方？")  # the skill is kept, the next question
    out = chat.send("张建国")
    assert out.text.startswith("好的，已记下：称呼 张建国。\n您能服务哪些地方？")
    out = chat.send("13800012345")
    assert out.text.startswith("好的，已记下：电话 13800012345。\n您能服务哪些地方？")
    out = chat.send("没有职称")
    assert out.text.startswith("好的，职称不填。\n您能服务哪些地方？")
    assert "必须填写" not in out.text
    out = chat.send("成都郫都区")
    assert out.text.startswith("您在哪个单位？")  # name, phone and title are not asked again
    out = chat.send("没有单位")
    assert "请确认登记信息" in out.text and "· 擅长领域：蔬菜病虫害" in out.text
    chat.send("确认")
    user, profile = _expert(assistant, "老张")
    assert (user.display_name, user.phone) == ("张建国", "13800012345")
    assert profile.fields == ["蔬菜病虫害"] and profile.title == ""
    assert [r["county"] for r in profile.service_regions] == ["郫都区"]


def test_none_for_a_title_at_the_summary_drops_the_title(assistant: Assistant):
    chat = Chat(assistant, "小刘")
    for answer in ("我是农技员 想注册专家", "会看点蔬菜的病虫害", "彭州", "刘强", "13800012346"):
        chat.send(answer)
    out = chat.send("没有单位")
    assert "· 职称：农技员" in out.text
    out = chat.send("没有职称")
    assert out.text.startswith("好的，职称不填。\n请确认登记信息")
    assert "· 职称" not in out.text
    chat.send("确认")
    _, profile = _expert(assistant, "小刘")
    assert (profile.title, profile.fields) == ("", ["蔬菜的病虫害"])


# ---- the readings underneath -----------------------------------------------------------------
def test_skills_said_in_own_words():
    for text, awaiting, fields in (
        ("会看蔬菜病虫害", "fields", ["蔬菜病虫害"]),
        ("蔬菜病虫害都能看", "fields", ["蔬菜病虫害"]),
        ("会看蔬菜病虫害 郫都区一带都跑", "fields", ["蔬菜病虫害"]),
        ("我是专家 会看蔬菜病虫害", None, ["蔬菜病虫害"]),  # the first message
        ("果树栽培、病虫害防治", "fields", ["果树栽培", "病虫害防治"]),
    ):
        got = updates_from(EXPERT, extract(text), text, awaiting)
        assert got.get("fields") == fields, text
    for text, awaiting in (
        ("我想登记成为专家", None),
        ("没有职称", "fields"),
        ("张建国", "fields"),
    ):
        got = updates_from(EXPERT, extract(text), text, awaiting)
        assert "fields" not in got, text


def test_stop_phrases_cancel_and_answers_do_not():
    for text in (
        "算了不订了",
        "不订了",
        "我不要了",
        "先不弄了",
        "不想登记了",
        "下次再说吧",
        "算球了",
        "那算了 不找了",
        "还是不登记了吧",
        "我自己解决了 不用专家来了",
    ):
        assert cancels(text), text
    for text in (
        "算了 我想找个专家来看看",
        "养鸡的不要了 只要猪",
        "不对",
        "不知道",
        "没有",
        "不用",
        "不填了",
        "不晓得",
    ):
        assert not cancels(text), text


def test_confirm_words_people_use_at_a_summary():
    confirms = ("确认", "好了 发吧", "可以了", "就这样吧", "没错", "对头", "是的 提交", "没得问题")
    for text in (*confirms, "莫得毛病"):
        assert CONFIRM.match(text), text
    for text in ("好了没有", "就这样 不要了", "不对", "有问题"):
        assert not CONFIRM.match(text), text


def test_who_someone_is_or_where_they_are_from_is_no_name():
    for text, place in (
        ("我是会理的 石榴种了二十年", "会理市"),
        ("我是石柱的 种黄连的", "石柱土家族自治县"),
    ):
        slots = extract(text)
        assert slots.name == "" and slots.place is not None and slots.place.county == place
    assert extract("我是农技员 会看果树").name == ""
    assert extract("我叫赵永福 在宜宾").name == "赵永福"


def test_skills_are_made_of_a_crop_or_disease_and_what_is_done_to_it():
    assert extract("懂猕猴桃修剪和溃疡病防治").fields == ["猕猴桃修剪", "溃疡病防治"]
    assert "牛病防治" in extract("会看牛病").fields
    assert extract("种了十亩猕猴桃").fields == []


def test_a_home_place_name_is_no_crop_and_a_unit_places_only_below_province():
    assert extract("去稻城玩要注意啥").crops == []
    assert extract("四川农业大学的老师 可以指导茶园").place is None
    slots = extract("单位是泸州市农科所 会看水稻病")
    assert slots.place is not None and slots.place.city == "泸州市"
    assert extract("全川都可以上门").place is not None


def test_several_places_name_no_single_county():
    public = understand("可以服务通江 南江 平昌").slots.as_public()
    assert public["city"] == "巴中市" and "county" not in public


def test_none_answers_name_their_slot():
    state = FormState("expert", {"fields": ["养蜂"]}, awaiting="title")
    step = engine.step(state, understand("单位也没有"), "单位也没有")
    assert step.state.slots["organisation"] == SKIPPED
    state = replace(state, awaiting="organisation")
    step = engine.step(state, understand("自己搞的 没得单位"), "自己搞的 没得单位")
    assert step.state.slots["organisation"] == SKIPPED


def test_bare_no_is_not_question_shaped():
    assert not is_question_shaped("没有")
    assert not is_question_shaped("不")
    assert is_question_shaped("还有没有")


def test_former_county_names_still_place_people():
    for old, county in (("郫县", "郫都区"), ("宜宾县", "叙州区"), ("灌县", "都江堰市")):
        slots = extract(f"我在{old}种了几亩菜")
        assert slots.place is not None and slots.place.county == county


def test_order_words_people_use_for_declining_and_withdrawing():
    declined = order_command("拒绝 41")
    assert declined is not None and (declined.verb, declined.order_id) == ("decline", 41)
    assert order_command("不接受这个价格") is None
    withdrawn = order_command("撤回我早上发的需求 写错了")
    assert withdrawn is not None and withdrawn.verb == "cancel"
    for said in ("取消需求", "取消我发的那条需求", "帮我取消一下需求"):
        cancel = order_command(said)
        assert cancel is not None and cancel.verb == "cancel", said
    assert order_command("取消订阅") is None
    assert understand("TD").intent == "unsubscribe"


def test_cancel_need_inside_the_need_form_stops_it(chat):
    chat.send("海椒烂根 请专家来看")
    out = chat.send("取消需求")
    assert "取消" in out.text and "地点" not in out.text and "地方" not in out.text
    assert "没有需求" in chat.send("我的需求").text or "还没有" in chat.last.text
