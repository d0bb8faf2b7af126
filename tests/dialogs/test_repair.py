"""Repair, each on purpose: correction, cancel, skip, digression, clarification, help, handoff,
restart mid-form, and hostile input."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from dialogs.assistant import Assistant
from dialogs.state import ConversationState as Conversation
from store.conversations import ConversationState
from store.experts import ExpertProfile
from store.needs import Need
from store.order_tables import OrderEvent
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat

NEED = "我在宜宾翠屏区，李子园土壤酸化板结，果子产量低，想请专家来看看，电话13800001234"


def count(assistant: Assistant, model) -> int:  # type: ignore[no-untyped-def]
    with assistant.session_factory() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def state(assistant: Assistant, user: str) -> Conversation:
    """The saved conversation state, as the assistant reads it back."""
    with assistant.session_factory() as s:
        row = s.exec(
            select(ConversationState).where(ConversationState.external_id == user)
        ).first()
        return Conversation.from_json(dict(row.data) if row else {})


def test_correction_changes_only_the_region(chat: Chat, assistant: Assistant):
    chat.send(NEED)
    chat.send("跳过")  # budget
    before = state(assistant, "老王").form.slots
    out = chat.send("不对，是在泸州")
    assert out.replies[0].text == "已改为：地点 四川省泸州市。"
    after = state(assistant, "老王").form.slots
    assert after["region"] == {"province": "四川省", "city": "泸州市", "county": ""}
    assert {k: v for k, v in after.items() if k != "region"} == {
        k: v for k, v in before.items() if k != "region"
    }


def test_cancel_forgets_the_form_and_writes_nothing(chat: Chat, assistant: Assistant):
    chat.send(NEED)
    out = chat.send("算了")
    assert "已取消" in out.text
    assert state(assistant, "老王").form is None
    assert count(assistant, Need) == 0
    assert "没有进行中" in chat.send("取消").text


def test_stop_phrases_cancel_at_any_step_of_any_form(assistant: Assistant):
    """Console finding: "算了不订了" at the subscription was read as unsubscribing from a
    topic "不订"; "我不要了" at the phone question as unsubscribing too."""
    subscriber = Chat(assistant, "读者")
    subscriber.send("订阅辣椒")
    out = subscriber.send("算了不订了")
    assert out.text.startswith("好的，这次的订阅已撤销") and "不订" not in out.text
    assert subscriber.topics() == [] and state(assistant, "读者").form is None
    farmer = Chat(assistant, "老李")
    farmer.send("我家猪拉稀 想请兽医来看")
    farmer.send("荣县")
    assert farmer.send("我不要了").text.startswith("好的，已取消")
    expert = Chat(assistant, "小周")
    expert.send("我想注册专家")
    expert.send("柑橘栽培")
    expert.send("合江")
    assert expert.send("还是不登记了吧").text.startswith("好的，已取消")
    for who in ("老李", "小周"):
        assert state(assistant, who).form is None
    assert count(assistant, Need) == 0 and count(assistant, ExpertProfile) == 0


def test_a_subscription_is_saved_at_once_and_a_cancel_undoes_only_it(chat: Chat):
    chat.send("订阅养猪的消息")
    chat.send("确认")
    out = chat.send("订阅辣椒")
    assert out.text.startswith("已订阅：辣椒。") and chat.buttons() == ["确认", "撤销"]
    assert chat.topics() == ["猪", "辣椒"]
    assert chat.send("只要李子").text.startswith("已订阅：李。")  # narrowed, not unsubscribing
    assert chat.topics() == ["猪", "李"]
    assert chat.press("撤销").text.startswith("好的，这次的订阅已撤销")
    assert chat.topics() == ["猪"]  # what was followed before stays
    chat.send("订阅柑橘")
    chat.send("稻瘟病怎么防治")  # a question after subscribing: answered, the form is done
    assert chat.topics() == ["猪", "柑橘"]
    assert state(chat.assistant, chat.user).form is None
    out = chat.send("不订了")  # nothing open: about the saved subscriptions
    assert out.text.startswith("已退订全部科普推送") and chat.topics() == []


def test_another_task_said_clearly_lets_the_form_go(chat: Chat, assistant: Assistant):
    chat.send("我家柑橘叶子发黄 想找专家")
    chat.send("泸州合江")
    out = chat.send("我要登记专家")
    assert out.replies[0].text.startswith("刚才的发布需求先放一放，没有保存。")
    assert out.replies[-1].text.startswith("您擅长哪些领域")
    assert state(assistant, "老王").form.name == "expert"
    chat.send("算了")
    chat.send("我家柑橘叶子发黄 想找专家")
    chat.send("泸州合江")
    chat.send("我想订阅柑橘病虫害")
    assert chat.topics() == ["柑橘病虫害"] and count(assistant, Need) == 0


def test_corrections_anywhere_name_their_slot_and_are_said_back(assistant: Assistant):
    farmer = Chat(assistant, "老柑")
    for answer in ("我家柑橘叶子发黄 想找专家", "泸州合江"):
        farmer.send(answer)
    out = farmer.send("作物不对 是橙子")  # 橙子 is 柑橘: said back, not read as a bad phone
    assert out.text.startswith("已改为：作物 柑橘。\n请留一个联系电话")
    farmer.send("13800011111")
    out = farmer.send("我也不晓得好多钱")
    assert out.text.startswith("好的，跳过。\n请确认需求")
    out = farmer.send("不对 问题是叶子发黄还掉果")
    assert out.text.startswith("已改为：问题 叶子发黄还掉果。")
    assert "· 作物：柑橘" in out.text and "· 电话：13800011111" in out.text
    boss = Chat(assistant, "王经理")
    for answer in ("我们是达州巴山农机制造厂，想在平台登记企业", "农机制造", "王经理"):
        boss.send(answer)
    boss.send("13900011122")
    out = boss.send("不对 行业是农机销售")  # at the size question
    assert out.text.startswith("已改为：行业 农机销售。\n企业规模")
    out = boss.send("没得")
    out = boss.send("联系人写错了 应该是王大明")
    assert out.text.startswith("已改为：联系人 王大明。") and "· 行业：农机销售" in out.text


def test_skip_optional_but_not_required(chat: Chat, assistant: Assistant):
    chat.send("我家猪不吃食还发烧，想请兽医来看看")
    out = chat.send("跳过")  # region is required
    assert "必须填写" in out.text and "哪个地方" in out.text
    chat.send("荣昌")
    out = chat.send("13800003333")
    assert "预算" in out.replies[-1].text
    out = chat.press("跳过")
    assert "请确认需求" in out.text and "预算" not in out.replies[-1].text


def test_confirm_at_an_optional_question_posts_and_is_never_the_answer(
    chat: Chat, assistant: Assistant
):
    from store.experts import ExpertProfile

    expert = Chat(assistant, "张老师")
    out = expert.send(
        "我是农技站的，搞果树病虫害防治十几年了，宜宾翠屏一带都能跑，电话13900001111，我叫张建国"
    )
    assert "您的职称是" in out.text
    assert "登记成功" in expert.send("确认").text
    with assistant.session_factory() as s:
        profile = s.exec(select(ExpertProfile)).one()
        assert profile.title == ""  # "确认" was not taken as the title
    out = chat.send(NEED)
    assert "预算" in out.text  # optional budget question
    assert "需求已发布" in chat.send("好的").text
    assert count(assistant, Need) == 1


def test_digression_is_answered_then_the_form_resumes(chat: Chat, assistant: Assistant):
    chat.send("我家猕猴桃溃疡病很严重，想请专家上门")
    awaiting = state(assistant, "老王").form.awaiting
    out = chat.send("发芽的土豆能吃吗？")
    assert "来源：" in out.text and "发芽" in out.text
    assert "我们继续发布需求" in out.text
    st = state(assistant, "老王")
    assert st.form.name == "need" and st.form.awaiting == awaiting
    assert st.form.slots["crop"] == "猕猴桃"


def test_ambiguous_county_is_clarified(chat: Chat, assistant: Assistant):
    chat.send("我的茶园茶小绿叶蝉多，想找专家指导")
    out = chat.send("鼓楼区")
    assert out.text.startswith("有几个地方都叫这个名字，您说的是哪一个？\n1. 江苏省南京市鼓楼区")
    assert chat.buttons() == [
        "江苏省南京市鼓楼区",
        "江苏省徐州市鼓楼区",
        "河南省开封市鼓楼区",
        "福建省福州市鼓楼区",
    ]
    out = chat.send("2")
    slots = state(assistant, "老王").form.slots
    assert slots["region"] == {"province": "江苏省", "city": "徐州市", "county": "鼓楼区"}
    assert out.text.startswith("请留一个联系电话")


def test_help_inside_a_form_then_the_same_question(chat: Chat, assistant: Assistant):
    chat.send("我家猪不吃食还发烧，想请兽医来看看")
    out = chat.send("帮助")
    assert "我们正在发布需求" in out.text and "算了" in out.text
    assert "哪个地方" in out.replies[-1].text


def test_handoff_to_experts(chat: Chat, assistant: Assistant):
    chat.send(NEED)
    out = chat.send("别问了直接找专家")
    assert out.text.startswith("请确认需求")  # the optional budget is no longer asked
    assert "预算" not in out.text and chat.buttons() == ["确认", "修改", "取消"]
    assert "需求已发布" in chat.press("确认").text
    assert count(assistant, Need) == 1


def test_bad_phone_is_refused_clearly(chat: Chat, assistant: Assistant):
    chat.send("我家猪不吃食还发烧，想请兽医来看看 荣昌")
    out = chat.send("12345678")
    assert "不像有效的电话号码" in out.text
    assert state(assistant, "老王").form.awaiting == "phone"


def test_restart_mid_form_resumes(engine, kb_index):

    first = make_assistant(engine, kb_index)
    Chat(first, "老李").send("我家猪不吃食还发烧，想请兽医来看看")
    # a new process: new assistant, same database
    second = make_assistant(engine, kb_index)
    chat = Chat(second, "老李")
    out = chat.send("荣昌")
    assert "联系电话" in out.text
    out = chat.send("13800004444")
    out = chat.send("跳过")
    assert "请确认需求" in out.text and "重庆市荣昌区" in out.text


EMPTY = "没有收到文字内容。"
TOO_LONG = "消息太长了（10000 字）。"
NO_TEXT = "我暂时只能看懂文字。"
OTHER = "这个我帮不上忙。"
NO_REGION = "没听出具体地点。"
# (input, the reply outside a form, the reply while a need form waits for the place)
HOSTILE = [
    ("", EMPTY, EMPTY),
    ("   \n\t  ", EMPTY, EMPTY),
    ("长" * 10_000, TOO_LONG, TOO_LONG),
    ("😀😀😀🐷🐷", NO_TEXT, NO_TEXT),
    ("\x00\x01\x02\x1b[31m", OTHER, NO_REGION),
    ("<script>alert('x')</script>", OTHER, NO_REGION),
    ("**粗体** [链接](http://example.com) <b>标签</b>", OTHER, NO_REGION),
    ("'; DROP TABLE users; --", OTHER, NO_REGION),
    ("1 OR 1=1; SELECT * FROM needs", OTHER, NO_REGION),
]


@pytest.mark.parametrize(("text", "reply", "_in_form"), HOSTILE)
def test_hostile_input_gets_a_sensible_reply(
    chat: Chat, assistant: Assistant, text: str, reply: str, _in_form: str
):
    out = chat.send(text)
    assert len(out.replies) == 1 and out.text.startswith(reply)  # no internal error
    assert count(assistant, Need) == 0 and count(assistant, OrderEvent) == 0


def test_hostile_input_in_the_middle_of_a_form(chat: Chat, assistant: Assistant):
    chat.send("我家猪不吃食还发烧，想请兽医来看看")
    before = state(assistant, "老王")
    assert before.form.awaiting == "region"
    for text, _, reply in HOSTILE:
        out = chat.send(text)
        assert out.text.startswith(reply), text[:20]
    after = state(assistant, "老王")
    after.form.misses = 0  # counting the messages that did not help is its own business
    assert after == before  # nothing was taken as an answer
    assert count(assistant, Need) == 0
    assert "请留一个联系电话" in chat.send("荣昌").text  # the form carries on


@pytest.mark.parametrize("fix", ["不对 是南溪区旁边的江安", "不是南溪 是江安"])
def test_a_place_correction_means_its_last_place(chat: Chat, assistant: Assistant, fix: str):
    chat.send("我家苞谷叶子上好多虫 想请个专家来看下")
    chat.send("我在宜宾南溪")
    assert "已改为：地点 四川省宜宾市江安县。" in chat.send(fix).text
    assert state(assistant, "老王").form.slots["region"]["county"] == "江安县"
