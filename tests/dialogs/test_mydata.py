"""/mydata shows a person everything stored about them; /delete_me erases it after asking."""

from __future__ import annotations

import json

from sqlmodel import select

from dialogs import mydata
from store.conversations import ConversationState
from store.needs import Need
from store.users import User
from tests.dialogs.chat import Chat

NEED = "我在宜宾翠屏区，李子树流胶很严重，想请专家来看看，电话13912345678"


def _post_need(chat: Chat) -> None:
    chat.send(NEED)
    for _ in range(6):
        if "确认" in chat.buttons():
            chat.press("确认")
            return
        chat.send("跳过")
    raise AssertionError(chat.text)


def test_mydata_shows_the_record_and_attaches_json(chat: Chat):
    _post_need(chat)
    chat.send("订阅 柑橘")
    if "确认" in chat.buttons():
        chat.press("确认")
    out = chat.send("/mydata")
    summary, document = out.replies
    assert "老王" in summary.text and "13912345678" in summary.text
    assert "【发布的需求】共 1 条" in summary.text and "柑橘" in summary.text
    assert document.document is not None and document.document[0].endswith(".json")
    data = json.loads(document.document[1])
    assert data["user"]["display_name"] == "老王"
    assert data["needs"][0]["contact_phone"] == "13912345678"
    assert len(data["orders_as_requester"]) == 1
    assert [s["topic"] for s in data["subscriptions"]] == ["柑橘"]
    assert "JSON" in document.text and "{" not in document.text  # a note, not the JSON


def test_the_export_in_chat_is_readable_chinese(chat: Chat):
    _post_need(chat)
    chat.send("稻瘟病怎么防治")
    out = chat.send("我的数据")
    shown = out.replies[0].text
    assert "· 称呼：老王；电话：13912345678" in shown
    assert "李子树流胶" in shown and "四川省宜宾市翠屏区" in shown  # the need itself
    assert "稻瘟病怎么防治" in shown  # the question asked
    for key in ("display_name", "contact_phone", "external_id", '"', "{", "null"):
        assert key not in shown  # no JSON, no English keys
    for reply in out.replies:
        assert not reply.text.lstrip().startswith("{")


def test_delete_me_asks_first_and_can_be_called_off(chat: Chat, assistant):  # type: ignore[no-untyped-def]
    _post_need(chat)
    out = chat.send("/delete_me")
    assert "无法恢复" in out.text and chat.buttons() == ["确认删除", "不删了"]
    chat.press("不删了")
    assert "保持不变" in chat.text
    with assistant.session_factory() as s:
        assert s.exec(select(User).where(User.display_name == "老王")).first() is not None


def test_delete_me_erases_the_person(chat: Chat, assistant):  # type: ignore[no-untyped-def]
    _post_need(chat)
    chat.send("/delete_me")
    chat.press("确认删除")
    assert "已删除" in chat.text
    with assistant.session_factory() as s:
        assert s.exec(select(User).where(User.display_name == "老王")).first() is None
        assert s.exec(select(User).where(User.external_id == "老王")).first() is None
        need = s.exec(select(Need)).one()
        assert need.text == "" and need.contact_phone == "" and need.county == "翠屏区"
        assert s.exec(select(ConversationState)).all() == []
    # writing again: a new person, with nothing of the old one
    chat.send("/mydata")
    document = chat.last.replies[1].document
    assert document is not None
    data = json.loads(document[1])
    assert data["needs"] == [] and data["user"]["phone"] is None


def test_typed_confirmation_erases_too(chat: Chat, assistant):  # type: ignore[no-untyped-def]
    chat.send("稻瘟病怎么防治")
    chat.send("确认删除我的数据")
    assert "已删除" in chat.text
    with assistant.session_factory() as s:
        assert s.exec(select(User).where(User.channel == "test")).all() == []


def test_mydata_in_the_middle_of_a_form_comes_back_to_it(chat: Chat):
    chat.send("我家李子树流胶很严重，想请专家来看看")
    asked = chat.last.replies[-1].text
    out = chat.send("/mydata")
    assert "我们保存的关于您的全部信息" in out.replies[0].text
    assert out.replies[-1].text == asked  # the open question again
    document = out.replies[1].document
    assert document is not None and b'"form"' in document[1]  # the unfinished form is kept


def _erased(assistant) -> bool:  # type: ignore[no-untyped-def]
    with assistant.session_factory() as s:
        return s.exec(select(User).where(User.display_name == "老王")).first() is None


def test_a_typed_yes_to_the_deletion_question_erases(assistant):  # type: ignore[no-untyped-def]
    for yes in ("确认", "是的", "删除", "1"):
        chat = Chat(assistant, "老王")
        chat.send("稻瘟病怎么防治")
        chat.send("删除我的数据")
        assert "无法恢复" in chat.text
        chat.send(yes)
        assert "已删除" in chat.text, yes
        assert _erased(assistant), yes


def test_anything_else_keeps_the_data_and_says_so(chat: Chat, assistant):  # type: ignore[no-untyped-def]
    chat.send("稻瘟病怎么防治")
    chat.send("删除我的数据")
    chat.send("2")
    assert "保持不变" in chat.text and not _erased(assistant)
    chat.send("删除我的数据")
    out = chat.send("稻瘟病怎么防治")  # another subject: kept, and the question answered
    assert "保持不变" in out.replies[0].text and len(out.replies) > 1
    assert not _erased(assistant)
    chat.send("确认")  # the question was answered: a later yes erases nothing
    assert not _erased(assistant)


def test_deletion_question_in_a_form_then_back_to_the_form(chat: Chat, assistant):  # type: ignore[no-untyped-def]
    chat.send("我家李子树流胶很严重，想请专家来看看")
    asked = chat.last.replies[-1].text
    out = chat.send("删除我的数据")
    assert out.replies[-1].text.startswith("确定要删除")  # the open question is this one
    out = chat.send("不删了")
    assert "保持不变" in out.replies[0].text and out.replies[-1].text == asked
    assert not _erased(assistant)


def test_people_ask_for_their_data_in_their_own_words(chat: Chat):
    """Nobody has to know /delete_me or /mydata: their own words reach the same desk, and
    deleting still asks first; a need deleted or a how-to question is not "my data"."""
    for text in ("把我的信息全部删了", "我不想用了 把我的记录都删掉", "帮我把账号注销了"):
        out = chat.send(text)
        assert "无法恢复" in out.text and chat.buttons() == ["确认删除", "不删了"], text
        chat.press("不删了")
    out = chat.send("把我的资料导出来")
    assert "删除我的数据" in out.text and "/delete_me" not in out.text
    assert mydata.asks_export("下载我的数据") and not mydata.asks_export("我的资料")
    for text in ("不要删我的数据", "怎么删除我的数据", "删除这条需求", "删掉我的订阅"):
        assert not mydata.asks_delete(text), text


def test_asking_what_is_kept_shows_the_data(chat: Chat):
    """ "我的数据你们存了些啥子" asks to see one's data (was the interest profile alone); the
    data must be said to be one's own ("查一下水稻资料" is a question)."""
    out = chat.send("我想问下我的数据你们存了些啥子")
    assert "我们保存的关于您的全部信息" in out.text and "兴趣画像（根据" not in out.text
    for text in ("你们收集了我哪些信息", "我的资料存了吗", "你们存了我啥子信息"):
        assert mydata.asks_export(text), text
    for text in ("我想查一下水稻资料", "我存了些种子", "不要存我的数据"):
        assert not mydata.is_data_command(text), text
