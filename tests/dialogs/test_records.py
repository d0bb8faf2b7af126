"""我的资料: an expert, an enterprise or a farmer sees what is stored about them in Chinese and
changes one field by saying so ("服务地区加上蒲江县", "电话改成139…")."""

from __future__ import annotations

import pytest
from sqlmodel import select

from dialogs.nlu.edits import EditOp, field_edit
from store.enterprises import Enterprise
from store.experts import ExpertProfile
from store.users import User
from tests.dialogs.chat import Chat


def _register_expert(chat: Chat) -> None:
    chat.send("我是农技站的 做柑橘病虫害防治 眉山东坡区都能跑 电话13800001234 我叫张建国")
    for _ in range(4):  # the optional unit and title, if asked
        if "请确认登记信息" in chat.text:
            break
        chat.send("跳过")
    assert "登记成功" in chat.send("确认").text


def _profile(chat: Chat) -> ExpertProfile:
    with chat.assistant.session_factory() as s:
        return s.exec(select(ExpertProfile)).one()


def _user(chat: Chat) -> User:
    with chat.assistant.session_factory() as s:
        return s.exec(select(User).where(User.external_id == chat.user)).one()


def test_an_expert_sees_the_expert_profile_and_edits_it_in_words(assistant) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(assistant, "张老师")
    _register_expert(chat)
    out = chat.send("我的资料")
    assert "专家资料（未认证）" in out.text
    assert "· 擅长领域：柑橘病虫害防治" in out.text and "· 作物：柑橘" in out.text
    assert "· 服务地区：四川省眉山市东坡区" in out.text and "13800001234" in out.text
    out = chat.send("服务地区加上蒲江县")
    assert out.text == "已改为：服务地区 四川省眉山市东坡区、四川省成都市蒲江县。"
    assert [r["county"] for r in _profile(chat).service_regions] == ["东坡区", "蒲江县"]
    out = chat.send("电话改成13900001111")
    assert out.text == "已改为：电话 13900001111。" and _user(chat).phone == "13900001111"
    out = chat.send("擅长再加一个猕猴桃")
    assert out.text.startswith("已改为：擅长领域 ") and "猕猴桃" in out.text
    assert "猕猴桃" in _profile(chat).crops and "猕猴桃" in _profile(chat).fields
    chat.send("职称改为高级农艺师")
    assert _profile(chat).title == "高级农艺师"
    chat.send("服务地区去掉东坡区")
    assert [r["county"] for r in _profile(chat).service_regions] == ["蒲江县"]
    out = chat.send("我的资料")  # the view shows what was changed
    assert "· 服务地区：四川省成都市蒲江县" in out.text and "· 职称：高级农艺师" in out.text


def test_bad_values_are_refused_and_nothing_changes(assistant) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(assistant, "张老师")
    _register_expert(chat)
    out = chat.send("电话改成12345")
    assert "不是有效的" in out.text and _user(chat).phone == "13800001234"
    out = chat.send("服务地区去掉东坡区")  # the only one: an expert serves somewhere
    assert "至少要保留一个服务地区" in out.text
    assert [r["county"] for r in _profile(chat).service_regions] == ["东坡区"]
    out = chat.send("服务地区加上火星")
    assert "没找到" in out.text


def test_a_farmer_changes_the_phone_and_sees_it(chat: Chat) -> None:
    assert "已改为：电话 13900001111" in chat.send("电话改成13900001111").text
    out = chat.send("我的资料")
    assert "· 称呼：老王；电话：13900001111" in out.text and "兴趣画像" in out.text
    # the next need is prefilled with it: the phone is not asked again
    out = chat.send("我在宜宾翠屏区，李子树流胶很严重，想请专家来看看")
    assert "13900001111" in out.text


def test_an_enterprise_sees_and_edits_its_record(assistant) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(assistant, "蜀香公司")
    chat.send("我们公司想登记企业信息")
    for answer in (
        "眉山蜀香泡菜食品有限公司",
        "食品加工",
        "眉山东坡区",
        "王经理",
        "13800003333",
        "50人",
    ):
        if "请确认" in chat.text:
            break
        chat.send(answer)
    chat.send("确认")
    with assistant.session_factory() as s:
        assert s.exec(select(Enterprise)).one().name == "眉山蜀香泡菜食品有限公司"
    out = chat.send("我的资料")
    assert "企业资料" in out.text and "· 企业名称：眉山蜀香泡菜食品有限公司" in out.text
    assert chat.send("行业改成调味品制造").text == "已改为：行业 调味品制造。"
    with assistant.session_factory() as s:
        assert s.exec(select(Enterprise)).one().industry == "调味品制造"


def test_someone_with_no_expert_profile_is_not_edited_but_understood(chat: Chat) -> None:
    out = chat.send("擅长再加一个猕猴桃")  # not an expert: no record to change
    assert "已改为" not in out.text


@pytest.mark.parametrize(
    ("text", "field", "op", "value"),
    [
        ("服务地区加上蒲江县", "service_regions", EditOp.ADD, "蒲江县"),
        ("把我的电话改成 139 0000 1111", "phone", EditOp.SET, "139 0000 1111"),
        ("擅长再加一个猕猴桃", "fields", EditOp.ADD, "猕猴桃"),
        ("删掉服务地区里的东坡区", "service_regions", EditOp.REMOVE, "东坡区"),
        ("名字写错了应该是周永红", "name", EditOp.SET, "周永红"),
        ("单位改为四川农业大学", "organisation", EditOp.SET, "四川农业大学"),
    ],
)
def test_edits_are_read_whatever_the_wording(
    text: str, field: str, op: EditOp, value: str
) -> None:
    edit = field_edit(text)
    assert edit is not None and (edit.field, edit.op, edit.value) == (field, op, value)


@pytest.mark.parametrize(
    "text", ["我的电话是多少", "我的领域是什么", "作物是柑橘叶子发黄怎么办", "我是农技专家"]
)
def test_questions_are_no_edits(text: str) -> None:
    assert field_edit(text) is None


# ---- a phone on its own ----------------------------------------------------------------------
def test_a_bare_phone_asks_what_it_is_for_and_a_yes_keeps_it(chat: Chat) -> None:
    out = chat.send("13900001111")
    assert "要把它存为您的联系电话吗" in out.text and "兴趣画像" not in out.text
    assert chat.buttons() == ["存为我的电话", "不用了"]
    assert _user(chat).phone is None  # nothing is saved unasked
    assert chat.send("好").text == "已改为：电话 13900001111。"
    assert _user(chat).phone == "13900001111"
    assert "已经是您的联系电话" in chat.send("139 0000 1111").text


def test_a_bare_phone_is_the_answer_where_one_is_asked(chat: Chat) -> None:
    chat.send("我在宜宾翠屏区，李子树流胶很严重，想请专家来看看")
    out = chat.send("13900001111")
    assert "存为您的联系电话" not in out.text and "预算" in out.text


def test_a_number_that_is_no_phone_is_said_so(chat: Chat) -> None:
    out = chat.send("1390000111")
    assert "不是有效的" in out.text and "兴趣画像" not in out.text
    out = chat.send("13900001111")
    chat.press("不用了")
    assert _user(chat).phone is None
