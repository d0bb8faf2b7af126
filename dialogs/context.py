"""Per-turn context shared by the conversation handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dialogs.actions import Action
from dialogs.i18n import t
from dialogs.nlu.intents import Parse, understand
from dialogs.state import ConversationState
from dialogs.types import Button, Incoming, Outcome
from store.users import User


@dataclass(slots=True)
class Turn:
    session: Session
    user: User
    incoming: Incoming
    state: ConversationState
    locale: str
    out: Outcome = field(default_factory=Outcome)
    # offline parses of texts met this turn: a message is understood once, however many
    # handlers look at it (an open offer first, then the router)
    parses: dict[str, Parse] = field(default_factory=dict)

    def understood(self, text: str) -> Parse:
        """The offline parse of *text* (intent, slots), computed once per turn."""
        parse = self.parses.get(text)
        if parse is None:
            parse = self.parses[text] = understand(text)
        return parse

    def t(self, key: str, **kwargs: Any) -> str:
        return t(key, self.locale, **kwargs)

    def say(self, text: str, buttons: list[list[Button]] | None = None) -> None:
        self.out.say(text, buttons)

    def button(self, key: str, action: Action) -> Button:
        return Button(self.t(key), action)
