"""Per-turn context shared by the conversation handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dialogs.actions import Action
from dialogs.i18n import t
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

    def t(self, key: str, **kwargs: Any) -> str:
        return t(key, self.locale, **kwargs)

    def say(self, text: str, buttons: list[list[Button]] | None = None) -> None:
        self.out.say(text, buttons)

    def button(self, key: str, action: Action) -> Button:
        return Button(self.t(key), action)
