"""The order state machine: statuses, actions, the one transition table and its errors.

```
posted -> matched -> accepted -> resolved -> closed
posted | matched -> expired          (after the last re-match over a wider region)
posted | matched | accepted -> cancelled   (by the requester)
accepted -> accepted (consent: the requester agrees to exchange contacts)
accepted -> matched  (release: 换一位 by the requester, or the expert suspended before contacts
                     were exchanged)
resolved -> accepted (reopen: the requester says it is not solved; the same expert goes on)
```
A message relayed between the parties is an event on the timeline, not a move.
Pure: no tables and no I/O; store.orders applies it with conditional UPDATEs.
"""

from __future__ import annotations

from enum import StrEnum

from store.errors import StoreError


class OrderStatus(StrEnum):
    POSTED = "posted"
    MATCHED = "matched"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    CLOSED = "closed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Action(StrEnum):
    POST = "post"
    MATCH = "match"
    REMATCH = "rematch"
    ACCEPT = "accept"
    RESOLVE = "resolve"
    CLOSE = "close"
    EXPIRE = "expire"
    CANCEL = "cancel"
    CONSENT = "consent"
    RELEASE = "release"
    REOPEN = "reopen"
    MESSAGE = "message"  # a relayed message: an event, never a move


S = OrderStatus
TRANSITIONS: dict[Action, tuple[frozenset[OrderStatus], OrderStatus]] = {
    Action.MATCH: (frozenset({S.POSTED}), S.MATCHED),
    Action.REMATCH: (frozenset({S.MATCHED}), S.MATCHED),
    Action.ACCEPT: (frozenset({S.POSTED, S.MATCHED}), S.ACCEPTED),
    Action.RESOLVE: (frozenset({S.ACCEPTED}), S.RESOLVED),
    Action.CLOSE: (frozenset({S.RESOLVED}), S.CLOSED),
    Action.EXPIRE: (frozenset({S.POSTED, S.MATCHED}), S.EXPIRED),
    Action.CANCEL: (frozenset({S.POSTED, S.MATCHED, S.ACCEPTED}), S.CANCELLED),
    Action.CONSENT: (frozenset({S.ACCEPTED}), S.ACCEPTED),
    Action.RELEASE: (frozenset({S.ACCEPTED}), S.MATCHED),
    Action.REOPEN: (frozenset({S.RESOLVED}), S.ACCEPTED),
}
OPEN_STATUSES = TRANSITIONS[Action.ACCEPT][0]
FINAL_STATUSES = frozenset({S.CLOSED, S.EXPIRED, S.CANCELLED})


class InvalidTransition(StoreError):
    """The action is not allowed from the order's current status."""

    code = "invalid_transition"

    def __init__(self, order_id: int, action: Action, status: OrderStatus) -> None:
        self.order_id, self.action, self.status = order_id, action, status
        super().__init__(f"cannot {action.value} order {order_id}: it is {status.value}")


class AlreadyTaken(InvalidTransition):
    """Another expert accepted first."""

    code = "already_taken"


class NotPermitted(StoreError):
    """The actor may not perform this action on this order."""

    code = "not_permitted"

    def __init__(self, order_id: int, action: Action, actor_id: int | None, reason: str) -> None:
        self.order_id, self.action, self.actor_id, self.reason = order_id, action, actor_id, reason
        super().__init__(f"user {actor_id} may not {action.value} order {order_id}: {reason}")


def next_status(action: Action, status: OrderStatus) -> OrderStatus:
    """The status after *action* from *status*, per the transition table.

    Raises:
        InvalidTransition: the move is illegal.
    """
    allowed, target = TRANSITIONS[action]
    if status not in allowed:
        raise InvalidTransition(0, action, status)
    return target


# Needs that never reached an expert: still waiting, or given up on after re-matching.
UNMET_STATUSES = frozenset({S.POSTED, S.MATCHED, S.EXPIRED})
