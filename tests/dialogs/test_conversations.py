"""Whole conversations: posting a need, registering as an expert, asking, subscribing."""

from __future__ import annotations

from sqlmodel import select

from dialogs.assistant import Assistant
from store.experts import ExpertProfile
from store.needs import Need
from store.orders import Order
from store.questions import QuestionLog
from store.subscriptions import Subscription
from store.users import User
from tests.dialogs.chat import Chat

NEED = "我在宜宾翠屏区，李子园土壤酸化板结，果子产量低，想请专家来看看"


def rows(assistant: Assistant, model):  # type: ignore[no-untyped-def]
    with assistant.session_factory() as s:
        return list(s.exec(select(model)).all())


def test_need_posted_asking_only_for_what_is_missing(chat: Chat, assistant: Assistant):
    out = chat.send(NEED)
    assert "先看看这条资料" in out.text  # self-help at once
    assert "作物：李" in out.text and "四川省宜宾市翠屏区" in out.text  # understood
    assert "联系电话" in out.replies[-1].text  # the only missing required slot
    out = chat.send("13800001234，预算五千左右")
    assert "请确认需求" in out.text and "5000 元" in out.text
    assert chat.buttons() == ["确认", "修改", "取消"]
    out = chat.press("确认")
    assert "需求已发布" in out.text
    need = rows(assistant, Need)[0]
    assert (need.crop, need.county, need.contact_phone, need.budget) == (
        "李",
        "翠屏区",
        "13800001234",
        5000,
    )
    assert need.category == "soil" and need.text == NEED
    assert rows(assistant, Order)[0].status == "posted"


def test_everything_in_one_message_goes_straight_to_confirmation(chat: Chat, assistant: Assistant):
    out = chat.send("泸州合江的晚熟柑橘黄龙病严重，想请专家来看看，电话13800005678，预算一万五")
    assert "请确认需求" in out.replies[-1].text
    chat.send("确认")  # typed instead of pressed
    need = rows(assistant, Need)[0]
    assert (need.crop, need.city, need.county, need.budget) == ("柑橘", "泸州市", "合江县", 15000)


def test_expert_registers_by_talking(assistant: Assistant):
    chat = Chat(assistant, "张老师")
    out = chat.send("我是农技站的，搞果树病虫害防治十几年了，泸州合江一带都能跑")
    assert "泸州市合江县" in out.text
    assert "怎么称呼" in out.replies[-1].text
    chat.send("张建国")
    chat.send("13900001111")
    chat.send("跳过")  # organisation already known; title is optional
    out = chat.press("确认")
    assert "登记成功" in out.text
    profile = rows(assistant, ExpertProfile)[0]
    assert "病虫害防治" in profile.fields
    assert profile.service_regions == [
        {"province": "四川省", "city": "泸州市", "county": "合江县"}
    ]
    user = next(u for u in rows(assistant, User) if u.external_id == "张老师")
    assert user.display_name == "张建国" and user.phone == "13900001111" and "expert" in user.roles


def test_question_answered_with_source_and_logged(chat: Chat, assistant: Assistant):
    out = chat.send("稻瘟病怎么防治？")
    assert "来源：《水稻稻瘟病的识别与防治》" in out.text
    assert "要我帮您找专家吗" in out.text  # a crop problem is also offered as a need
    out = chat.press("不用了")
    assert "有需要随时找我" in out.text
    log = rows(assistant, QuestionLog)
    assert log[0].answered and log[0].top_hit == "grain-rice-blast"


def test_unanswerable_question_offers_an_expert_and_becomes_a_need(
    chat: Chat, assistant: Assistant
):
    out = chat.send("我家天麻块茎上长了奇怪的红色小点点是什么原因")
    if "没有找到可靠的答案" in out.text:
        assert chat.buttons() == ["找专家", "不用了"]
    out = chat.press("找专家")
    assert "请问在哪个地方" in out.text or "联系电话" in out.text
    chat.send("雅安名山区 13800002222")
    chat.send("跳过")
    out = chat.press("确认")
    assert "需求已发布" in out.text
    assert rows(assistant, Need)[0].crop == "天麻"


def test_subscribe_by_conversation(chat: Chat, assistant: Assistant):
    out = chat.send("以后有李子和柑橘的病虫害知识推送给我")
    assert "请确认订阅" in out.text and "李" in out.text and "柑橘" in out.text
    out = chat.press("确认")
    assert "订阅成功" in out.text
    assert {s.topic for s in rows(assistant, Subscription)} == {"李", "柑橘", "病虫害"}


def test_help_smalltalk_and_other(chat: Chat):
    assert "天府科技助手" in chat.send("你能做什么").text
    assert "您好" in chat.send("你好").text
    assert "不客气" in chat.send("谢谢").text
    assert "帮不上忙" in chat.send("帮我写篇作文").text


def test_english_locale(assistant: Assistant):
    chat = Chat(assistant, "visitor", locale="en")
    out = chat.send("量子计算机的原理是什么")
    assert "Shall I ask an expert" in out.text


def test_start_offers_roles(chat: Chat, assistant: Assistant):
    out = chat.send("/start")
    assert "天府科技助手" in out.text
    assert chat.buttons() == ["我遇到技术问题，要找专家", "我是专家，登记接单", "我想问科普问题"]
    out = chat.press("我是专家，登记接单")
    assert "擅长哪些领域" in out.text
    chat.send("/start")
    out = chat.press("我遇到技术问题，要找专家")
    assert "描述一下遇到的问题" in out.text
    chat.send("/start")
    assert "直接提问" in chat.press("我想问科普问题").text
