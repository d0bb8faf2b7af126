"""Which order a message means: the one it names or replies to ("order:12"), else the
person's only one in the state the command needs."""

from __future__ import annotations

from dialogs.context import Turn
from store.lifecycle import OrderStatus
from store.order_reads import order_ids
from store.users import Role

UNTAKEN = (OrderStatus.POSTED.value, OrderStatus.MATCHED.value)
CANCELLABLE = (OrderStatus.POSTED, OrderStatus.MATCHED, OrderStatus.ACCEPTED)
UNTAKEN_S = (OrderStatus.POSTED, OrderStatus.MATCHED)


def _only(ids: list[int]) -> int | None:
    return ids[0] if len(ids) == 1 else None


def order_ref(ref: str) -> int | None:
    """The order a message refers to ("order:12" -> 12), None for anything else."""
    kind, _, tail = ref.partition(":")
    return int(tail) if kind == "order" and tail.isdigit() and len(tail) <= 18 else None
    return None


def only_pending(turn: Turn) -> int | None:
    """The one open order this expert was notified about, if there is exactly one."""
    return _only(
        order_ids(
            session=turn.session,
            statuses=(OrderStatus.POSTED, OrderStatus.MATCHED),
            notified_expert_id=turn.user.id,
        )
    )


def only_open(turn: Turn, *, as_expert: bool) -> int | None:
    uid = turn.user.id
    if as_expert:
        ids = order_ids(session=turn.session, statuses=(OrderStatus.ACCEPTED,), expert_id=uid)
    else:
        ids = order_ids(session=turn.session, statuses=CANCELLABLE, requester_id=uid)
    return _only(ids)


def rejects_suggested(turn: Turn, number: int | None) -> bool:
    """ "不合适 N" is the requester's about the experts suggested for their latest open
    need, unless they were told of order N as an expert themselves."""
    uid = turn.user.id
    if not order_ids(session=turn.session, statuses=CANCELLABLE, requester_id=uid):
        return False
    if number is None or not turn.user.has_role(Role.EXPERT):
        return True
    told = order_ids(session=turn.session, statuses=UNTAKEN_S, notified_expert_id=uid)
    return number not in told


def only_held(turn: Turn) -> int | None:
    """The one need of this requester that an expert has accepted, if exactly one."""
    return _only(
        order_ids(
            session=turn.session, statuses=(OrderStatus.ACCEPTED,), requester_id=turn.user.id
        )
    )


def only_resolved(turn: Turn) -> int | None:
    return _only(
        order_ids(
            session=turn.session, statuses=(OrderStatus.RESOLVED,), requester_id=turn.user.id
        )
    )
