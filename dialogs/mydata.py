"""/mydata and /delete_me: a person sees everything stored about them and can have it erased
(个人信息保护法: access, copy and deletion). Deleting asks first: the confirmation button, a
typed yes to that question (确认, 是的, 删除, 1) or the explicit words "确认删除我的数据" erase;
any other answer keeps everything and says so."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.export import readable
from dialogs.types import Outcome, Reply
from store.clock import utcnow
from store.media import MediaStorage
from store.privacy import (
    clear_old_questions,
    clear_stale_states,
    export_person,
    forget_person,
)

log = logging.getLogger(__name__)

MYDATA = re.compile(
    r"^\s*(?:/mydata|我的数据|查看我的数据|导出我的数据|my data)\s*[。.!！]?\s*$", re.I
)
DELETE_ME = re.compile(
    r"^\s*(?:/delete_me|删除我的(?:数据|信息)|注销(?:我的)?账号|delete my data)\s*[。.!！]?\s*$",
    re.I,
)
CONFIRMED = re.compile(
    r"^\s*(?:/delete_me\s+(?:确认|confirm)|确认删除我的数据)\s*[。.!！]?\s*$", re.I
)
# a typed yes to "确定要删除您的个人信息吗？" (1: the first button, 确认删除)
_YES_DELETE = re.compile(
    r"^\s*(?:(?:确认|确定|是的?|对的?|嗯|好的?|可以|要|删(?:除|掉)?(?:吧|了)?|yes|ok|delete|1)"
    r"[，,\s]*)+\s*[。.!！]?\s*$",
    re.I,
)
# a plain no to it (2: the second button, 不删了): nothing more to do with the message
_NO_DELETE = re.compile(
    r"^\s*(?:不删了?|不要?删?了?|不用了?|不|否|算了|取消|保留|留着|no|keep|2)\s*[。.!！]?\s*$",
    re.I,
)
_ASKED = "delete_me"  # the state's yes while the question is open
FILE_NAME = "tianfu-mydata.json"


# the same asks in a person's own words: "把我的信息全部删了", "我不想用了 把我的记录都删掉",
# "把我的资料导出来" (a need, a subscription or the interest profile is not "my data")
_MY_DATA = r"(?:我的|我)?(?:个人)?(?:信息|数据|资料|记录|账号|帐号|账户)"
_ERASE = r"(?:删除|删掉|删了|删|清除|清空|抹掉|注销|销户)"
_EXPORT = r"(?:导出|下载|打包|拷贝)"
# "我的数据你们存了些啥子", "你们收集了我哪些信息": asking what is kept is asking to see it
# (the data said to be one's own: "查一下水稻资料" is a question)
_SEE = r"(?:查看|看看|看一?下|查一?下|存了|保存了|存的|收集了|记了)"
_MINE = r"我(?:的|哪些|啥子?|什么|些)*(?:个人)?(?:信息|数据|资料|记录)"
_NOT = re.compile(r"不要|别|莫|不用|不想|不准|不能|怎么|咋个?|如何|会不会|能不能")


def _own_words(text: str, verb: str, data: str = _MY_DATA) -> bool:
    """*text* is a short request to *verb* one's own data: the verb next to the data
    (either order), and not "不要删我的数据" or a question about how it works."""
    short = re.sub(r"\s+", "", text)
    if len(short) > 30 or "我" not in short:
        return False
    m = re.search(rf"{verb}.{{0,10}}?{data}|{data}.{{0,8}}?{verb}", short)
    return m is not None and not _NOT.search(short[max(0, m.start() - 3) : m.end()])


def asks_delete(text: str) -> bool:
    """The text asks to erase one's own data: /delete_me or the same in other words."""
    return bool(DELETE_ME.match(text)) or _own_words(text, _ERASE)


def asks_export(text: str) -> bool:
    """The text asks to see or export one's own data: /mydata or the same in other words."""
    return bool(MYDATA.match(text)) or _own_words(text, _EXPORT) or _own_words(text, _SEE, _MINE)


def is_data_command(text: str) -> bool:
    """The text asks to see or erase one's own data (works in the middle of a form)."""
    return bool(CONFIRMED.match(text)) or asks_delete(text) or asks_export(text)


@dataclass(slots=True)
class DataDesk:
    """A person's own data: the export and the erasure (*media*: where their photos and
    voice messages are kept, so that erasing removes the files too)."""

    media: MediaStorage | None = None

    def on_text(self, turn: Turn, text: str) -> None:
        if CONFIRMED.match(text):
            self.delete(turn)
        elif asks_delete(text):
            self.ask_delete(turn)
        else:
            self.show(turn)

    def show(self, turn: Turn) -> None:
        """Everything in readable Chinese, then the whole record as a JSON file."""
        data = export_person(session=turn.session, user_id=turn.user.id or 0, media=self.media)
        data["conversation_state"] = turn.state.to_json()  # this turn's, not the saved one
        turn.say(readable(turn, data))
        document = json.dumps(data, ensure_ascii=False, indent=1)
        # the file for channels that send files; where only text goes, the note says so
        note = turn.t("export_file", name=FILE_NAME)
        turn.out.replies.append(Reply(note, document=(FILE_NAME, document.encode("utf-8"))))

    def asked(self, turn: Turn) -> bool:
        """Whether the deletion question is open (the next message answers it)."""
        return turn.state.yes == _ASKED

    def answer(self, turn: Turn, text: str) -> bool:
        """The reply to the open deletion question: a yes erases; anything else keeps
        everything and says so. True when nothing more is to be done with *text* (a yes or a
        plain no); False when the message goes on to be handled as usual."""
        turn.state.yes = None
        if _YES_DELETE.match(text) or CONFIRMED.match(text):
            self.delete(turn)
            return True
        self.keep(turn)
        return bool(_NO_DELETE.match(text))

    def ask_delete(self, turn: Turn) -> None:
        turn.state.yes = _ASKED  # "确认", "是的", "删除" or "1" typed answer it
        turn.say(
            turn.t("delete_me_ask"),
            [
                [
                    turn.button("btn_delete_me", Action(Act.DELETE_ME)),
                    turn.button("btn_keep_me", Action(Act.KEEP_ME)),
                ]
            ],
        )

    def delete(self, turn: Turn) -> None:
        """Erase now; the assistant then saves no conversation state for this person."""
        forget_person(session=turn.session, user_id=turn.user.id or 0, media=self.media)
        turn.state.yes = None
        turn.state.clear_form()
        turn.state.memory = None
        turn.say(turn.t("delete_me_done"))

    def keep(self, turn: Turn) -> None:
        turn.state.yes = None
        turn.say(turn.t("delete_me_kept"))


@dataclass(frozen=True, slots=True)
class QuestionRetention:
    """A scheduler job: question texts older than *days* are emptied (QUESTION_LOG_DAYS);
    the rows keep what the indicators count (answered, top hit, region, time). Conversation
    states idle as long (an abandoned form, the follow-up memory) are dropped too."""

    days: int

    def run_due(
        self, session_factory: Callable[[], Session], now: datetime | None = None
    ) -> Outcome:
        before = (now or utcnow()) - timedelta(days=self.days)
        with session_factory() as session:
            cleared = clear_old_questions(session=session, before=before)
            stale = clear_stale_states(session=session, before=before)
        if cleared or stale:
            log.info(
                "retention (%d days): %d question texts cleared, %d idle conversations dropped",
                self.days,
                cleared,
                stale,
            )
        return Outcome()
