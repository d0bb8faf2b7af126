"""A requester correcting a need they posted ("搞错了 地方是营山县"): its place, crop or budget
change while no expert has taken it; once taken, the expert is the one to tell."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from store.errors import InvalidInput
from store.lifecycle import OrderStatus
from store.needs import MAX_BUDGET, Need, get_need
from store.rollups import tracking
from store.validation import validate_region

UNTAKEN = (OrderStatus.POSTED.value, OrderStatus.MATCHED.value)
EDITABLE = frozenset(("province", "city", "county", "crop", "budget"))


def correct_need(*, session: Session, need_id: int, requester_id: int, **changes: Any) -> bool:
    """Change the place, crop or budget of *requester_id*'s need *need_id* while it is
    untaken (one conditional UPDATE, so an expert accepting at the same moment either sees
    the old need or the new one, never half); the regional rollups follow the new place.
    False when it was taken (or withdrawn) meanwhile; committed by the caller.

    Raises:
        InvalidInput: a column that may not be corrected, an unknown region, an absurd budget.
    """
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput("field", ",".join(sorted(unknown)), "not correctable after posting")
    if {"province", "city", "county"} & set(changes):
        need = get_need(session=session, need_id=need_id)
        place = {k: changes.get(k, getattr(need, k)) for k in ("province", "city", "county")}
        validate_region(**place)
    budget = changes.get("budget")
    if budget is not None and not 0 <= int(budget) <= MAX_BUDGET:
        raise InvalidInput("budget", budget, f"expected 0..{MAX_BUDGET}")
    if "crop" in changes:
        changes["crop"] = str(changes["crop"]).strip()[:32]
    with tracking(session, requester_id):
        done = session.execute(
            update(Need)
            .where(
                col(Need.id) == need_id,
                col(Need.requester_id) == requester_id,
                col(Need.status).in_(UNTAKEN),
            )
            .values(**changes)
            .execution_options(synchronize_session="fetch")
        )
    return bool(getattr(done, "rowcount", 0))
