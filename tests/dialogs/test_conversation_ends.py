"""Conversations that reach the end a careful product reaches (issue 14 item 6): a need
given up on (in the form or after posting), and the turns that used to keep a form open."""

from __future__ import annotations

from sqlmodel import select

from dialogs import forms
from dialogs.answers import name_answer
from dialogs.form_reading import updates_from
from dialogs.form_specs import NEED
from dialogs.form_steps import Ask
from dialogs.form_words import cancels
from dialogs.nlu.commands import OrderVerb, order_command
from dialogs.nlu.intents import understand
from dialogs.nlu.slots import extract
from dialogs.state import ConversationState, FormState
from store.conversations import load_state
from store.experts import ExpertProfile
from store.needs import Need
from store.order_tables import Order
from store.users import User
from tests.dialogs.chat import Chat
from tests.dialogs.test_orders import ASKED_TITLE, EXPERTS, post_need


def test_giving_up_among_other_words_cancels():
    for text in (
        "算了 不要了 我去问隔壁老王",
        "哦 不消了 隔壁帮我弄好了 不用发了",
        "我在网上问到办法了 这个就不麻烦你们了",
        "邻居帮我弄好了",
        "邻居帮我弄好了 不要了",
    ):
        assert cancels(text), text
    for text in (
        "算了 我想找个专家来看看",  # 算了 dismisses something else: they still want help
        "自己弄好了 但是过两天又犯了",  # solved once, back again: still a need
        "算了 电话13800001111",
        "不要了 我要换成柑橘",
        "我打了药 邻居说弄好了要观察",
    ):
        assert not cancels(text), text


def test_given_up_inside_the_form_posts_nothing(assistant):
    chat = Chat(assistant, "老刘")
    chat.send("鸡子脚杆肿了走不动 找个兽医")
    chat.send("在忠县")  # the phone is asked next
    out = chat.send("哦 不消了 隔壁帮我弄好了 不用发了")
    assert "已取消" in out.text and "电话" not in out.text
    with assistant.session_factory() as s:
        assert s.exec(select(Order)).all() == []
        state = load_state(session=s, channel=chat.channel, external_id=chat.user)
    assert ConversationState.from_json(state).form is None


def test_solved_after_posting_offers_to_withdraw_and_tells_the_experts(assistant):
    chats = {}
    for name, intro in EXPERTS:
        chats[name] = Chat(assistant, name)
        chats[name].send(intro)
        if name in ASKED_TITLE:
            chats[name].send("跳过")
        assert "登记成功" in chats[name].press("确认").text
    chats["老王"] = Chat(assistant, "老王")
    order_id, outbound = post_need(chats)
    offered = {m.external_id for m in outbound}
    out = chats["老王"].send("邻居帮我弄好了 不要了")
    assert out.text.startswith(f"您的需求 #{order_id}《我在宜宾翠屏区")
    assert "要撤销这条需求吗" in out.text
    out = chats["老王"].send("是")
    assert "已取消" in out.text
    told = {m.external_id for m in out.outbound if "已被需求方取消" in m.text}
    assert told == offered
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).status == "cancelled"
        assert len(s.exec(select(Order)).all()) == 1  # no new need was opened


def test_the_place_said_not_to_be_meant_is_not_taken_and_fa_ma_posts(assistant):
    chat = Chat(assistant, "老谭")
    chat.send("我的洋芋叶子发黑 烂得快得很 要个专家")
    chat.send("宣汉县")
    out = chat.send("哦说错了 是开江县 不是宣汉")
    assert "已改为：地点 四川省达州市开江县" in out.text
    chat.send("15000052937")
    out = chat.send("不晓得")
    assert "请确认需求" in out.text
    out = chat.send("发嘛")  # 嘛 makes it no question: the summary is confirmed
    assert "需求已发布" in out.text
    with assistant.session_factory() as s:
        assert len(s.exec(select(Order)).all()) == 1


def test_a_denied_place_before_the_meant_one_is_skipped_too():
    parse = extract("不是江津 是永川")
    got = updates_from(NEED, parse, "不是江津 是永川", "phone")
    assert got["region"]["county"] == "永川区"
    parse = extract("在永川 不在江津")
    got = updates_from(NEED, parse, "在永川 不在江津", "region")
    assert got["region"]["county"] == "永川区"


def _profile(assistant, who: str) -> tuple[User, ExpertProfile]:
    with assistant.session_factory() as s:
        user = s.exec(select(User).where(User.external_id == who)).one()
        profile = s.exec(select(ExpertProfile).where(ExpertProfile.user_id == user.id)).one()
        return user, profile


def test_sign_up_answered_in_the_order_the_expert_chose(assistant):
    """Name, unit and title given while skills and areas are asked: each kept where it
    belongs, none taken for a skill, none refused as no place."""
    chat = Chat(assistant, "张研究员")
    chat.send("我想注册成专家")
    assert "已记下：称呼 张德明" in chat.send("我叫张德明").text
    out = chat.send("四川省农业科学院植物保护研究所")
    assert "已记下：单位 四川省农业科学院植物保护研究所" in out.text
    assert "已记下：职称 副研究员" in chat.send("副研究员").text
    chat.send("水稻病虫害防治、小麦条锈病监测")
    chat.send("新津区和彭山区")
    out = chat.send("13800058830")
    assert "请确认登记信息" in out.text
    assert "植物保护" not in out.text.split("擅长领域：")[1].split("\n")[0]
    assert "登记成功" in chat.send("确认").text
    user, profile = _profile(assistant, "张研究员")
    assert user.display_name == "张德明"
    assert profile.organisation == "四川省农业科学院植物保护研究所"
    assert "小麦条锈病监测" in profile.fields


def test_more_skills_at_the_area_question_are_kept_as_said(assistant):
    chat = Chat(assistant, "周大富")
    chat.send("想当专家帮人看猪病")
    out = chat.send("职称没得")  # a none answer naming the title, reading like a question
    assert "职称不填" in out.text and "来源" not in out.text
    out = chat.send("猪病防治 母猪配种")
    assert "已改为：擅长领域 猪病防治、母猪配种" in out.text
    assert "您能服务哪些地方" in out.text


def test_units_titles_and_a_name_after_the_title_are_read():
    got = extract(
        "我是汉源县农业农村局高级农艺师杨国平主要搞花椒栽培和花椒病虫害防治服务汉源石棉两个县"
    )
    assert (got.name, got.organisation, got.title) == ("杨国平", "汉源县农业农村局", "高级农艺师")
    got = extract("我叫陈秀兰 重庆市畜牧技术推广总站的 高级畜牧师 主要做生猪养殖")
    assert (got.organisation, got.title) == ("重庆市畜牧技术推广总站", "高级畜牧师")
    assert extract("本人张敏，在川西食品研究院工作").organisation == "川西食品研究院"


def test_a_yes_naming_the_withdrawal_withdraws_the_need(assistant):
    for n, said in enumerate(("是的 取消", "要得 取消嘛", "撤销吧")):
        chat = Chat(assistant, f"老周{n}")
        order_id, _ = post_need({"老王": chat})
        assert "要撤销这条需求吗" in chat.send("我自己解决了 不用专家来了").text
        out = chat.send(said)
        assert "要撤销这条需求吗" not in out.text, said
        with assistant.session_factory() as s:
            assert s.get(Order, order_id).status == "cancelled", said


def test_a_yes_with_thanks_accepts_the_offer_of_an_expert(assistant):
    chat = Chat(assistant, "老罗")
    out = chat.send("稻子穗子上长墨绿色的球球是啥子病哦")
    assert "要我帮您找专家吗" in out.text
    chat.send("要得 谢谢老师")
    with assistant.session_factory() as s:
        state = load_state(session=s, channel=chat.channel, external_id=chat.user)
    assert ConversationState.from_json(state).form is not None


def test_a_change_naming_the_old_value_takes_the_new_one(assistant):
    """ "不是梨子 是苹果", "是江安 南溪是我娘家", "一千太少 改成三千": the value meant is the one
    that differs from what was given, wherever it stands in the message."""
    chat = Chat(assistant, "老简")
    chat.send("梨子树叶子上长黑斑 落叶多 请个专家")
    out = chat.send("搞错了 不是梨子 是苹果树")
    assert "已改为：作物 苹果" in out.text
    chat.send("南溪区")
    out = chat.send("不对 是江安 南溪是我娘家那边")
    assert "已改为：地点 四川省宜宾市江安县" in out.text
    chat.send("13900052210")
    chat.send("一千")
    out = chat.send("一千怕太少了 还是改成三千")
    assert "预算：3000 元" in out.text
    assert "需求已发布" in chat.send("确认").text
    with assistant.session_factory() as s:
        need = s.exec(select(Need)).one()
    assert (need.crop, need.county, need.budget) == ("苹果", "江安县", 3000)


def test_a_phone_corrected_by_its_last_digits(assistant):
    chat = Chat(assistant, "老吕")
    chat.send("魔芋叶子烂 找专家 在旺苍县")
    chat.send("一三九零零零五二二一八")
    out = chat.send("号码打错了 尾号应该是8821")
    assert "13900058821" in out.text


def test_help_from_someone_else_narrated_gives_up(assistant):
    assert cancels("隔壁请的兽医已经帮我看好了 这个就不用了")
    assert cancels("那个需求就不要了")
    assert not cancels("算了 三千太少了 改成五千")
    chat = Chat(assistant, "老郑")
    order_id, _ = post_need({"老王": chat})
    out = chat.send("村上请的农技员顺便帮我看过了 药也打了 不要了")
    assert "要撤销这条需求吗" in out.text
    chat.send("嗯 撤了")
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).status == "cancelled"


def test_a_name_answered_with_its_label_is_the_name_alone():
    assert name_answer("名字叫阿木日哈") == "阿木日哈"
    assert name_answer("我的名字是格桑") == "格桑"


def test_a_need_named_by_its_number_and_withdrawn(assistant):
    for text, order_id in (("4001不要了", 4001), ("1号需求不要了", 1), ("#3 不用了", 3)):
        cmd = order_command(text)
        assert cmd is not None and (cmd.verb, cmd.order_id) == (OrderVerb.CANCEL, order_id)
    chat = Chat(assistant, "老孟")
    order_id, _ = post_need({"老王": chat})
    out = chat.send(f"{order_id}号需求不要了")
    assert f"需求 #{order_id} 已取消" in out.text
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).status == "cancelled"


def test_help_already_fetched_by_a_neighbour_gives_up():
    # 帮我请了 tells what was done, it asks for nothing; 已经弄好了 is solved
    assert cancels("邻居帮我请了镇上的兽医 已经弄好了 这个需求不要了")
    assert not cancels("我想请个兽医 这个不要了")


def test_a_phone_corrected_at_the_budget_question_leaves_the_budget_asked():
    slots = {"problem": "中蜂幼虫死了", "region": {"province": "四川省"}, "phone": "13900037524"}
    state = FormState("need", slots, awaiting="budget")
    text = "哎呀打错了 最后两位是42 是13900037542"
    step = forms.step(state, understand(text), text)
    assert step.state.slots["phone"] == "13900037542"
    assert "budget" not in step.state.slots
    assert isinstance(step, Ask) and step.slot == "budget"


def test_the_old_crop_denied_then_the_new_one_corrects_at_the_phone_question():
    slots = {"problem": "花椒树上好多虫", "crop": "花椒", "region": {"province": "四川省"}}
    state = FormState("need", slots, awaiting="phone")
    text = "哦 不是花椒 是樱桃树 打错了 花椒没得事"
    step = forms.step(state, understand(text), text)
    assert step.state.slots["crop"] == "樱桃"
    assert isinstance(step, Ask) and step.slot == "phone" and step.changed == ("crop",)
