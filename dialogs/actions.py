"""Button presses as typed values.

A button carries an :class:`Action`; transports write it on the wire with ``str(action)``
(e.g. ``"accept:12"``, ``"rate:12:5"``, ``"useful:q:7"``) and turn what comes back into an
``Action`` once, at the edge, with :func:`parse_action`. The assistant dispatches on the typed
value; nobody parses the string a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# ids beyond a 64-bit integer cannot name a row: refuse them at the edge
MAX_ID = 2**63 - 1


class Act(StrEnum):
    CONFIRM = "confirm"
    EDIT = "edit"
    CANCEL = "cancel"  # leave the current form or offer
    SKIP = "skip"
    PICK = "pick"  # n: index of a clarification option
    FIND_EXPERT = "find_expert"
    NO_THANKS = "no_thanks"
    ROLE = "role"  # arg: need / expert / citizen
    USEFUL = "useful"  # arg: q (answer) or p (push); n: its record id
    USELESS = "useless"
    TOPIC = "topic"  # n: index of a suggested topic
    UNSUBSCRIBE = "unsubscribe"
    CLEAR_PROFILE = "clear_profile"
    WANT_EXPERT = "want_expert"  # need-or-question clarified: an expert, please
    WANT_ANSWER = "want_answer"  # need-or-question clarified: just answer the question
    ACCEPT = "accept"  # order actions: order_id
    DECLINE = "decline"
    RESOLVE = "resolve"
    RATE = "rate"  # n: score
    CANCEL_ORDER = "cancel_order"
    DELETE_ME = "delete_me"  # the confirmed /delete_me: erase my personal data
    KEEP_ME = "keep_me"  # changed my mind: keep my data
    CONSENT = "consent"  # the requester agrees to exchange contacts with the accepting expert
    SWAP = "swap"  # the requester asks for another expert (换一位)
    # issue 19: expert answers become knowledge
    SHARE_CASE = "share_case"  # order_id: the expert agrees to share the solution
    KEEP_CASE = "keep_case"  # order_id: the expert keeps it private
    KB_DRAFT = "kb_draft"  # n: a case id in the curation queue
    KB_PUBLISH = "kb_publish"
    KB_REJECT = "kb_reject"
    DOCK = "dock"  # n: the achievement to 对接 (issue 18)
    SAVE_PHONE = "save_phone"  # arg: a phone sent on its own, kept as the person's contact
    QUIT_EXPERT = "quit_expert"  # the confirmed 我不想当专家了: no more matches


ORDER_ACTS = frozenset(
    {Act.ACCEPT, Act.DECLINE, Act.RESOLVE, Act.RATE, Act.CANCEL_ORDER, Act.CONSENT, Act.SWAP}
)
VOTE_ACTS = frozenset({Act.USEFUL, Act.USELESS})
SHARE_ACTS = frozenset({Act.SHARE_CASE, Act.KEEP_CASE})  # carry an order id
CASE_ACTS = frozenset({Act.KB_DRAFT, Act.KB_PUBLISH, Act.KB_REJECT})  # carry a case id
_BY_ORDER = ORDER_ACTS | SHARE_ACTS
ROLES = ("need", "expert", "citizen")
VOTE_SOURCES = ("q", "p")


@dataclass(frozen=True, slots=True)
class Action:
    """What a pressed button asks for.

    Attributes:
        kind: the act.
        order_id: the order an order act refers to.
        n: a score, an option or topic index, or the record id a vote refers to.
        arg: a role name, or the source of a vote ("q" answer, "p" push).
    """

    kind: Act
    order_id: int | None = None
    n: int | None = None
    arg: str = ""

    def __str__(self) -> str:
        if self.kind in _BY_ORDER:
            tail = f":{self.n}" if self.kind is Act.RATE else ""
            return f"{self.kind}:{self.order_id}{tail}"
        if self.kind in VOTE_ACTS:
            return f"{self.kind}:{self.arg}:{self.n}"
        if self.kind in (Act.ROLE, Act.SAVE_PHONE):
            return f"{self.kind}:{self.arg}"
        if self.kind in (Act.PICK, Act.TOPIC, Act.DOCK) or self.kind in CASE_ACTS:
            return f"{self.kind}:{self.n}"
        return str(self.kind)


def order_action(kind: Act, order_id: int, score: int | None = None) -> Action:
    return Action(kind, order_id=order_id, n=score)


def _int(value: str) -> int | None:
    if not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def parse_action(data: str) -> Action | None:
    """The action written by ``str(action)``; None for anything else (never raises)."""
    name, _, rest = (data or "").strip().partition(":")
    try:
        kind = Act(name)
    except ValueError:
        return None
    parts = rest.split(":") if rest else []
    if kind in _BY_ORDER:
        if not parts or (order_id := _int(parts[0])) is None:
            return None
        if kind is Act.RATE:
            score = _int(parts[1]) if len(parts) == 2 else None
            return Action(kind, order_id=order_id, n=score) if score is not None else None
        return Action(kind, order_id=order_id) if len(parts) == 1 else None
    if kind in VOTE_ACTS:
        if len(parts) != 2 or parts[0] not in VOTE_SOURCES or (ref := _int(parts[1])) is None:
            return None
        return Action(kind, n=ref, arg=parts[0])
    if kind is Act.ROLE:
        return Action(kind, arg=parts[0]) if len(parts) == 1 and parts[0] in ROLES else None
    if kind is Act.SAVE_PHONE:  # digits only, as long as a phone can be
        ok = len(parts) == 1 and parts[0].isdigit() and 7 <= len(parts[0]) <= 15
        return Action(kind, arg=parts[0]) if ok else None
    if kind in (Act.PICK, Act.TOPIC, Act.DOCK) or kind in CASE_ACTS:
        index = _int(parts[0]) if len(parts) == 1 else None
        return Action(kind, n=index) if index is not None else None
    return Action(kind) if not parts else None
