"""Text messages (and captions); Markdown articles from administrators; a clear answer for
content we cannot read yet."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import PurePath

from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.types import Message
from sqlmodel import Session

from bot.app import Services
from bot.telegram.media import has_media
from bot.telegram.turns import Turn, handle_media, handle_text, incoming_from, reply_all, seen
from dialogs.i18n import t
from dialogs.types import MediaIn
from knowledge.ingest import add_article
from knowledge.loader import MAX_FILE_BYTES, ArticleError
from store.achievement_files import MAX_BYTES as MAX_ACHIEVEMENT_BYTES

log = logging.getLogger(__name__)

UNSUPPORTED_ZH = (
    "目前只能看懂文字、照片和语音。请用文字描述：作物、症状、地点和联系电话，"
    "比如“宜宾翠屏区李子树流胶，想请专家看看”，也可以拍张照片发过来。"
)
UNSUPPORTED_EN = (
    "I can only read text, photos and voice messages for now. Please describe the crop, the "
    "symptoms, the place and a phone number in words, or send a photo."
)


# Filters are coroutines: aiogram runs a plain callable (a magic filter such as F.text
# included) in a worker thread, two thread hops on every message for nothing.
async def _has_document(message: Message) -> bool:
    return bool(message.document)


async def _has_text(message: Message) -> bool:
    return bool(message.text or message.caption)


async def _has_media(message: Message) -> bool:  # a coroutine: aiogram runs it without a thread
    return has_media(message)


def setup() -> Router:
    router = Router(name=__name__)

    @router.message(_has_document)
    async def on_document(message: Message, services: Services, bot: Bot) -> None:
        """An administrator adds an article by sending its Markdown file; others fall through."""
        user, document = message.from_user, message.document
        if user is None or document is None or user.id not in services.admin_ids:
            raise SkipHandler
        if is_achievement_file(document.file_name or ""):
            raise SkipHandler  # a file of achievements, not an article
        locale = "en" if (user.language_code or "").startswith("en") else "zh"
        name = PurePath(document.file_name or "").name[:64]  # refusals name the upload
        if not (document.file_name or "").lower().endswith(".md"):
            await message.answer(t("article_not_markdown", locale), parse_mode=None)
            return
        if (document.file_size or 0) > MAX_FILE_BYTES:
            reason = f"file is {document.file_size} bytes; the limit is {MAX_FILE_BYTES} (1 MB)"
            text = t("article_refused", locale, name=name, line=0, reason=reason)
            await message.answer(text, parse_mode=None)
            return
        raw = await bot.download(document)
        try:
            article = add_article(
                services.knowledge,
                raw.read() if raw is not None else b"",
                overlay=services.corpus_overlay,
            )
        except ArticleError as exc:
            log.info("article upload from %s refused: %s", user.id, exc)
            text = t("article_refused", locale, name=name, line=exc.line, reason=exc.reason)
            await message.answer(text, parse_mode=None)
            return
        if services.assistant.science.knowledge is None:  # the first article of an empty index
            services.assistant.science.knowledge = services.knowledge
        text = t("article_added", locale, title=article.title, id=article.id)
        await message.answer(text, parse_mode=None)

    # ---- issue 18: an expert's file of achievements (CSV or JSONL) ----
    @router.message(_has_document)
    async def on_achievement_file(
        message: Message, services: Services, session: Session, bot: Bot
    ) -> None:
        document = message.document
        if document is None or not is_achievement_file(document.file_name or ""):
            raise SkipHandler
        incoming = incoming_from(message, message.caption or "")
        if (document.file_size or 0) > MAX_ACHIEVEMENT_BYTES:
            data = b"x" * (MAX_ACHIEVEMENT_BYTES + 1)  # refused by size, with its reason
        else:
            raw = await bot.download(document)
            data = raw.read() if raw is not None else b""
        name = PurePath(document.file_name or "").name[:64]
        incoming = replace(
            incoming, media=(MediaIn("document", data, document.mime_type or "", name=name),)
        )
        seen(session, incoming.user_id)
        outcome = services.assistant.handle(incoming, session=session)
        services.queue(session, outcome)
        await reply_all(message, outcome)

    @router.message(_has_media)
    async def on_media(
        message: Message, bot: Bot, services: Services, session: Session, turn: Turn | None = None
    ) -> None:
        """Photos and voice (and images or audio sent as files), with their caption."""
        await handle_media(message, bot, services, session, turn)

    @router.message(_has_text)
    async def on_text(
        message: Message, services: Services, session: Session, turn: Turn | None = None
    ) -> None:
        text = message.text if message.text is not None else (message.caption or "")
        await handle_text(message, text, services, session, turn)

    @router.message()
    async def on_other(message: Message) -> None:
        english = message.from_user is not None and (
            message.from_user.language_code or ""
        ).startswith("en")
        await message.answer(UNSUPPORTED_EN if english else UNSUPPORTED_ZH, parse_mode=None)

    return router


def is_achievement_file(name: str) -> bool:
    """A .csv or .jsonl upload is a file of achievements (issue 18)."""
    return name.lower().endswith((".csv", ".jsonl", ".ndjson"))
