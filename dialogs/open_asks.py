"""Typed answers to what the assistant asked last, outside the form's own question: a yes or
no to an offer, the need-or-question clarification, a place option, a narrowed list."""

from __future__ import annotations

import re
from dataclasses import replace

from dialogs.actions import Act, Action, parse_action
from dialogs.context import Turn
from dialogs.form_rules import ELSEWHERE, FORM_OF, SWITCH_SURE
from dialogs.form_words import is_control
from dialogs.lookups import Entry, entry_of, find, refine, refinement
from dialogs.nlu.commands import is_order_text
from dialogs.nlu.enterprise import introduces_enterprise
from dialogs.nlu.intents import Intent, Parse, understand
from dialogs.router import Router

# a yes to an offer: "要得", "是的 麻烦了", "要得 谢谢老师" (thanks only after a yes)
_YES_WORD = (
    r"(?:找专家|帮我找|要得|要的|要|好的?|好嘛|需要|可以|行|嗯+|是的?|对的?|对头|确认|确定|没错|"
    r"麻烦(?:你|您)?了?)"
)
_THANKS_WORD = r"(?:谢谢(?:老师|你|您|了)?|多谢|感谢|辛苦了?|麻烦(?:你|您)?了?)"
_YES_TAIL = r"\s*[吧嘛哈啊呀嘞哦了]*\s*[。.!！~]*\s*$"
_YES_OFFER = re.compile(rf"^\s*{_YES_WORD}(?:[，,\s]*(?:{_YES_WORD}|{_THANKS_WORD}))*{_YES_TAIL}")
# "是的 取消", "要得 取消嘛", "撤销吧": a yes to "要撤销这条需求吗？" may name the withdrawal
_WITHDRAW_WORD = r"(?:取消掉?|撤销掉?|撤掉|撤了|撤|不要了)"
YES_WITHDRAW = re.compile(
    rf"^\s*(?:{_YES_WORD}|{_WITHDRAW_WORD})"
    rf"(?:[，,\s]*(?:{_YES_WORD}|{_WITHDRAW_WORD}|{_THANKS_WORD}))*{_YES_TAIL}"
)
_NO_OFFER = re.compile(r"^\s*(?:不用了?|不要|不需要|算了|no)\s*[。!！]?\s*$")
_KEEP = re.compile(r"^\s*(?:不|否|保留|留着|先留着|不撤|不撤了|不取消)\s*[。!！]?\s*$")
# what a bare place or phone after the expert offer reads as
ANSWERS_OFFER = (Intent.OTHER, Intent.SMALLTALK)
# typed answers to "请专家上门帮忙，还是先问个问题？" (the buttons are the usual way)
_WANT_EXPERT = re.compile(
    r"^\s*(?:请专家上门帮忙|请专家|找专家|要专家|专家|上门|请专家上门|第一个|1)\s*[。!！]?\s*$"
)
_WANT_ANSWER = re.compile(
    r"^\s*(?:先问个问题|先问问题|问个问题|问问题|先问|问题|提问|第二个|2)\s*[。!！]?\s*$"
)


class OpenAsks(Router):
    """The assistant's answers to its own open offers and clarifications."""

    __slots__ = ()

    def _find(self, turn: Turn, entry: Entry, parse: Parse | None = None) -> None:
        find(turn, entry, talent=self.enterprise, catalogue=self.achievements, parse=parse)

    def _on_pending(self, turn: Turn, text: str) -> bool:
        """Typed answers to an open clarification or offer. True when the text was used."""
        st = turn.state
        if st.lookup is not None:
            # "您想找哪方面的人才？": this names it, unless it is another request altogether
            kind, st.lookup = st.lookup, None
            if self._names_subject(turn, text):
                self._find(turn, entry_of(text) or Entry(kind, text))
                self.forms.repeat(turn)
                return True
        if st.yes is not None:
            yes, st.yes = parse_action(st.yes), None  # asked once: any answer closes it
            if yes is not None and _YES_OFFER.match(text):
                self._on_action(turn, yes)
                return True
            if _NO_OFFER.match(text) or _KEEP.match(text):
                self._on_action(turn, Action(Act.NO_THANKS))  # as the no button does
                return True
        if st.pending is not None:
            if _WANT_EXPERT.match(text):
                self._clarified(turn, Intent.NEED)
                return True
            if _WANT_ANSWER.match(text):
                self._clarified(turn, Intent.QUESTION)
                return True
            st.pending = None  # they moved on; handle the text normally
        if st.options is not None:
            pick = text.strip().rstrip("。.")
            labels = st.options.labels
            if pick.isdigit() and 1 <= int(pick) <= len(labels):
                self._pick(turn, int(pick) - 1)
                return True
            for i, label in enumerate(labels):
                if pick and (pick == label or pick in label and len(pick) >= 3):
                    self._pick(turn, i)
                    return True
            st.options = None  # they moved on; handle the text normally
            return False
        if st.searched is not None and st.form is None:
            # "要成都的", "只看专利" right after a list of experts or achievements: narrow it
            by = refinement(text, turn.understood(text))
            if by is not None:
                refine(turn, by, talent=self.enterprise, catalogue=self.achievements)
                return True
            st.searched = None  # they moved on
        if st.offer is not None and st.form is None:
            if _YES_OFFER.match(text):
                self._accept_offer(turn)
                return True
            if _NO_OFFER.match(text):
                st.offer = None
                turn.say(turn.t("ok_no_expert"))
                return True
            parse = turn.understood(text)
            s = parse.slots
            own_problem = s.crops or s.pests or s.category or len(text) > 30
            if (s.places or s.phone) and not own_problem and parse.intent in ANSWERS_OFFER:
                # "隆昌" or a phone right after the offer: they are telling the expert where;
                # the form opens with it already filled in (said back, not asked for again)
                self._accept_offer(turn, said=text)
                return True
            if parse.intent == Intent.ENTERPRISE and introduces_enterprise(text):
                # "我们是蒲江的企业" to "要发布成需求吗？": who is asking, not a registration;
                # the company's technical need opens with it
                self._accept_offer(turn, said=text)
                return True
            st.offer = None
        return False

    def _names_subject(self, turn: Turn, text: str) -> bool:
        """An answer to "您想找哪方面的…？": not a command, control word or another task
        the intent model is sure of."""
        if text.startswith("/") or is_order_text(text) or is_control(text):
            return False
        parse = self.understand(text, turn)
        other = parse.intent in FORM_OF or parse.intent in ELSEWHERE
        return not (other and parse.confidence >= SWITCH_SURE)

    def _ask_need_or_question(self, turn: Turn, text: str) -> None:
        """The model cannot tell a request for an expert from a question: ask, keep the text."""
        turn.state.pending = text
        turn.say(
            turn.t("need_or_question"),
            [
                [
                    turn.button("btn_want_expert", Action(Act.WANT_EXPERT)),
                    turn.button("btn_want_answer", Action(Act.WANT_ANSWER)),
                ]
            ],
        )

    def _clarified(self, turn: Turn, intent: Intent) -> None:
        """The clarification answered: the kept message goes where the person said."""
        text = turn.state.pending or ""
        turn.state.pending = None
        parse = replace(self.understand(text, turn), intent=intent, unsure=False)
        self._route(turn, text, parse)

    def _accept_offer(self, turn: Turn, media: list[int] | None = None, said: str = "") -> None:
        """Open the need form for the question just answered; *said* is what the person added
        in accepting (a place, a phone), read together with the question."""
        text = turn.state.offer or ""
        turn.state.offer = None
        parse = understand(f"{text} {said}".strip())
        self._start(turn, self.enterprise.need_form(turn, text), text, parse, media=media)
