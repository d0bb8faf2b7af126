"""Photos and voice messages people send with their needs.

Each file is checked by its content (never by the declared type), limited in size, and kept
on disk under the media root with one ``media_files`` row (path relative to the root, size,
sha256, and a transcript for voice). Photos are re-encoded with Pillow after applying their
orientation, which drops every metadata block (EXIF with GPS, XMP, comments). Photos are
personal data: :func:`may_view_media` says who may see one.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import Field, Session, SQLModel, col, func, select

from store.clock import utcnow
from store.errors import NotFound, StoreError
from store.lifecycle import OrderStatus
from store.needs import Need
from store.notifications import OrderNotification
from store.order_tables import Order

log = logging.getLogger(__name__)

MAX_PER_NEED = 6  # photos (and, separately, voice messages) one need can carry
MAX_PHOTO_SIDE = 2048  # longer sides are scaled down: experts read a phone photo fine at that
MAX_PIXELS = 60_000_000  # a bigger picture is refused before decoding it (decompression bombs)
_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: phones' multi-picture JPEG
# ISO base media brands: HEIF images, and the audio containers phones record into
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
_MP4_AUDIO_BRANDS = {
    b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"3gp4", b"3gp5", b"3gp6", b"3g2a",
}  # fmt: skip
EXTENSIONS = {
    "image/jpeg": "jpg",
    "audio/amr": "amr",
    "audio/amr-wb": "awb",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/wav": "wav",
    "audio/webm": "webm",
}


class MediaKind(StrEnum):
    PHOTO = "photo"
    VOICE = "voice"


class MediaFile(SQLModel, table=True):
    __tablename__ = "media_files"

    id: int | None = Field(default=None, primary_key=True)
    owner_user_id: int = Field(foreign_key="users.id", index=True)
    need_id: int | None = Field(default=None, foreign_key="needs.id", index=True)
    kind: str = Field(max_length=8)  # MediaKind
    mime: str = Field(max_length=32)  # what the content is (after checking / re-encoding)
    path: str = Field(max_length=255)  # relative to the media root
    size: int
    sha256: str = Field(max_length=64)
    duration_s: float | None = None  # voice length when the channel said
    transcript: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)


class MediaRejected(StoreError, ValueError):
    """A file was refused; nothing was stored.

    *reason* is one of ``too_large``, ``bad_type``, ``too_many`` (the assistant turns it into
    a sentence); *found* names what the content was (e.g. ``heic``, ``pdf``) when known.
    """

    code = "media_rejected"
    REASONS = ("too_large", "bad_type", "too_many")

    def __init__(self, reason: str, kind: str, detail: str, *, found: str = "") -> None:
        if reason not in self.REASONS:
            msg = f"unknown media refusal reason {reason!r}"
            raise ValueError(msg)
        self.reason = reason
        self.kind = kind
        self.found = found
        super().__init__(f"{kind} refused ({reason}): {detail}")


@dataclass(frozen=True, slots=True)
class MediaStorage:
    """Where files live and how big they may be (MEDIA_ROOT, MEDIA_URL, MEDIA_MAX_*).

    The database keeps paths relative to *root*, so the folder can move; *url* is where the
    files are served (``/media/`` on our own server, or an object store's address).
    """

    root: Path
    url: str = "/media/"
    max_photo_bytes: int = 10_000_000
    max_voice_bytes: int = 5_000_000
    max_per_need: int = MAX_PER_NEED

    def path_of(self, media: MediaFile) -> Path:
        """The file of *media* on disk (refusing a stored path that leaves the root)."""
        root = self.root.resolve()
        path = (root / media.path).resolve()
        if not path.is_relative_to(root):
            msg = f"media {media.id} path {media.path!r} is outside the media root {root}"
            raise ValueError(msg)
        return path

    def url_of(self, media: MediaFile) -> str:
        return f"{self.url.rstrip('/')}/{media.id}"

    def limit(self, kind: str) -> int:
        return self.max_photo_bytes if kind == MediaKind.PHOTO else self.max_voice_bytes


# ---- checking content --------------------------------------------------------------------
def _iso_brand(data: bytes) -> bytes:
    return data[8:12] if data[4:8] == b"ftyp" else b""


def _what(data: bytes) -> str:
    """A short name for content we refuse, for the operator's log and the user's hint."""
    if _iso_brand(data) in _HEIF_BRANDS:
        return "heic"
    for magic, name in (
        (b"%PDF", "pdf"),
        (b"GIF8", "gif"),
        (b"BM", "bmp"),
        (b"PK\x03\x04", "zip"),
        (b"\x7fELF", "elf"),
        (b"MZ", "exe"),
    ):
        if data.startswith(magic):
            return name
    if data[:1] in (b"<", b"{"):
        return "text"
    return "unknown"


def clean_photo(data: bytes, *, max_side: int = MAX_PHOTO_SIDE) -> bytes:
    """The photo as a fresh JPEG: orientation applied, no metadata, at most *max_side* px.

    Raises:
        MediaRejected: not a JPEG, PNG or WebP image (``bad_type``; HEIC says ``found``
            "heic" unless a Pillow plugin reads it), or too many pixels (``too_large``).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in _IMAGE_FORMATS and not (
                image.format in ("HEIF", "AVIF") and _what(data) == "heic"
            ):
                raise MediaRejected("bad_type", "photo", f"image format {image.format}")
            if image.width * image.height > MAX_PIXELS:
                raise MediaRejected(
                    "too_large", "photo", f"{image.width}x{image.height} pixels", found="pixels"
                )
            if image.format in ("JPEG", "MPO"):
                # decode at 1/2, 1/4 or 1/8 scale when that still covers max_side: a 12 MP
                # phone photo decodes several times faster
                image.draft("RGB", (max_side, max_side))
            image.load()
        except MediaRejected:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise MediaRejected("too_large", "photo", str(exc), found="pixels") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            found = _what(data)
            raise MediaRejected("bad_type", "photo", f"{found}: {exc}", found=found) from None
    upright: Image.Image = ImageOps.exif_transpose(image) or image
    if upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    ):
        rgba = upright.convert("RGBA")
        rgb = Image.new("RGB", rgba.size, (255, 255, 255))
        rgb.paste(rgba, mask=rgba.getchannel("A"))
    else:
        rgb = upright.convert("RGB")
    rgb.thumbnail((max_side, max_side))
    clean = Image.new("RGB", rgb.size)  # a new image: nothing of the original's info
    clean.paste(rgb)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def sniff_audio(data: bytes) -> str | None:
    """The audio type by its magic bytes (AMR, OGG/Opus, MP3, M4A/AAC, WAV, WebM), or None."""
    head = data[:16]
    if head.startswith(b"#!AMR-WB\n"):
        return "audio/amr-wb"
    if head.startswith(b"#!AMR\n"):
        return "audio/amr"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM / Matroska (browsers' recorder)
        return "audio/webm"
    if _iso_brand(head) in _MP4_AUDIO_BRANDS:
        return "audio/mp4"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: 12 sync bits, layer 00
            return "audio/aac"
        if head[1] & 0xE0 == 0xE0 and (head[1] >> 1) & 0x3:  # MPEG audio frame, layer I-III
            return "audio/mpeg"
    return None


def checked(kind: str, data: bytes, storage: MediaStorage) -> tuple[bytes, str]:
    """What to store for *data* of *kind* and its real type.

    Raises:
        MediaRejected: empty, too large, or not a photo / voice message by content.
    """
    if kind not in (MediaKind.PHOTO, MediaKind.VOICE):
        raise MediaRejected("bad_type", str(kind), f"unknown media kind {kind!r}")
    limit = storage.limit(kind)
    if not data:
        raise MediaRejected("bad_type", kind, "empty file", found="empty")
    if len(data) > limit:
        raise MediaRejected("too_large", kind, f"{len(data)} bytes > {limit}")
    if kind == MediaKind.PHOTO:
        return clean_photo(data), "image/jpeg"
    mime = sniff_audio(data)
    if mime is None:
        found = _what(data)
        raise MediaRejected("bad_type", kind, f"not a known audio format ({found})", found=found)
    return data, mime


# ---- records -----------------------------------------------------------------------------
def count_for_need(*, session: Session, need_id: int, kind: str) -> int:
    stmt = select(func.count()).where(MediaFile.need_id == need_id, MediaFile.kind == kind)
    return int(session.exec(stmt).one())


def _room(session: Session, storage: MediaStorage, need_id: int, kind: str, adding: int) -> None:
    have = count_for_need(session=session, need_id=need_id, kind=kind)
    if have + adding > storage.max_per_need:
        raise MediaRejected(
            "too_many", kind, f"need {need_id} has {have} of {storage.max_per_need}"
        )


def save_media(
    *,
    session: Session,
    storage: MediaStorage,
    owner_user_id: int,
    kind: str,
    data: bytes,
    mime: str = "",
    need_id: int | None = None,
    duration_s: float | None = None,
) -> MediaFile:
    """Check *data* by content, write it under the media root and record it.

    *mime* is what the channel declared; only the content decides (a mismatch is logged).
    With *need_id* the file is attached to that need at once.

    Raises:
        MediaRejected: too large, not a photo / voice by content, or the need is full.
    """
    content, real = checked(kind, data, storage)
    if mime and mime.split(";")[0].strip().lower() not in (real, "application/octet-stream"):
        log.info("media declared %r is %s by its content", mime[:40], real)
    if need_id is not None:
        _room(session, storage, need_id, kind, 1)
    now = utcnow()
    rel = f"{kind}/{now:%Y/%m}/{uuid.uuid4().hex}.{EXTENSIONS.get(real, 'bin')}"
    path = storage.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    row = MediaFile(
        owner_user_id=owner_user_id,
        need_id=need_id,
        kind=str(kind),
        mime=real,
        path=rel,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        duration_s=duration_s,
        created_at=now,
    )
    try:
        session.add(row)
        session.commit()
    except Exception:
        session.rollback()
        path.unlink(missing_ok=True)
        raise
    session.refresh(row)
    log.info("stored %s %d (%s, %d bytes) of user %d", kind, row.id, real, row.size, owner_user_id)
    return row


def media_file(*, session: Session, media_id: int) -> MediaFile:
    row = session.get(MediaFile, media_id)
    if row is None:
        raise NotFound("media", media_id)
    return row


def read_media(*, storage: MediaStorage, media: MediaFile) -> bytes:
    """The stored bytes (raises FileNotFoundError naming the path when the file is gone)."""
    return storage.path_of(media).read_bytes()


def media_for_need(*, session: Session, need_id: int, kind: str | None = None) -> list[MediaFile]:
    """A need's files in the order they came."""
    stmt = select(MediaFile).where(MediaFile.need_id == need_id)
    if kind is not None:
        stmt = stmt.where(MediaFile.kind == kind)
    return list(session.exec(stmt.order_by(col(MediaFile.id))).all())


def media_of_user(*, session: Session, user_id: int) -> list[MediaFile]:
    stmt = select(MediaFile).where(MediaFile.owner_user_id == user_id)
    return list(session.exec(stmt.order_by(col(MediaFile.id))).all())


def media_kinds(*, session: Session, media_ids: list[int]) -> dict[int, str]:
    """Kind per media id (unknown ids left out)."""
    if not media_ids:
        return {}
    stmt = select(MediaFile.id, MediaFile.kind).where(col(MediaFile.id).in_(media_ids))
    return {mid: kind for mid, kind in session.exec(stmt).all() if mid is not None}


def attach_to_need(
    *, session: Session, storage: MediaStorage, media_ids: list[int], need_id: int, owner_id: int
) -> list[int]:
    """Attach the owner's unattached files to a need; the ids attached.

    Raises:
        MediaRejected: ``too_many`` when a kind would pass the per-need limit (nothing moves).
    """
    rows = [
        r
        for r in session.exec(select(MediaFile).where(col(MediaFile.id).in_(media_ids))).all()
        if r.owner_user_id == owner_id and r.need_id in (None, need_id)
    ]
    for kind in {r.kind for r in rows}:
        adding = sum(1 for r in rows if r.kind == kind and r.need_id is None)
        _room(session, storage, need_id, kind, adding)
    for row in rows:
        row.need_id = need_id
        session.add(row)
    session.commit()
    return [r.id for r in rows if r.id is not None]


def set_transcript(*, session: Session, media_id: int, transcript: str) -> None:
    row = media_file(session=session, media_id=media_id)
    row.transcript = transcript.strip()[:2000]
    session.add(row)
    session.commit()


def delete_media(*, session: Session, storage: MediaStorage, media_id: int) -> bool:
    """Remove one file and its row; False when there was none."""
    row = session.get(MediaFile, media_id)
    if row is None:
        return False
    path = storage.path_of(row)
    session.delete(row)
    session.commit()
    path.unlink(missing_ok=True)
    return True


def delete_rows_of(*, session: Session, storage: MediaStorage, user_id: int) -> list[Path]:
    """Delete a person's media rows (not committed: part of the caller's transaction); the
    files to remove once it commits (see :func:`remove_files`)."""
    paths = [storage.path_of(r) for r in media_of_user(session=session, user_id=user_id)]
    session.execute(delete(MediaFile).where(col(MediaFile.owner_user_id) == user_id))
    return paths


def remove_files(paths: list[Path]) -> int:
    """Unlink files whose rows are gone; how many were there (a failure is logged)."""
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError:
            log.exception("could not remove media file %s", path)
    return removed


def may_view_media(*, session: Session, media_id: int, user_id: int) -> bool:
    """Whether *user_id* may see this file: its owner; for a file on a need, the expert who
    accepted the need's order, and while nobody has, the experts notified of it (not those
    who said 不合适)."""
    row = session.get(MediaFile, media_id)
    if row is None:
        return False
    if row.owner_user_id == user_id:
        return True
    if row.need_id is None:
        return False
    order = session.exec(select(Order).where(Order.need_id == row.need_id)).first()
    if order is None or order.id is None:
        return False
    if order.expert_id is not None:
        return order.expert_id == user_id
    if order.status not in (OrderStatus.POSTED, OrderStatus.MATCHED):
        return False
    notified = session.exec(
        select(OrderNotification.id).where(
            OrderNotification.order_id == order.id,
            OrderNotification.expert_id == user_id,
            col(OrderNotification.declined).is_(False),
        )
    ).first()
    return notified is not None


def latest_open_need(*, session: Session, requester_id: int) -> tuple[Order, Need] | None:
    """The person's most recent need whose order is still open (posted, matched, accepted),
    with its order."""
    open_ = (OrderStatus.POSTED, OrderStatus.MATCHED, OrderStatus.ACCEPTED)
    stmt = (
        select(Order, Need)
        .join(Need, col(Order.need_id) == col(Need.id))
        .where(Order.requester_id == requester_id, col(Order.status).in_(open_))
        .order_by(col(Need.id).desc())
    )
    row = session.exec(stmt).first()
    return (row[0], row[1]) if row is not None else None
