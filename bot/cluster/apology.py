"""An HTTP channel's queued update that keeps failing (issue 17): its person is told once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dialogs.i18n import t
from dialogs.types import Outcome
from store.clock import utcnow
from store.updates import was_handled

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.app import Services
    from bot.cluster.handoff import Handoff


async def apologise(
    services: Services,
    channel: str,
    fields: dict[bytes, bytes],
    commit: Callable[[Session, dict[str, Any], Outcome], bool],
    handoff: Handoff | None,
) -> None:
    """An HTTP channel's queued update that keeps failing: its person gets an apology, once
    (*commit* records it like a turn's replies, due at once)."""
    payload = json.loads(fields[b"u"])
    out = Outcome()
    out.say(t("error", services.settings.locale))
    with services.session_factory() as session:
        if was_handled(session=session, channel=channel, update_id=payload["id"]):
            return
        done = commit(session, {**payload, "until": utcnow().isoformat()}, out)
    if done and handoff is not None:
        await handoff.announce(payload["id"])
