"""The assistant: one entry point, `handle(Incoming) -> Outcome`, for every transport."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

from sqlmodel import Session

from dialogs import formflow, personal
from dialogs.context import Turn
from dialogs.feedback import feedback_buttons
from dialogs.followup import remember, standalone
from dialogs.i18n import t
from dialogs.llm.client import ChatModel
from dialogs.llm.extraction import llm_understand
from dialogs.nlu.intents import Intent, Parse, understand
from dialogs.science import ask, render_answer
from dialogs.types import Incoming, Outcome
from retrieval.answer import Answer
from retrieval.index import HybridIndex
from retrieval.tokenizer import Tokenize
from store.conversations import load_state, save_state
from store.feedback import FeedbackSource
from store.users import get_or_create_user
from store.validation import Region, normalise_text

log = logging.getLogger(__name__)

MAX_CHARS = 2000
_READABLE = re.compile(r"[\w\u4e00-\u9fff]")
_HELLO = re.compile(r"你好|您好|嗨|哈喽|hello|hi|在吗|在不在|有人吗|早|晚上好|下午好")
_THANKS = re.compile(r"谢|感谢|辛苦")
# personal commands that work even in the middle of a form
_PERSONAL_COMMAND = re.compile(r"^\s*/(?:subscribe|unsubscribe|stop|profile)\b")
# Asking for other people's personal data (also the usual prompt-injection goal).
_OTHERS_DATA = re.compile(
    r"(?:所有|全部|其他|其它|别的|别人|他人|每个)[\u4e00-\u9fff]{0,4}?(?:的)?"
    r"(?:电话|手机|号码|联系方式|地址|身份证|个人信息|隐私|名单|密码)"
    r"|(?:all|other)\s+users?'?s?\s+(?:phone|contact|personal)"
)
_CANCEL = re.compile(
    r"^\s*(?:/cancel|算了|取消|不要了|不用了|退出|不弄了|不搞了|cancel)\s*[。!！]?\s*$"
)


@dataclass(slots=True)
class Assistant:
    """Transport-agnostic conversation over the store and the knowledge index.

    Args:
        session_factory: returns a new database Session.
        knowledge: the 科普 index (None: questions get the honest no-answer).
        tokenize: the retrieval tokenizer.
        locale: default reply language.
        llm: the chat model of LLM mode (None: fully offline).
    """

    session_factory: Callable[[], Session]
    knowledge: HybridIndex | None
    tokenize: Tokenize
    locale: str = "zh"
    hooks: list[Callable[[Turn, str, object], None]] = field(default_factory=list)
    llm: ChatModel | None = None

    def handle(self, incoming: Incoming, session: Session | None = None) -> Outcome:
        """Process one message or button press; nothing is sent, everything is returned.

        *session* is the unit of work of this update when the transport opened one (a
        per-update middleware); otherwise the assistant opens its own.
        """
        if session is not None:
            return self._handle(session, incoming)
        with self.session_factory() as own:
            return self._handle(own, incoming)

    def _handle(self, session: Session, incoming: Incoming) -> Outcome:
        user = get_or_create_user(
            session=session,
            channel=incoming.channel,
            external_id=incoming.user_id,
            display_name=incoming.display_name[:64],
            locale=incoming.locale if incoming.locale in ("zh", "en") else self.locale,
        )
        state = load_state(session=session, channel=incoming.channel, external_id=incoming.user_id)
        turn = Turn(session, user, incoming, state, user.locale or self.locale)
        try:
            with self.llm.turn() if self.llm is not None else nullcontext():
                self._dispatch(turn)
        except Exception:
            log.exception(
                "failed to handle a message from %s:%s", incoming.channel, incoming.user_id
            )
            session.rollback()
            return _apology(turn.locale)
        save_state(
            session=session,
            channel=incoming.channel,
            external_id=incoming.user_id,
            data=turn.state,
        )
        return turn.out

    # ------------------------------------------------------------------------------------
    def _dispatch(self, turn: Turn) -> None:
        inc = turn.incoming
        if inc.action:
            formflow.on_action(self, turn, inc.action)
            return
        text = normalise_text(inc.text or "")
        if not text:
            turn.say(turn.t("empty"))
            return
        if len(text) > MAX_CHARS:
            turn.say(turn.t("too_long", n=len(text), limit=MAX_CHARS))
            return
        if not _READABLE.search(text):
            turn.say(turn.t("no_text"))
            return
        if text == "/start":
            turn.state.clear()
            turn.say(
                turn.t("welcome"),
                [
                    [turn.button("start_need", "role:need")],
                    [turn.button("start_expert", "role:expert")],
                    [turn.button("start_citizen", "role:citizen")],
                ],
            )
            return
        if text in ("/help", "帮助", "help", "菜单"):
            if turn.state.get("form"):
                formflow.help_in_form(self, turn)
            else:
                turn.say(turn.t("welcome"))
            return
        if _CANCEL.match(text):
            if turn.state.get("form") or turn.state.get("offer"):
                turn.state.clear()
                turn.say(turn.t("cancelled"))
            else:
                turn.say(turn.t("nothing_to_cancel"))
            return
        if _PERSONAL_COMMAND.match(text):
            self.route(turn, text, self.understand(text, turn))
            return
        if _OTHERS_DATA.search(text):
            turn.say(turn.t("private_data"))
            return
        if formflow.on_pending(self, turn, text):
            return
        parse = self.understand(text, turn)
        if turn.state.get("form"):
            formflow.on_form_text(self, turn, text, parse)
            return
        self.route(turn, text, parse)

    def route(self, turn: Turn, text: str, parse: Parse) -> None:
        """Handle a message outside any form by its intent."""
        intent = parse.intent
        if intent == Intent.NEED:
            self.answer_quietly(turn, focus_query(text, parse), set(parse.slots.crops))
            formflow.start(self, turn, "need", text, parse)
        elif intent == Intent.CAPABILITY:
            formflow.start(self, turn, "expert", text, parse)
        elif intent == Intent.SUBSCRIBE:
            formflow.start(self, turn, "subscribe", text, parse)
        elif intent == Intent.UNSUBSCRIBE:
            personal.on_unsubscribe(turn, text, parse)
        elif intent == Intent.PROFILE:
            personal.on_profile(turn, text)
        elif intent == Intent.QUESTION:
            self.answer_question(turn, text, parse, offer=True)
        elif intent in (Intent.ORDER, Intent.STATS):
            self.run_hooks(turn, intent.value, parse)
            if not turn.out.replies:
                turn.say(turn.t("other"))
        elif intent == Intent.HELP:
            turn.say(turn.t("welcome"))
        elif intent == Intent.SMALLTALK:
            if _THANKS.search(text):
                turn.say(turn.t("smalltalk_thanks"))
            elif _HELLO.search(text):
                turn.say(turn.t("smalltalk_hello"))
            else:
                turn.say(turn.t("smalltalk_other"))
        else:
            turn.say(turn.t("other"))

    def understand(self, text: str, turn: Turn | None = None) -> Parse:
        """Intent and slots offline, with the model's validated additions in LLM mode.

        An answer to "what is your name / phone" is personal data the offline path reads
        anyway: it never goes to the model. Known names are hidden from it too.
        """
        parse = understand(text)
        if self.llm is None or not self.llm.extracts:
            return parse
        if parse.intent in (Intent.ORDER, Intent.HELP, Intent.SMALLTALK):
            return parse  # exact commands and "好的 / 确认": the rules are sure, save the call
        names: tuple[str, ...] = ()
        if turn is not None:
            if turn.state.get("awaiting") in ("name", "phone"):
                return parse
            slots = turn.state.get("slots", {})
            names = tuple(str(n) for n in (turn.user.display_name, slots.get("name")) if n)
        return llm_understand(self.llm, text, parse, names=names)

    def run_hooks(self, turn: Turn, event: str, payload: object) -> None:
        for hook in self.hooks:
            hook(turn, event, payload)

    # ------------------------------------------------------------------------------------
    def answer_question(self, turn: Turn, text: str, parse: Parse, *, offer: bool) -> bool:
        """Answer from the knowledge base; offer an expert for problems and for no-answers."""
        text = standalone(text, parse.slots, turn.state, self.llm)
        result = self._ask(turn, text, grounded=True)
        remember(turn.state, text, result.text)
        turn.say(render_answer(result, turn.locale))
        if result.answered:
            turn.out.replies[-1].buttons = feedback_buttons(
                turn.locale, FeedbackSource.ANSWER, result.log_id
            )
        personal.note_question(turn, parse)
        problem = bool(parse.slots.crop or parse.slots.pests or parse.slots.category)
        if offer and (problem or not result.answered):
            turn.state["offer"] = {"text": text}
            if result.answered:
                turn.say(
                    turn.t("offer_expert"),
                    [
                        [
                            turn.button("btn_find_expert", "find_expert"),
                            turn.button("btn_no_thanks", "no_thanks"),
                        ]
                    ],
                )
            else:
                turn.out.replies[-1].buttons = [
                    [
                        turn.button("btn_find_expert", "find_expert"),
                        turn.button("btn_no_thanks", "no_thanks"),
                    ]
                ]
        return result.answered

    def answer_quietly(self, turn: Turn, text: str, crops: set[str]) -> None:
        """Self-help at once for a posted problem: only when the knowledge base is sure."""
        result = self._ask(turn, text, crops or None)
        if result.answered:
            prefix = "先看看这条资料：\n" if turn.locale == "zh" else "Meanwhile, this may help:\n"
            turn.say(
                prefix + render_answer(result, turn.locale, followups=False),
                feedback_buttons(turn.locale, FeedbackSource.ANSWER, result.log_id),
            )

    def _ask(
        self, turn: Turn, text: str, crops: set[str] | None = None, *, grounded: bool = False
    ) -> Answer:
        if self.knowledge is None:
            return Answer(text, False)
        u = turn.user
        return ask(
            session=turn.session,
            index=self.knowledge,
            tokenize=self.tokenize,
            question=text[:500],
            user_id=u.id,
            region=Region(u.province, u.city, u.county),
            crops=crops,
            model=self.llm if grounded else None,
            locale=turn.locale,
        )


def focus_query(text: str, parse: Parse) -> str:
    """The problem part of a need message (crop and symptoms), for a self-help search."""
    s = parse.slots
    bits = [*s.crops[:1], *s.pests, *(s.problem.split("、") if s.problem else [])]
    query = " ".join(dict.fromkeys(b for b in bits if b))
    return query if len(query) >= 2 else text


def _apology(locale: str) -> Outcome:
    out = Outcome()
    out.say(t("error", locale))
    return out
