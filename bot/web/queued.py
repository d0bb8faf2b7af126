"""The web chat's turns in ``tianfu worker`` (REDIS_URL; issue 17).

``/api/chat`` and ``/api/media`` queue each request as an update (bot.web.chat): the person's
session id, the text or the button's wire form, the ref of the notice it answers, and for an
upload the id of the file already stored. Here the worker runs the turn and commits, in one
transaction, the messages for others, the replies (reserved for the waiting request until its
deadline: store.replies) and the update's handled row; a redelivered update finds that row
and is a no-op.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from bot.app import outbox_rows
from bot.cluster.apology import apologise
from bot.cluster.handoff import Handoff
from bot.web.hub import CHANNEL
from dialogs.actions import parse_action
from dialogs.types import Incoming, MediaIn, Outbound, Outcome
from store.replies import record_replies
from store.updates import was_handled

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)


def incoming_of(payload: dict[str, Any]) -> Incoming:
    """The assistant's view of a queued web request (raises ValueError for a malformed one)."""
    sid = str(payload["sid"])
    wire = payload.get("action")
    if wire is not None:
        action = parse_action(str(wire))
        if action is None:
            msg = f"unknown action {wire!r}"
            raise ValueError(msg)
        return Incoming(channel=CHANNEL, user_id=sid, action=action)
    media = tuple(
        MediaIn(str(m["kind"]), b"", str(m.get("mime", "")), stored=int(m["id"]))
        for m in payload.get("media") or []
    )
    return Incoming(
        channel=CHANNEL,
        user_id=sid,
        text=str(payload.get("text", "")),
        reply_to_ref=str(payload.get("ref", "")),
        media=media,
    )


class WebTurns:
    """Handles the web chat's queued updates (the worker's dispatch calls it by channel)."""

    channel = CHANNEL

    def __init__(self, services: Services, handoff: Handoff) -> None:
        self.services, self.handoff = services, handoff

    async def handle(self, fields: dict[bytes, bytes]) -> None:
        """One queued request; returns once its turn committed (or was committed before)."""
        payload = json.loads(fields[b"u"])
        incoming = incoming_of(payload)
        services = self.services

        def run() -> bool:
            with services.session_factory() as session:
                if was_handled(session=session, channel=CHANNEL, update_id=payload["id"]):
                    return False
                outcome = services.assistant.handle(incoming, session=session)
                services.queue(session, outcome, commit=False)
                return self._commit(session, payload, outcome)

        # a turn may wait up to LLM_TIMEOUT for the model: keep the worker's loop serving
        new = await asyncio.to_thread(run) if services.assistant.llm is not None else run()
        if new:
            await self.handoff.announce(payload["id"])

    async def give_up(self, fields: dict[bytes, bytes], exc: BaseException) -> None:
        """A request that keeps failing: the person gets an apology (once)."""
        await apologise(self.services, CHANNEL, fields, self._commit, self.handoff)

    async def close(self) -> None:
        """Nothing to release (the Redis client is the worker's)."""

    @staticmethod
    def _commit(session: Any, payload: dict[str, Any], outcome: Outcome) -> bool:
        sid = str(payload["sid"])
        replies = [
            Outbound(CHANNEL, sid, r.text, r.buttons, kind="reply", media=r.media)
            for r in outcome.replies
            if r.text.strip() or r.buttons or r.media
        ]
        record_replies(
            session=session,
            channel=CHANNEL,
            update_id=payload["id"],
            chat_id=sid,
            rows=outbox_rows(replies),
            until=datetime.fromisoformat(payload["until"]),
        )
        try:
            session.commit()
        except IntegrityError:  # handled meanwhile by another worker: that one counts
            session.rollback()
            return False
        return True
