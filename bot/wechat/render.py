"""The assistant's replies as WeChat text: buttons become numbered choices ("回复 1 确认 /
2 修改"), and several replies are packed into as few messages as WeChat's 2048-byte text
limit allows (the customer-service API allows only a few messages per window)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialogs.actions import parse_action
from dialogs.i18n import t
from dialogs.types import Button

LIMIT = 2048  # bytes of UTF-8 in one WeChat text message
SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class Item:
    """One reply or queued message: its text and its buttons (as label, wire action)."""

    text: str
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class Chunk:
    """One WeChat message: its text, the choices it numbered, and how far it got through
    the items (items[:done] are complete; *rest* is what remains of items[done] if the
    message ended inside it)."""

    text: str
    choices: list[dict[str, str]] = field(default_factory=list)
    done: int = 0
    rest: str = ""


def item_of(text: str, buttons: list[list[Button]]) -> Item:
    return Item(text, tuple((b.label, str(b.action)) for row in buttons for b in row))


def item_of_json(text: str, buttons: list[list[dict[str, str]]]) -> Item:
    """An outbox row's text and stored buttons (a button whose action no longer parses is
    left out)."""
    choices = tuple(
        (b.get("label", ""), b.get("action", ""))
        for row in buttons
        for b in row
        if parse_action(b.get("action", "")) is not None
    )
    return Item(text, choices)


def choice_line(choices: list[tuple[str, str]], start: int, locale: str = "zh") -> str:
    body = " / ".join(f"{start + i} {label}" for i, (label, _) in enumerate(choices))
    return t("wechat_choices", locale, choices=body)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut(text: str, budget: int) -> tuple[str, str]:
    """The longest head of *text* within *budget* bytes, preferably ending at a line break."""
    head = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    newline = head.rfind("\n")
    if newline > len(head) // 2:
        head = head[: newline + 1]
    return head.rstrip("\n"), text[len(head) :].lstrip("\n")


def pack(
    items: list[Item],
    *,
    start: int = 1,
    limit: int = LIMIT,
    max_chunks: int = 0,
    locale: str = "zh",
) -> list[Chunk]:
    """Items as WeChat messages of at most *limit* bytes, in order, as few as fit: an item
    that fits in one message is kept whole; a longer one fills up the message it starts in
    and goes on in the next. Choices are numbered from *start* on, across the messages.

    *max_chunks* (0: no limit) stops early; the last chunk says where it stopped.
    """
    chunks: list[Chunk] = []
    current = Chunk("")
    number = start

    def close() -> bool:
        nonlocal current
        chunks.append(current)
        current = Chunk("", done=current.done)
        return bool(max_chunks) and len(chunks) >= max_chunks

    def whole(text: str, line: str) -> str:
        return f"{text}\n{line}" if line and text else (text or line)

    def joined(text: str) -> str:
        return f"{current.text}{SEPARATOR}{text}" if current.text else text

    for index, item in enumerate(items):
        pending = item.text.strip()
        line = choice_line(list(item.choices), number, locale) if item.choices else ""
        fits_alone = _size(whole(pending, line)) <= limit
        if fits_alone and _size(joined(whole(pending, line))) > limit and close():
            return chunks  # it fits in a message of its own: kept whole, in the next one
        while _size(joined(whole(pending, line))) > limit:
            prefix = joined("")
            budget = limit - _size(prefix) - (_size(line) + 1 if line else 0)
            if budget < limit // 8:  # too little room left here: go on in the next message
                if close():
                    return chunks
                continue
            head, pending = _cut(pending, budget)
            current.text, current.rest = prefix + head, pending
            if close():
                return chunks
        current.text = joined(whole(pending, line))
        current.done, current.rest = index + 1, ""
        current.choices += [{"label": lb, "action": a} for lb, a in item.choices]
        number += len(item.choices)
    if current.text:
        chunks.append(current)
    return chunks
