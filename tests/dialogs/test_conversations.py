"""Whole conversations: posting a need, registering as an expert, asking, subscribing."""

from __future__ import annotations

from sqlmodel import select

from dialogs.assistant import Assistant
from store.experts import ExpertProfile
from store.needs import Need
from store.order_tables import Order
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
    [order] = rows(assistant, Order)
    assert f"需求已发布（编号 {order.id}）" in out.text
    [need] = rows(assistant, Need)
    assert (need.crop, need.county, need.contact_phone, need.budget) == (
        "李",
        "翠屏区",
        "13800001234",
        5000,
    )
    assert need.category == "soil" and need.text == NEED
    assert order.status == "posted" and order.need_id == need.id


def test_everything_in_one_message_goes_straight_to_confirmation(chat: Chat, assistant: Assistant):
    out = chat.send("泸州合江的晚熟柑橘黄龙病严重，想请专家来看看，电话13800005678，预算一万五")
    confirm = out.replies[-1]
    assert confirm.text.startswith("请确认需求")  # no question asked: nothing was missing
    assert "· 电话：13800005678" in confirm.text and "· 预算：15000 元" in confirm.text
    assert confirm.button_labels() == ["确认", "修改", "取消"]
    assert "需求已发布" in chat.send("确认").text  # typed instead of pressed
    [need] = rows(assistant, Need)
    assert (need.crop, need.city, need.county, need.contact_phone, need.budget) == (
        "柑橘",
        "泸州市",
        "合江县",
        "13800005678",
        15000,
    )


def test_expert_registers_by_talking(assistant: Assistant):
    chat = Chat(assistant, "张老师")
    out = chat.send("我是农技站的，搞果树病虫害防治十几年了，泸州合江一带都能跑")
    assert "· 服务地区：四川省泸州市合江县" in out.text and "· 单位：农技站" in out.text
    assert out.replies[-1].text == "请问怎么称呼您？"
    assert chat.send("张建国").text.startswith("请留一个联系电话")
    assert chat.send("13900001111").text.startswith("您的职称是？")
    assert chat.buttons() == ["跳过", "取消"]  # organisation already known; title is optional
    out = chat.send("跳过")
    assert "请确认登记信息" in out.text and "· 称呼：张建国" in out.text
    out = chat.press("确认")
    assert out.text.startswith("登记成功！您擅长：病虫害防治；服务地区：四川省泸州市合江县。")
    [profile] = rows(assistant, ExpertProfile)
    assert profile.fields == ["病虫害防治"]
    assert (profile.organisation, profile.title) == ("农技站", "")
    assert profile.service_regions == [
        {"province": "四川省", "city": "泸州市", "county": "合江县"}
    ]
    user = next(u for u in rows(assistant, User) if u.external_id == "张老师")
    assert user.display_name == "张建国" and user.phone == "13900001111" and "expert" in user.roles


def test_question_answered_with_source_and_logged(chat: Chat, assistant: Assistant):
    out = chat.send("稻瘟病怎么防治？")
    assert "来源：《水稻稻瘟病的识别与防治》" in out.replies[0].text
    assert out.replies[-1].text == "要我帮您找专家吗？"  # a crop problem is also offered as a need
    assert chat.buttons() == ["有用", "没用", "找专家", "不用了"]
    out = chat.press("不用了")
    assert out.text == "好的，有需要随时找我。"
    assert rows(assistant, Need) == []
    [log] = rows(assistant, QuestionLog)
    assert (log.question, log.answered, log.top_hit) == (
        "稻瘟病怎么防治？",
        True,
        "grain-rice-blast",
    )


def test_unanswerable_question_offers_an_expert_and_becomes_a_need(
    chat: Chat, assistant: Assistant
):
    question = "我家天麻块茎上长了奇怪的红色小点点是什么原因"
    out = chat.send(question)
    assert out.text == "这个问题我在知识库里没有找到可靠的答案。要我帮您问问专家吗？"
    assert chat.buttons() == ["找专家", "不用了"]
    [log] = rows(assistant, QuestionLog)
    assert log.question == question and not log.answered
    out = chat.press("找专家")
    # the need form opens with the crop understood; the place is the first thing missing
    assert "· 作物：天麻" in out.text
    assert out.replies[-1].text.startswith("请问在哪个地方")
    out = chat.send("雅安名山区 13800002222")
    assert out.text.startswith("有大概的预算吗")
    out = chat.send("跳过")
    assert f"· 问题：{question}" in out.text and "· 地点：四川省雅安市名山区" in out.text
    out = chat.press("确认")
    assert "需求已发布" in out.text
    [need] = rows(assistant, Need)
    assert (need.crop, need.county, need.contact_phone, need.text) == (
        "天麻",
        "名山区",
        "13800002222",
        question,
    )


def test_subscribe_by_conversation(chat: Chat, assistant: Assistant):
    out = chat.send("以后有李子和柑橘的病虫害知识推送给我")
    assert out.text.startswith("已订阅：李病虫害、柑橘病虫害。")
    assert chat.buttons() == ["确认", "撤销"]
    out = chat.press("确认")
    assert out.text.startswith("订阅成功：李病虫害、柑橘病虫害。")
    assert {s.topic for s in rows(assistant, Subscription)} == {"李病虫害", "柑橘病虫害"}


def test_help_smalltalk_and_other(chat: Chat):
    assert chat.send("你能做什么").text.startswith("您好，我是天府科技助手。")
    assert chat.send("你好").text == "您好！有什么生产技术问题或科普问题，直接告诉我就行。"
    assert chat.send("谢谢").text == "不客气！还有问题随时问我。"
    assert chat.send("帮我写篇作文").text.startswith("这个我帮不上忙。")
    assert chat.buttons() == []


def test_english_locale(assistant: Assistant):
    chat = Chat(assistant, "visitor", locale="en")
    out = chat.send("量子计算机的原理是什么")
    assert out.text == (
        "I could not find a reliable answer in our knowledge base. Shall I ask an expert for you?"
    )
    assert chat.buttons() == ["Find an expert", "No, thanks"]


def test_start_offers_roles(chat: Chat, assistant: Assistant):
    out = chat.send("/start")
    assert "天府科技助手" in out.text
    assert chat.buttons() == ["我遇到技术问题，要找专家", "我是专家，登记接单", "我想问科普问题"]
    out = chat.press("我是专家，登记接单")
    assert out.text.startswith("您擅长哪些领域或技术？")
    assert chat.buttons() == ["取消"]
    chat.send("/start")
    out = chat.press("我遇到技术问题，要找专家")
    assert out.text.startswith("请简单描述一下遇到的问题")
    chat.send("/start")
    assert chat.press("我想问科普问题").text.startswith("请直接提问")
