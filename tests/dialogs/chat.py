"""A tiny driver for whole conversations with the assistant."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialogs.assistant import Assistant
from dialogs.types import Button, Incoming, MediaIn, Outcome
from store.subscriptions import topics_of
from store.users import find_user


@dataclass
class Chat:
    assistant: Assistant
    user: str = "farmer1"
    channel: str = "test"
    locale: str | None = None
    last: Outcome = field(default_factory=Outcome)

    def send(self, text: str) -> Outcome:
        self.last = self.assistant.handle(
            Incoming(
                self.channel, self.user, text=text, display_name=self.user, locale=self.locale
            )
        )
        return self.last

    def send_media(self, *media: MediaIn, text: str = "") -> Outcome:
        """Photos or voice, with an optional caption."""
        self.last = self.assistant.handle(
            Incoming(
                self.channel,
                self.user,
                text=text,
                display_name=self.user,
                locale=self.locale,
                media=media,
            )
        )
        return self.last

    def press(self, label: str) -> Outcome:
        button = self.find(label)
        self.last = self.assistant.handle(
            Incoming(self.channel, self.user, action=button.action, display_name=self.user)
        )
        return self.last

    def find(self, label: str) -> Button:
        for reply in reversed(self.last.replies):
            for row in reply.buttons:
                for b in row:
                    if b.label == label:
                        return b
        raise AssertionError(f"no button {label!r} in {self.buttons()}")

    def buttons(self) -> list[str]:
        return [label for r in self.last.replies for label in r.button_labels()]

    @property
    def text(self) -> str:
        return self.last.text

    # ---- what the conversation left behind ----------------------------------------------
    def topics(self) -> list[str]:
        """The topics this person follows now."""
        with self.assistant.session_factory() as s:
            user = find_user(session=s, channel=self.channel, external_id=self.user)
            return topics_of(session=s, user_id=user.id or 0) if user is not None else []
