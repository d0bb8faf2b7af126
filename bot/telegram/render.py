"""Between the assistant's buttons and Telegram's inline keyboards (typed CallbackData)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

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


ORDER_ACTIONS = frozenset({"accept", "decline", "resolve", "rate", "cancel_order"})
FEEDBACK_ACTIONS = frozenset({"useful", "useless"})


def pack(action: str) -> str:
    """The callback data of an assistant action such as "accept:12", "rate:12:5", "pick:1"."""
    name, _, rest = action.partition(":")
    if name in ORDER_ACTIONS:
        order_id, _, score = rest.partition(":")
        return OrderCB(action=name, order_id=int(order_id), score=int(score or 0)).pack()
    if name in FEEDBACK_ACTIONS:
        source, _, ref_id = rest.partition(":")
        return FeedbackCB(vote=name, source=source, ref_id=int(ref_id)).pack()
    return FormCB(action=name, arg=rest.replace(":", "_")).pack()


def unpack(data: str) -> str | None:
    """The assistant action for callback data, or None when it is not ours."""
    if data.startswith("order:"):
        cb = OrderCB.unpack(data)
        return f"{cb.action}:{cb.order_id}" + (f":{cb.score}" if cb.score else "")
    if data.startswith("fb:"):
        fb = FeedbackCB.unpack(data)
        return f"{fb.vote}:{fb.source}:{fb.ref_id}"
    if data.startswith("form:"):
        form = FormCB.unpack(data)
        return f"{form.action}:{form.arg}" if form.arg else form.action
    return None


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.label, callback_data=pack(b.action)) for b in row]
            for row in rows
        ]
    )


def buttons_to_json(rows: list[list[Button]]) -> list[list[dict[str, str]]]:
    return [[{"label": b.label, "action": b.action} for b in row] for row in rows]


def buttons_from_json(rows: list[list[dict[str, str]]]) -> list[list[Button]]:
    return [[Button(b["label"], b["action"]) for b in row] for row in rows]
