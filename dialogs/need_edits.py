"""A posted need corrected by saying so ("搞错了 地方是营山县", "不是海椒 是番茄"): read like a
correction inside the need form, applied to the person's latest open need while no expert has
taken it (said back with 已改为, experts for the new place told); once taken, the expert is the
one to tell."""

from __future__ import annotations

import re
from typing import Any

from dialogs.context import Turn
from dialogs.form_reading import meant_values, updates_from
from dialogs.form_specs import NEED, place_dict
from dialogs.form_words import CORRECTION
from dialogs.formdesk import FormDesk
from dialogs.matching import MatchDesk
from dialogs.nlu.slots import extract
from dialogs.nlu.terms import label_key
from dialogs.order_refs import CANCELLABLE
from retrieval.matching import Scope
from store.errors import InvalidInput
from store.lifecycle import OrderStatus
from store.need_edits import correct_need
from store.needs import get_need
from store.order_reads import get_order, order_ids
from store.region import Region

# "地点改成营山县", "作物换成番茄": a change said without a correction word
_CHANGES = re.compile(r"改成|改为|换成|应该是|其实是|搞错|弄错|说错|写错|打错|不对")
_SLOTS = ("region", "crop", "budget")


def correct_posted(turn: Turn, text: str, matching: MatchDesk) -> bool:
    """Apply a correction to the person's latest open need; True when *text* was one (the
    need changed, or the person told whom to tell)."""
    if not (CORRECTION.match(text) or _CHANGES.search(text)):
        return False
    session, uid = turn.session, turn.user.id or 0
    ids = order_ids(session=session, statuses=CANCELLABLE, requester_id=uid)
    if not ids:
        return False
    order = get_order(session=session, order_id=ids[-1])
    need = get_need(session=session, need_id=order.need_id)
    have: dict[str, Any] = {
        "region": place_dict(Region(need.province, need.city, need.county)),
        "crop": need.crop,
        "budget": need.budget,
    }
    said = extract(text)
    updates = updates_from(NEED, said, text, None)
    meant_values(updates, have, said, text)
    changed = {k: updates[k] for k in _SLOTS if k in updates and updates[k] != have[k]}
    if not changed:
        return False
    if order.status == OrderStatus.ACCEPTED:
        turn.say(turn.t("need_taken_tell_expert", id=order.id))
        return True
    columns = dict(changed.get("region", {}))
    columns.update({k: v for k, v in changed.items() if k != "region"})
    try:
        done = correct_need(session=session, need_id=need.id or 0, requester_id=uid, **columns)
    except InvalidInput:
        session.rollback()
        return False
    if not done:  # taken (or withdrawn) a moment ago
        session.rollback()
        turn.say(turn.t("need_taken_tell_expert", id=order.id))
        return True
    session.commit()
    session.refresh(need)
    values = "；".join(
        f"{turn.t(label_key(k, need.crop))} {FormDesk.shown(turn, k, v)}"
        for k, v in changed.items()
    )
    turn.say(turn.t("changed_to", values=values) + turn.t("need_changed_note", id=order.id))
    out = matching.match(session, need, order, Scope.CITY, locale=turn.locale)
    turn.out.outbound.extend(out.outbound)
    for reply in out.replies:
        turn.say(reply.text)
    return True
