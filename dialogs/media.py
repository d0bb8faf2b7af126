"""The media desk: photos and voice messages people send. Files are checked and stored by
store.media; this desk says what happened, keeps files on the need being written (the form's
``media`` slot) or adds them to a posted need and forwards them to its experts.

Where a file goes is the router's decision (dialogs.media_routing); this desk does the keeping.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from dialogs.context import Turn
from dialogs.i18n import t
from dialogs.types import MediaIn, Outbound, Reply
from retrieval.speech import Transcriber
from store.errors import NotFound
from store.lifecycle import OrderStatus
from store.media import (
    MediaFile,
    MediaKind,
    MediaRejected,
    MediaStorage,
    attach_to_need,
    count_for_need,
    delete_media,
    media_file,
    media_for_need,
    media_kinds,
    read_media,
    save_media,
    set_transcript,
)
from store.needs import Need
from store.notifications import notified_experts
from store.order_tables import Order
from store.phone import mask_then_truncate
from store.users import users_by_id

log = logging.getLogger(__name__)

SLOT = "media"  # the need form's slot holding ids of files kept for it
NOTE_CHARS = 200


@dataclass(slots=True)
class Kept:
    """The files of one message that were stored, by kind, and what a voice said."""

    photos: list[int] = field(default_factory=list)
    voices: list[int] = field(default_factory=list)
    transcript: str = ""

    @property
    def ids(self) -> list[int]:
        return [*self.photos, *self.voices]

    def __bool__(self) -> bool:
        return bool(self.photos or self.voices)


@dataclass(slots=True)
class MediaDesk:
    """Keeps photos and voice (*storage*: MEDIA_ROOT and limits; None: media are refused)
    and transcribes voice when a *transcriber* is configured (ASR_MODEL_DIR)."""

    storage: MediaStorage | None = None
    transcriber: Transcriber | None = None

    @property
    def limit(self) -> int:
        return self.storage.max_per_need if self.storage is not None else 0

    # ---- keeping -------------------------------------------------------------------------
    def keep(self, turn: Turn, have: dict[str, int]) -> Kept:
        """Store each file of this message, with room for ``limit - have[kind]`` more of a
        kind; say each refusal once. Voice is transcribed when a transcriber is set."""
        kept = Kept()
        said: set[str] = set()
        if self.storage is None:
            turn.say(turn.t("media_off"))
            return kept
        for item in turn.incoming.media:
            kind = item.kind if item.kind in (MediaKind.PHOTO, MediaKind.VOICE) else "photo"
            mine = kept.photos if kind == MediaKind.PHOTO else kept.voices
            try:
                if have.get(kind, 0) + len(mine) >= self.limit:
                    if item.stored:  # kept by the channel already: not on this need after all
                        delete_media(
                            session=turn.session, storage=self.storage, media_id=item.stored
                        )
                    raise MediaRejected("too_many", kind, f"{self.limit} per need")
                row = (
                    self._stored(turn, item)
                    if item.stored
                    else save_media(
                        session=turn.session,
                        storage=self.storage,
                        owner_user_id=turn.user.id or 0,
                        kind=kind,
                        data=item.data,
                        mime=item.mime,
                        duration_s=item.duration_s,
                    )
                )
            except MediaRejected as exc:
                log.info("media from %s refused: %s", turn.incoming.user_id, exc)
                key = self.refusal_key(exc)
                if key not in said:
                    said.add(key)
                    turn.say(self.refusal(turn, exc))
                continue
            if row.id is not None:
                mine.append(row.id)
            if kind == MediaKind.VOICE and row.id is not None:
                data = item.data or read_media(storage=self.storage, media=row)
                heard = self._transcribe(turn, row.id, data, row.mime)
                kept.transcript = " ".join(x for x in (kept.transcript, heard) if x)
        return kept

    @staticmethod
    def _stored(turn: Turn, item: MediaIn) -> MediaFile:
        """The file the channel stored for this message (it must be this person's)."""
        try:
            row = media_file(session=turn.session, media_id=item.stored)
        except NotFound:
            row = None
        if row is None or row.owner_user_id != (turn.user.id or 0):
            raise MediaRejected("bad_type", item.kind, f"stored media {item.stored} is not theirs")
        return row

    def _transcribe(self, turn: Turn, media_id: int, data: bytes, mime: str) -> str:
        if self.transcriber is None:
            return ""
        try:
            text = self.transcriber.transcribe(data, mime).strip()
        except Exception:  # noqa: BLE001 - a failed model must not lose the voice message
            log.exception("transcribing voice %d failed; kept for the expert", media_id)
            return ""
        if text:
            set_transcript(session=turn.session, media_id=media_id, transcript=text)
        return text[:500]

    @staticmethod
    def refusal_key(exc: MediaRejected) -> str:
        if exc.reason == "bad_type" and exc.found == "heic":
            return "media_refused_heic"
        kind = exc.kind if exc.kind in ("photo", "voice") else "photo"
        return f"media_refused_{exc.reason}_{kind}"

    def refusal(self, turn: Turn, exc: MediaRejected) -> str:
        """The Chinese (or English) sentence for a refused file."""
        limit = self.storage.limit(exc.kind) if self.storage is not None else 0
        return turn.t(self.refusal_key(exc), mb=f"{limit / 1_000_000:g}", n=self.limit or 6)

    # ---- where files go --------------------------------------------------------------------
    @staticmethod
    def form_counts(turn: Turn) -> dict[str, int]:
        """Files of each kind already kept on the need form."""
        form = turn.state.form
        ids = list(form.slots.get(SLOT, [])) if form is not None else []
        kinds = media_kinds(session=turn.session, media_ids=ids)
        return {k: sum(1 for i in ids if kinds.get(i) == k) for k in (MediaKind.PHOTO, "voice")}

    @staticmethod
    def need_counts(turn: Turn, need: Need) -> dict[str, int]:
        return {
            kind: count_for_need(session=turn.session, need_id=need.id or 0, kind=kind)
            for kind in (MediaKind.PHOTO, MediaKind.VOICE)
        }

    def to_form(self, turn: Turn, kept: Kept) -> None:
        """Keep the files on the open need form (they go with the need when it is posted)."""
        form = turn.state.form
        if form is None:
            return
        form.slots[SLOT] = [*form.slots.get(SLOT, []), *kept.ids]

    def say_in_form(self, turn: Turn, kept: Kept) -> None:
        counts = self.form_counts(turn)
        if kept.photos:
            turn.say(turn.t("photos_in_form", n=counts[MediaKind.PHOTO]))
        if kept.voices and not kept.transcript:
            form = turn.state.form
            awaiting_problem = form is not None and form.awaiting == "problem"
            turn.say(turn.t("voice_kept" if awaiting_problem else "voice_in_form"))

    def attach_form(self, turn: Turn, ids: list[int], need: Need) -> None:
        """The files kept on a form, now on the posted need (a refusal is said, never lost)."""
        if not ids or self.storage is None or need.id is None:
            return
        try:
            attach_to_need(
                session=turn.session,
                storage=self.storage,
                media_ids=ids,
                need_id=need.id,
                owner_id=turn.user.id or 0,
            )
        except MediaRejected as exc:
            turn.session.rollback()
            turn.say(self.refusal(turn, exc))

    def to_need(self, turn: Turn, order: Order, need: Need, kept: Kept, note: str = "") -> None:
        """Add the files to a posted need and forward them to its experts: the one who
        accepted it, or while nobody has, those notified who did not decline."""
        if self.storage is None or need.id is None:
            return
        attach_to_need(
            session=turn.session,
            storage=self.storage,
            media_ids=kept.ids,
            need_id=need.id,
            owner_id=turn.user.id or 0,
        )
        experts: list[int] = []
        if order.status == OrderStatus.ACCEPTED and order.expert_id is not None:
            experts = [order.expert_id]
        elif order.status in (OrderStatus.POSTED, OrderStatus.MATCHED) and order.id is not None:
            experts = notified_experts(session=turn.session, order_id=order.id, declined=False)
        order_id = order.id
        counts = self.need_counts(turn, need)
        later = "" if experts else "_later"
        if kept.photos:
            turn.say(turn.t(f"photos_added{later}", id=order_id, n=counts[MediaKind.PHOTO]))
        if kept.voices:
            turn.say(turn.t(f"voice_added{later}", id=order_id))
        shown = mask_then_truncate(note, NOTE_CHARS) if note else ""
        for user in users_by_id(session=turn.session, user_ids=experts).values():
            what = "、".join(
                t(key, user.locale, n=n)
                for key, n in (
                    ("media_what_photos", len(kept.photos)),
                    ("media_what_voice", len(kept.voices)),
                )
                if n
            )
            turn.out.outbound.append(
                Outbound(
                    user.channel,
                    user.external_id,
                    t("media_forwarded", user.locale, id=order_id, what=what, note=shown).strip(),
                    kind="media",
                    ref=f"order:{order_id}",
                    media=tuple(kept.ids),
                )
            )

    # ---- showing -----------------------------------------------------------------------------
    @staticmethod
    def of_need(turn: Turn, need_id: int) -> tuple[int, ...]:
        """The ids of a need's files, for a reply that shows the need (the order card)."""
        return tuple(m.id for m in media_for_need(session=turn.session, need_id=need_id) if m.id)

    @staticmethod
    def show_with(reply: Reply | None, ids: tuple[int, ...]) -> None:
        if reply is not None and ids:
            reply.media = ids
