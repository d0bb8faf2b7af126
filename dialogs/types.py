"""What goes into and comes out of the assistant; transports render these."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialogs.actions import Action


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: Action  # sent back when pressed; str(action) is its wire form


@dataclass(slots=True)
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    # a file to attach where the channel can (file name, content); the text stands alone
    document: tuple[str, bytes] | None = None
    media: tuple[int, ...] = ()  # stored media ids (photos, voice) to show with the text
    ref: str = ""  # what a reply to this message refers to, e.g. "case:5" (a draft to edit)

    def button_labels(self) -> list[str]:
        return [b.label for row in self.buttons for b in row]


@dataclass(slots=True)
class Outbound:
    """A message for another person (e.g. an expert to notify); the transport delivers it."""

    channel: str
    external_id: str
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    kind: str = "notice"
    ref: str = ""  # what a reply to this message refers to, e.g. "order:12"
    media: tuple[int, ...] = ()  # stored media ids (photos, voice) to show with the text


@dataclass(slots=True)
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    outbound: list[Outbound] = field(default_factory=list)

    def say(self, text: str, buttons: list[list[Button]] | None = None) -> Reply:
        reply = Reply(text, buttons or [])
        self.replies.append(reply)
        return reply

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)


@dataclass(frozen=True, slots=True)
class MediaIn:
    """A photo, voice message or document as the channel delivered it; the assistant checks
    and stores it."""

    kind: str  # "photo" | "voice" | "document"
    data: bytes
    mime: str = ""  # what the channel declared; the content decides
    duration_s: float | None = None  # voice length when the channel says
    name: str = ""  # a document's file name (e.g. achievements.csv)
    # a photo or voice the channel already stored (store.media id; issue 17: an upload is
    # stored before its update is queued for a worker, which then gets no bytes)
    stored: int = 0


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message or button press from a person on some channel."""

    channel: str
    user_id: str
    text: str = ""
    action: Action | None = None  # set when a button was pressed (parsed at the edge)
    display_name: str = ""
    locale: str | None = None
    reply_to_ref: str = ""  # the ref of the message this one replies to, if any
    media: tuple[MediaIn, ...] = ()  # photos / voice sent with (or instead of) the text
