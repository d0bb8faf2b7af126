"""A Bot API session that answers like Telegram and records every call (tests, benchmarks),
and a ChatDriver that feeds the real Dispatcher as Telegram users would."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageReplyMarkup,
    GetFile,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    SendVoice,
    SetMyCommands,
    SetWebhook,
    TelegramMethod,
)
from aiogram.types import BufferedInputFile, Chat, File, Message, Update, User

BOT_USER = User(id=4242, is_bot=True, first_name="天府科技助手", username="tianfu_bot")


class RecordingSession(BaseSession):
    """Answers like the Bot API and remembers every call; can be told to fail next calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self.by_chat: dict[int, list[SendMessage]] = {}
        self.failures: deque[Exception] = deque()
        self.files: dict[str, bytes] = {}  # file_id -> content a user uploaded
        self.documents: list[tuple[int, str, bytes]] = []  # (chat, file name, content) sent
        self.media: list[tuple[int, str, bytes]] = []  # (chat, "photo" | "voice", content) sent
        self._ids = itertools.count(1000)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        if self.failures:
            raise self.failures.popleft()
        self.calls.append(method)
        if isinstance(method, SendMessage):
            self.by_chat.setdefault(int(method.chat_id), []).append(method)
            return Message(
                message_id=next(self._ids),
                date=datetime.now(),
                chat=Chat(id=int(method.chat_id), type="private"),
                from_user=BOT_USER,
                text=method.text,
                reply_markup=method.reply_markup,
            ).as_(bot)
        if isinstance(method, SendDocument) and isinstance(method.document, BufferedInputFile):
            self.documents.append(
                (int(method.chat_id), method.document.filename or "", method.document.data)
            )
            return Message(
                message_id=next(self._ids),
                date=datetime.now(),
                chat=Chat(id=int(method.chat_id), type="private"),
                from_user=BOT_USER,
            ).as_(bot)
        if isinstance(method, SendPhoto | SendVoice):
            upload = method.photo if isinstance(method, SendPhoto) else method.voice
            kind = "photo" if isinstance(method, SendPhoto) else "voice"
            data = upload.data if isinstance(upload, BufferedInputFile) else b""
            self.media.append((int(method.chat_id), kind, data))
            return Message(
                message_id=next(self._ids),
                date=datetime.now(),
                chat=Chat(id=int(method.chat_id), type="private"),
                from_user=BOT_USER,
            ).as_(bot)
        if isinstance(method, AnswerCallbackQuery | SetMyCommands | DeleteWebhook | SetWebhook):
            return True
        if isinstance(method, EditMessageReplyMarkup):
            return True
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, GetFile) and method.file_id in self.files:
            return File(
                file_id=method.file_id,
                file_unique_id=method.file_id,
                file_size=len(self.files[method.file_id]),
                file_path=f"documents/{method.file_id}",
            )
        raise AssertionError(f"unexpected Bot API call {type(method).__name__}")

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        url = str(kwargs.get("url") or (args[0] if args else ""))
        file_id = url.rsplit("/", 1)[-1]
        yield self.files.get(file_id, b"")

    def sent(self, chat_id: int | None = None) -> list[SendMessage]:
        if chat_id is not None:
            return list(self.by_chat.get(chat_id, []))
        return [c for c in self.calls if isinstance(c, SendMessage)]

    def texts(self, chat_id: int) -> list[str]:
        return [m.text for m in self.sent(chat_id)]


class ChatDriver:
    """Talk to the bot as Telegram users do: send text, press a button, reply to a message."""

    def __init__(self, dp: Dispatcher, bot: Bot, session: RecordingSession) -> None:
        self.dp, self.bot, self.session = dp, bot, session
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1)

    def user(self, user_id: int, name: str, lang: str = "zh-hans") -> User:
        return User(id=user_id, is_bot=False, first_name=name, language_code=lang)

    async def feed(self, payload: dict[str, Any], update_id: int | None = None) -> int:
        uid = update_id if update_id is not None else next(self.update_ids)
        update = Update.model_validate({"update_id": uid, **payload}, context={"bot": self.bot})
        await self.dp.feed_update(self.bot, update)
        return uid

    def _message(self, user: User, **fields: Any) -> dict[str, Any]:
        return {
            "message_id": next(self.message_ids),
            "date": int(datetime.now().timestamp()),
            "chat": {"id": user.id, "type": "private"},
            "from": user.model_dump(exclude_none=True),
            **fields,
        }

    async def send(
        self,
        user: User,
        text: str,
        reply_to: SendMessage | None = None,
        update_id: int | None = None,
    ) -> list[str]:
        before = len(self.session.sent(user.id))
        fields: dict[str, Any] = {"text": text}
        if reply_to is not None:
            fields["reply_to_message"] = {
                "message_id": 1,
                "date": int(datetime.now().timestamp()),
                "chat": {"id": user.id, "type": "private"},
                "from": BOT_USER.model_dump(exclude_none=True),
                "text": reply_to.text,
            }
        await self.feed({"message": self._message(user, **fields)}, update_id)
        return self.session.texts(user.id)[before:]

    async def send_raw(self, user: User, **fields: Any) -> list[str]:
        before = len(self.session.sent(user.id))
        await self.feed({"message": self._message(user, **fields)})
        return self.session.texts(user.id)[before:]

    async def send_document(
        self, user: User, file_name: str, content: bytes, caption: str | None = None
    ) -> list[str]:
        """Upload a file as this user (the recording session serves it back on download)."""
        file_id = f"doc{next(self.message_ids)}"
        self.session.files[file_id] = content
        fields: dict[str, Any] = {
            "document": {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": file_name,
                "file_size": len(content),
                "mime_type": "text/markdown",
            }
        }
        if caption is not None:
            fields["caption"] = caption
        return await self.send_raw(user, **fields)

    async def click(self, user: User, label: str) -> list[str]:
        """Press the newest button with this label in the user's chat."""
        for msg in reversed(self.session.sent(user.id)):
            markup = msg.reply_markup
            rows = getattr(markup, "inline_keyboard", None) or []
            for row in rows:
                for button in row:
                    if button.text == label:
                        before = len(self.session.sent(user.id))
                        await self.feed(
                            {
                                "callback_query": {
                                    "id": str(next(self.update_ids)),
                                    "from": user.model_dump(exclude_none=True),
                                    "chat_instance": "x",
                                    "data": button.callback_data,
                                    "message": {
                                        "message_id": 1,
                                        "date": int(datetime.now().timestamp()),
                                        "chat": {"id": user.id, "type": "private"},
                                        "from": BOT_USER.model_dump(exclude_none=True),
                                        "text": msg.text,
                                    },
                                }
                            }
                        )
                        return self.session.texts(user.id)[before:]
        raise AssertionError(f"no button {label!r} in chat {user.id}")

    def buttons(self, user: User) -> list[str]:
        sent = self.session.sent(user.id)
        if not sent or sent[-1].reply_markup is None:
            return []
        return [b.text for row in sent[-1].reply_markup.inline_keyboard for b in row]
