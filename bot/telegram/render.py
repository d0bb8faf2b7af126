"""Between the assistant's buttons and Telegram's inline keyboards (typed CallbackData)."""

from __future__ import annotations

from functools import lru_cache

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from dialogs.actions import ORDER_ACTS, VOTE_ACTS, Action, parse_action
from dialogs.types import Button


class OrderCB(CallbackData, prefix="order"):
    """接单 / 不合适 / 已解决 / rating and cancel buttons of an order."""

    action: str
    order_id: int
    score: int = 0


class FormCB(CallbackData, prefix="form"):
    """Conversation buttons: 确认 / 修改 / 取消 / 跳过 / 找专家 / a clarification pick."""

    action: str
    arg: str = ""


class FeedbackCB(CallbackData, prefix="fb"):
    """有用 / 没用 under an answer (source "q": question-log id) or a push ("p": push id)."""

    vote: str  # useful / useless
    source: str
    ref_id: int


@lru_cache(maxsize=4096)
def pack(action: Action) -> str:
    """The callback data of an assistant action ("accept:12", "rate:12:5", "pick:1" …).

    Remembered: the same buttons (确认, 修改, 找专家, an order's 接单) are packed again and
    again, and each packing validates a model."""
    if action.kind in ORDER_ACTS:
        return OrderCB(
            action=action.kind.value, order_id=action.order_id or 0, score=action.n or 0
        ).pack()
    if action.kind in VOTE_ACTS:
        return FeedbackCB(vote=action.kind.value, source=action.arg, ref_id=action.n or 0).pack()
    wire = str(action)
    name, _, rest = wire.partition(":")
    return FormCB(action=name, arg=rest.replace(":", "_")).pack()


def unpack(data: str) -> Action | None:
    """The assistant action for callback data, or None when it is not ours (or malformed)."""
    try:
        if data.startswith("order:"):
            cb = OrderCB.unpack(data)
            wire = f"{cb.action}:{cb.order_id}" + (f":{cb.score}" if cb.score else "")
        elif data.startswith("fb:"):
            fb = FeedbackCB.unpack(data)
            wire = f"{fb.vote}:{fb.source}:{fb.ref_id}"
        elif data.startswith("form:"):
            form = FormCB.unpack(data)
            wire = f"{form.action}:{form.arg}" if form.arg else form.action
        else:
            return None
    except (ValueError, TypeError):
        return None
    return parse_action(wire)


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[_inline(b) for b in row] for row in rows])


@lru_cache(maxsize=4096)
def _inline(button: Button) -> InlineKeyboardButton:
    """One inline button, remembered like :func:`pack` (a keyboard of made buttons validates
    in a quarter of the time); never changed after it is made, so it may be shared."""
    return InlineKeyboardButton(text=button.label, callback_data=pack(button.action))


def buttons_to_json(rows: list[list[Button]]) -> list[list[dict[str, str]]]:
    return [[{"label": b.label, "action": str(b.action)} for b in row] for row in rows]


def buttons_from_json(rows: list[list[dict[str, str]]]) -> list[list[Button]]:
    """Buttons stored in the outbox; one whose action no longer parses is left out."""
    out = []
    for row in rows:
        buttons = [
            Button(b["label"], action)
            for b in row
            if (action := parse_action(b.get("action", ""))) is not None
        ]
        if buttons:
            out.append(buttons)
    return out
