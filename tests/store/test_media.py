"""Stored photos and voice: checked by content, EXIF stripped, limits, who may see them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session

from store.media import (
    MediaRejected,
    MediaStorage,
    attach_to_need,
    count_for_need,
    delete_media,
    latest_open_need,
    may_view_media,
    media_file,
    media_for_need,
    read_media,
    save_media,
    sniff_audio,
)
from store.notifications import decline, record_notified
from store.orders import accept, cancel
from store.users import Role, add_role
from tests import media_files as f
from tests.factories import make_expert, make_user, post


@pytest.fixture
def storage(tmp_path: Path) -> MediaStorage:
    return MediaStorage(root=tmp_path / "media", max_photo_bytes=200_000, max_voice_bytes=50_000)


def test_photo_is_stored_without_exif_or_gps_and_turned_upright(session, storage) -> None:
    user = make_user(session)
    original = f.jpeg_with_gps(64, 48, orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(f.GPS_IFD)  # it has GPS

    row = save_media(
        session=session,
        storage=storage,
        owner_user_id=user.id,
        kind="photo",
        data=original,
        mime="image/png",  # declared wrongly: the content decides
    )

    stored = read_media(storage=storage, media=row)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and row.mime == "image/jpeg"
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(f.GPS_IFD) == {}
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    assert image.size == (48, 64)  # orientation 6 applied before the tag went
    assert storage.path_of(row).is_relative_to(storage.root.resolve())
    assert not Path(row.path).is_absolute()
    assert row.size == len(stored) and len(row.sha256) == 64


def test_png_with_transparency_is_kept_as_jpeg(session, storage) -> None:
    user = make_user(session)
    row = save_media(
        session=session, storage=storage, owner_user_id=user.id, kind="photo", data=f.png()
    )
    assert Image.open(io.BytesIO(read_media(storage=storage, media=row))).size == (40, 30)


@pytest.mark.parametrize(
    ("data", "found"),
    [(f.PDF, "pdf"), (b"hello, I am text", "unknown"), (f.HEIC, "heic"), (b"", "empty")],
)
def test_a_non_image_is_refused_and_nothing_is_written(session, storage, data, found) -> None:
    user = make_user(session)
    with pytest.raises(MediaRejected) as err:
        save_media(
            session=session,
            storage=storage,
            owner_user_id=user.id,
            kind="photo",
            data=data,
            mime="image/jpeg",
        )
    assert err.value.reason == "bad_type"
    assert err.value.found == found
    assert not storage.root.exists() or not any(storage.root.rglob("*.*"))


def test_a_photo_over_the_size_limit_is_refused(session, storage) -> None:
    user = make_user(session)
    big = f.noisy_jpeg(500, 500)
    assert len(big) > storage.max_photo_bytes
    with pytest.raises(MediaRejected) as err:
        save_media(session=session, storage=storage, owner_user_id=user.id, kind="photo", data=big)
    assert err.value.reason == "too_large"


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (f.AMR, "audio/amr"),
        (f.OGG_OPUS, "audio/ogg"),
        (f.MP3, "audio/mpeg"),
        (f.M4A, "audio/mp4"),
        (f.WAV, "audio/wav"),
        (f.WEBM, "audio/webm"),
        (f.AAC, "audio/aac"),
        (f.HEIC, None),
        (f.PDF, None),
    ],
)
def test_audio_is_known_by_its_magic_bytes(data, mime) -> None:
    assert sniff_audio(data) == mime


def test_voice_is_stored_as_sent_and_refused_when_not_audio(session, storage) -> None:
    user = make_user(session)
    row = save_media(
        session=session,
        storage=storage,
        owner_user_id=user.id,
        kind="voice",
        data=f.AMR,
        mime="image/jpeg",
        duration_s=3.5,
    )
    assert (row.mime, row.duration_s) == ("audio/amr", 3.5)
    assert read_media(storage=storage, media=row) == f.AMR
    with pytest.raises(MediaRejected) as err:
        save_media(
            session=session, storage=storage, owner_user_id=user.id, kind="voice", data=f.PDF
        )
    assert err.value.reason == "bad_type"
    with pytest.raises(MediaRejected) as err:
        save_media(
            session=session,
            storage=storage,
            owner_user_id=user.id,
            kind="voice",
            data=f.AMR + bytes(60_000),
        )
    assert err.value.reason == "too_large"


def _photo(session: Session, storage: MediaStorage, owner_id: int, **kw):  # type: ignore[no-untyped-def]
    return save_media(
        session=session,
        storage=storage,
        owner_user_id=owner_id,
        kind="photo",
        data=f.jpeg_with_gps(),
        **kw,
    )


def test_a_need_carries_at_most_six_photos(session, storage) -> None:
    posted = post(session)
    owner = posted.need.requester_id
    need_id = posted.need.id
    for _ in range(6):
        _photo(session, storage, owner, need_id=need_id)
    with pytest.raises(MediaRejected) as err:
        _photo(session, storage, owner, need_id=need_id)
    assert err.value.reason == "too_many"
    loose = _photo(session, storage, owner)
    with pytest.raises(MediaRejected):
        attach_to_need(
            session=session, storage=storage, media_ids=[loose.id], need_id=need_id, owner_id=owner
        )
    assert count_for_need(session=session, need_id=need_id, kind="photo") == 6
    assert media_file(session=session, media_id=loose.id).need_id is None
    # voice has a limit of its own
    voice = save_media(
        session=session,
        storage=storage,
        owner_user_id=owner,
        kind="voice",
        data=f.AMR,
        need_id=need_id,
    )
    assert [m.id for m in media_for_need(session=session, need_id=need_id, kind="voice")] == [
        voice.id
    ]


def test_attach_takes_only_the_owners_loose_files(session, storage) -> None:
    posted = post(session)
    owner = posted.need.requester_id
    other = make_user(session)
    mine = _photo(session, storage, owner)
    theirs = _photo(session, storage, other.id)
    attached = attach_to_need(
        session=session,
        storage=storage,
        media_ids=[mine.id, theirs.id],
        need_id=posted.need.id,
        owner_id=owner,
    )
    assert attached == [mine.id]
    assert media_file(session=session, media_id=theirs.id).need_id is None


def test_who_may_view_a_photo(session, storage) -> None:
    posted = post(session)
    owner = posted.need.requester_id
    order_id = posted.order.id
    photo = _photo(session, storage, owner, need_id=posted.need.id)
    told, declined, stranger = make_expert(session), make_expert(session), make_expert(session)
    for e in (told, declined, stranger):
        add_role(session=session, user=e, role=Role.EXPERT)
    record_notified(
        session=session,
        order_id=order_id,
        round_=1,
        matches=[(told.id, 1.0, "x"), (declined.id, 0.5, "y")],
    )
    decline(session=session, order_id=order_id, expert_id=declined.id)

    def may(uid: int) -> bool:
        return may_view_media(session=session, media_id=photo.id, user_id=uid)

    assert may(owner) and may(told.id)
    assert not may(declined.id) and not may(stranger.id)
    assert not may_view_media(session=session, media_id=999_999, user_id=owner)

    accept(session=session, order_id=order_id, expert=told)
    assert may(owner) and may(told.id) and not may(stranger.id)
    loose = _photo(session, storage, owner)
    assert not may_view_media(session=session, media_id=loose.id, user_id=told.id)


def test_notified_experts_lose_sight_when_another_accepts(session, storage) -> None:
    posted = post(session)
    photo = _photo(session, storage, posted.need.requester_id, need_id=posted.need.id)
    first, second = make_expert(session), make_expert(session)
    for e in (first, second):
        add_role(session=session, user=e, role=Role.EXPERT)
    record_notified(
        session=session,
        order_id=posted.order.id,
        round_=1,
        matches=[(first.id, 1.0, "x"), (second.id, 0.5, "y")],
    )
    accept(session=session, order_id=posted.order.id, expert=first)
    assert not may_view_media(session=session, media_id=photo.id, user_id=second.id)


def test_latest_open_need_and_delete(session, storage) -> None:
    requester = make_user(session)
    older = post(session, requester)
    newer = post(session, requester)
    assert latest_open_need(session=session, requester_id=requester.id)[1].id == newer.need.id
    cancel(session=session, order_id=newer.order.id, requester=requester)
    assert latest_open_need(session=session, requester_id=requester.id)[1].id == older.need.id

    row = _photo(session, storage, requester.id)
    path = storage.path_of(row)
    assert path.exists()
    assert delete_media(session=session, storage=storage, media_id=row.id)
    assert not path.exists()
    assert not delete_media(session=session, storage=storage, media_id=row.id)


def test_an_older_database_gains_the_outbox_media_column(engine) -> None:
    from store.db import init_db
    from store.outbox import OutboxMessage, enqueue
    from tests.factories import downgrade, fresh_connections

    downgrade(engine, 6)
    assert init_db(engine) >= 7
    fresh_connections(engine)
    with Session(engine, expire_on_commit=False) as s:
        row = enqueue(session=s, channel="telegram", external_id="1", text="x", media=[3, 4])
        plain = enqueue(session=s, channel="telegram", external_id="1", text="y")
    with Session(engine) as s:
        assert s.get(OutboxMessage, row.id).media == [3, 4]
        assert s.get(OutboxMessage, plain.id).media is None
