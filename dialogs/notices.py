"""Messages for other people than the one writing: `tell` queues one in the receiver's
language, and `need_summary` is what an expert sees of a need before accepting it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from dialogs.i18n import t
from dialogs.types import Outbound, Outcome
from knowledge.anonymise import mask_personal
from store.errors import NotFound
from store.needs import Need
from store.phone import mask_then_truncate
from store.users import get_user

SUMMARY_CHARS = 60


def tell(
    out: Outcome,
    session: Session,
    user_id: int | None,
    key: str,
    *,
    kind: str,
    ref: str = "",
    **values: Any,
) -> None:
    """Queue a message for another person, in their own language (no-op for nobody)."""
    if not user_id:
        return
    try:
        user = get_user(session=session, user_id=user_id)
    except NotFound:
        return
    text = t(key, user.locale, **values)
    out.outbound.append(Outbound(user.channel, user.external_id, text, kind=kind, ref=ref))


def need_summary(need: Need, *, with_place: bool = True) -> str:
    """What an expert sees of a need before accepting: place, crop and the text with every
    phone-like number and introduced name masked (masked first, then shortened, so no cut
    number slips through)."""
    region = need.county or need.city or need.province
    bits = [x for x in (region if with_place else "", need.crop) if x]
    # a name the requester gave in their words (我叫王大明) waits for their consent too
    text = mask_then_truncate(mask_personal(need.problem or need.text), SUMMARY_CHARS)
    summary = f"{' · '.join(bits)} · {text}" if bits else text
    if need.requester_kind == "enterprise":  # a company's project: its terms
        terms = [t("enterprise_project", "zh")]
        if need.budget:
            n = need.budget
            terms.append(t("budget_line", "zh", value=f"{n / 10_000:g}万" if n >= 10_000 else n))
        if need.deadline:
            terms.append(t("deadline_line", "zh", value=need.deadline))
        if need.paid_contract:
            terms.append(t("paid_contract", "zh"))
        summary = f"{summary}（{'，'.join(terms)}）"
    return summary
