"""Photos and voice on Telegram: files people send become `MediaIn` (the largest photo size,
the voice file, an image or audio sent as a file), and stored media ids on a reply or an
outbox row are sent as photos and voice messages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import PurePath

from aiogram import Bot
from aiogram.types import BufferedInputFile, Message
from sqlmodel import Session

from dialogs.types import MediaIn
from store.errors import NotFound
from store.media import MediaFile, MediaStorage, media_file, read_media

log = logging.getLogger(__name__)

# what Telegram plays as a voice message; other audio goes as a file
VOICE_MIMES = {"audio/ogg", "audio/mpeg", "audio/mp4"}


def has_media(message: Message) -> bool:
    """A photo, a voice or audio message, or an image / audio sent as a file."""
    if message.photo or message.voice or message.audio:
        return True
    mime = (message.document.mime_type or "") if message.document else ""
    return mime.startswith(("image/", "audio/"))


async def media_from(message: Message, bot: Bot) -> tuple[MediaIn, ...]:
    """The file of *message*, downloaded through the Bot API (the store checks it)."""
    if message.photo:
        largest = max(message.photo, key=lambda p: p.width * p.height)
        return (MediaIn("photo", await _download(bot, largest.file_id), "image/jpeg"),)
    if message.voice:
        voice = message.voice
        data = await _download(bot, voice.file_id)
        return (MediaIn("voice", data, voice.mime_type or "", float(voice.duration)),)
    if message.audio:
        audio = message.audio
        data = await _download(bot, audio.file_id)
        return (MediaIn("voice", data, audio.mime_type or "", float(audio.duration)),)
    document = message.document
    if document is not None:
        mime = document.mime_type or ""
        kind = "photo" if mime.startswith("image/") else "voice"
        return (MediaIn(kind, await _download(bot, document.file_id), mime),)
    return ()


async def _download(bot: Bot, file_id: str) -> bytes:
    got = await bot.download(file_id)
    return got.read() if got is not None else b""


def load(
    session_factory: Callable[[], Session], storage: MediaStorage, media_ids: tuple[int, ...]
) -> list[tuple[MediaFile, bytes]]:
    """The stored files to send; one that is gone (deleted with its owner) is left out."""
    files = []
    with session_factory() as session:
        for media_id in media_ids:
            try:
                row = media_file(session=session, media_id=media_id)
                files.append((row, read_media(storage=storage, media=row)))
            except (NotFound, OSError, ValueError) as exc:
                log.warning("media %s not sent: %s", media_id, exc)
    return files


async def send(bot: Bot, chat_id: int, files: list[tuple[MediaFile, bytes]]) -> None:
    """Each file as a photo, a voice message, or (audio Telegram does not play) a file."""
    for row, data in files:
        upload = BufferedInputFile(data, filename=PurePath(row.path).name)
        if row.kind == "photo":
            await bot.send_photo(chat_id=chat_id, photo=upload)
        elif row.mime in VOICE_MIMES:
            duration = int(row.duration_s) if row.duration_s else None
            await bot.send_voice(chat_id=chat_id, voice=upload, duration=duration)
        else:
            await bot.send_document(chat_id=chat_id, document=upload)
