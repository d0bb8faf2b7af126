"""A small fake Telegram Bot API server on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from typing import Any

from aiohttp import web

BOT = {"id": 4242, "is_bot": True, "first_name": "天府科技助手", "username": "tianfu_bot"}


class FakeBotAPI:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []  # every sendMessage, in order
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_next_send: deque[int] = deque()  # retry_after seconds for the next sends
        self.files: dict[str, bytes] = {}  # file_id -> what a user uploaded (getFile, download)
        self.media_sent: list[dict[str, Any]] = []  # sendPhoto / sendVoice / sendDocument
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(500)
        self._new = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self.download)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    # ---- what tests do ----------------------------------------------------------------------
    def user(self, uid: int, name: str) -> dict[str, Any]:
        return {"id": uid, "is_bot": False, "first_name": name, "language_code": "zh-hans"}

    def push(self, payload: dict[str, Any], update_id: int | None = None) -> int:
        uid = update_id if update_id is not None else next(self._update_ids)
        self.updates.append({"update_id": uid, **payload})
        self._new.set()
        return uid

    def message(self, user: dict[str, Any], text: str, update_id: int | None = None) -> int:
        return self.push(
            {
                "message": {
                    "message_id": next(self._message_ids),
                    "date": int(time.time()),
                    "chat": {"id": user["id"], "type": "private"},
                    "from": user,
                    "text": text,
                }
            },
            update_id,
        )

    def photo(self, user: dict[str, Any], content: bytes, caption: str = "") -> int:
        """A photo as Telegram delivers it: several sizes, the content behind the largest."""
        n = next(self._message_ids)
        self.files[f"photo{n}"] = content
        sizes = [
            {"file_id": f"thumb{n}", "file_unique_id": f"t{n}", "width": 90, "height": 60},
            {"file_id": f"photo{n}", "file_unique_id": f"p{n}", "width": 1280, "height": 960},
        ]
        extra = {"caption": caption} if caption else {}
        return self._media_message(user, n, photo=sizes, **extra)

    def voice(self, user: dict[str, Any], content: bytes, duration: int = 3) -> int:
        n = next(self._message_ids)
        self.files[f"voice{n}"] = content
        voice = {
            "file_id": f"voice{n}",
            "file_unique_id": f"v{n}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(content),
        }
        return self._media_message(user, n, voice=voice)

    def _media_message(self, user: dict[str, Any], n: int, **fields: Any) -> int:
        return self.push(
            {
                "message": {
                    "message_id": n,
                    "date": int(time.time()),
                    "chat": {"id": user["id"], "type": "private"},
                    "from": user,
                    **fields,
                }
            }
        )

    def media_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.media_sent if int(m["chat_id"]) == chat_id]

    async def download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    def press(self, user: dict[str, Any], label: str) -> None:
        for msg in reversed(self.to(user["id"])):
            for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        self.push(
                            {
                                "callback_query": {
                                    "id": str(next(self._message_ids)),
                                    "from": user,
                                    "chat_instance": "x",
                                    "data": button["callback_data"],
                                    "message": {
                                        "message_id": msg["message_id"],
                                        "date": int(time.time()),
                                        "chat": {"id": user["id"], "type": "private"},
                                        "from": BOT,
                                        "text": msg["text"],
                                    },
                                }
                            }
                        )
                        return
        raise AssertionError(f"no button {label!r} for {user['id']}: {self.texts(user['id'])}")

    def to(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.sent if int(m["chat_id"]) == chat_id]

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.to(chat_id)]

    async def wait_for(self, predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out; sent so far: {[m['text'][:40] for m in self.sent]}"
                )
            await asyncio.sleep(0.05)

    # ---- the Bot API --------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(await request.post())
        if not params and request.can_read_body:
            try:
                params = await request.json()
            except (json.JSONDecodeError, ValueError):
                params = {}
        self.calls.append((method, params))
        if method == "getUpdates":
            offset = int(params.get("offset", 0) or 0)
            wait = min(float(params.get("timeout", 0) or 0), 1.0)
            deadline = time.monotonic() + wait
            while True:
                pending = [u for u in self.updates if u["update_id"] >= offset]
                if pending or time.monotonic() >= deadline:
                    return ok(pending)
                self._new.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._new.wait(), timeout=max(0.01, deadline - time.monotonic())
                    )
        if method == "getMe":
            return ok(BOT)
        if method == "getFile":
            file_id = str(params.get("file_id", ""))
            if file_id not in self.files:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
                )
            return ok(
                {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "file_size": len(self.files[file_id]),
                    "file_path": f"files/{file_id}",
                }
            )
        if method in ("sendPhoto", "sendVoice", "sendDocument"):
            field = {"sendPhoto": "photo", "sendVoice": "voice", "sendDocument": "document"}[
                method
            ]
            upload = params.get(field)
            if isinstance(upload, str) and upload.startswith("attach://"):
                upload = params.get(upload.removeprefix("attach://"))  # aiogram's file part
            data = upload.file.read() if hasattr(upload, "file") else b""
            self.media_sent.append(
                {"method": method, "chat_id": int(params["chat_id"]), "data": data}
            )
            return ok(
                {
                    "message_id": next(self._message_ids),
                    "date": int(time.time()),
                    "chat": {"id": int(params["chat_id"]), "type": "private"},
                    "from": BOT,
                }
            )
        if method == "sendMessage":
            if self.fail_next_send:
                retry = self.fail_next_send.popleft()
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {retry}",
                        "parameters": {"retry_after": retry},
                    }
                )
            markup = params.get("reply_markup")
            msg = {
                "message_id": next(self._message_ids),
                "chat_id": int(params["chat_id"]),
                "text": params.get("text", ""),
                "reply_markup": json.loads(markup) if isinstance(markup, str) else markup,
            }
            self.sent.append(msg)
            return ok(
                {
                    "message_id": msg["message_id"],
                    "date": int(time.time()),
                    "chat": {"id": msg["chat_id"], "type": "private"},
                    "from": BOT,
                    "text": msg["text"],
                }
            )
        if method in {
            "editMessageText",
            "editMessageReplyMarkup",
            "answerCallbackQuery",
            "setMyCommands",
            "deleteWebhook",
            "setWebhook",
        }:
            return ok(True)
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )


def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})
