"""A tiny driver for whole conversations with the assistant."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialogs.assistant import Assistant
from dialogs.types import Button, Incoming, MediaIn, Outcome


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
