"""The mobile web chat: the page at ``/chat`` and its JSON API, over the one assistant.

- ``GET /chat`` - the page (Chinese, phone-first); issues the session cookie (signed,
  HttpOnly, SameSite=Lax) whose random id is the person's identity on channel "web";
- ``POST /api/chat`` - ``{"text": ...}`` or ``{"action": "<wire form>"}`` -> the replies;
- ``POST /api/media`` - multipart: one photo or voice file (field ``file``), optional
  ``text`` -> the replies;
- ``GET /api/events`` - server-sent events: messages for this person from the outbox;
- ``GET /media/{id}`` - a stored photo or voice, for someone allowed to see it
  (``store.media.may_view_media``: its owner, the notified or accepting expert).

Every ``/api/*`` request needs the cookie (else 401); POSTs must come from this site (Origin
or Referer; else 403); rate limits per session and per address answer 429 with Retry-After;
bodies over the limits 413; bad JSON or a bad action 400, always with a Chinese sentence.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from bot.background import background_of
from bot.web.guard import (
    COOKIE,
    COOKIE_SECONDS,
    CookieSigner,
    RateLimiter,
    client_address,
    over_https,
    same_origin,
    too_many,
    web_secret,
)
from bot.web.hub import CHANNEL, EventHub
from dialogs.actions import parse_action
from dialogs.i18n import t
from dialogs.media import MediaDesk
from dialogs.types import Incoming, MediaIn, Outcome, Reply
from store.media import (
    MediaRejected,
    MediaStorage,
    may_view_media,
    media_file,
    media_kinds,
    save_media,
)
from store.outbox import OutboxMessage
from store.replies import held_replies, take_replies
from store.users import find_user, get_or_create_user

if TYPE_CHECKING:
    from bot.app import Services
    from bot.cluster.handoff import Handoff

log = logging.getLogger(__name__)

HUB = web.AppKey("web_hub", EventHub)
MAX_JSON = 16 * 1024
HEARTBEAT = 15.0
STATIC = {
    "chat.js": "application/javascript",
    "chat.css": "text/css",
}
PAGE_HEADERS = {
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        "media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # a page's own id for one request (retries)
_TEXT_ONLY = {"buttons": [], "source": "", "media": []}
_SOURCE = re.compile(r"^(?:来源|Source)[：:]\s*(.+)$", re.M)
Api = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def media_json(
    storage: MediaStorage, ids: tuple[int, ...] | list[int], kinds: dict[int, str]
) -> list[dict[str, str]]:
    """Stored photos and voice as the page shows them: where to fetch each and its kind."""
    url = storage.url.rstrip("/")
    return [{"url": f"{url}/{m}", "kind": kinds.get(m, "photo")} for m in ids]


def reply_json(
    reply: Reply, storage: MediaStorage, kinds: dict[int, str] | None = None
) -> dict[str, Any]:
    """One reply as the page shows it: text, buttons (wire-form actions), the source it
    cites, and its photos and voice."""
    source = _SOURCE.search(reply.text)
    return {
        "text": reply.text,
        "buttons": [
            {"label": b.label, "action": str(b.action)} for row in reply.buttons for b in row
        ],
        "source": source.group(1).strip() if source else "",
        "media": media_json(storage, reply.media, kinds or {}),
    }


def row_json(
    row: OutboxMessage, storage: MediaStorage, kinds: dict[int, str] | None = None
) -> dict[str, Any]:
    """A queued message for this person, as an event."""
    source = _SOURCE.search(row.text)
    return {
        "id": row.id,
        "kind": row.kind,
        "text": row.text,
        "buttons": [b for r in row.buttons for b in r],
        "source": source.group(1).strip() if source else "",
        "media": media_json(storage, row.media or [], kinds or {}),
    }


def _static(name: str) -> bytes:
    return resources.files("bot.web").joinpath("static", name).read_bytes()


class WebChat:
    """The routes' state: the cookie signer, the rate limits and the event hub."""

    def __init__(self, services: Services, hub: EventHub, handoff: Handoff | None = None) -> None:
        settings = services.settings
        self.handoff = handoff  # REDIS_URL: turns run in `tianfu worker` (issue 17)
        self.wait = settings.web_reply_wait_seconds
        secret = settings.web_secret.get_secret_value() if settings.web_secret else ""
        self.services = services
        self.hub = hub
        self.signer = CookieSigner(web_secret(secret, settings.data_dir))
        self.per_session = RateLimiter(settings.web_rate_session)
        self.per_address = RateLimiter(settings.web_rate_address)
        # the HTTP limit; each kind's own (MEDIA_MAX_*) is the store's to enforce
        self.max_upload = max(settings.media_max_photo_bytes, settings.media_max_voice_bytes)
        self.storage = services.media

    # ---- the guard every API route passes ----------------------------------------------------
    def api(self, handler: Api, *, post: bool) -> Callable[[web.Request], Awaitable[Any]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            wait = self.per_address.hit(client_address(request))
            if wait:
                return too_many(wait)
            sid = self.signer.session_id(request.cookies.get(COOKIE, ""))
            if sid is None:
                return _error(401, "会话已失效，请刷新页面后再试。")
            if post:
                if not same_origin(request):
                    log.warning("web chat: cross-origin POST %s refused", request.path)
                    return _error(403, "请求来源不对，已拒绝。请在本站页面里操作。")
                wait = self.per_session.hit(sid)
                if wait:
                    return too_many(wait)
            try:
                return await handler(request, sid)
            except web.HTTPRequestEntityTooLarge:
                return self._too_large()
            except (ValueError, UnicodeDecodeError) as exc:  # a malformed multipart body
                log.warning("web chat: bad request to %s: %s", request.path, exc)
                return _error(400, "请求格式不对，请刷新页面后再试。")
            except web.HTTPException:
                raise  # a 404 and the like, meant as they are
            except Exception:  # noqa: BLE001 - a bug must still answer the page in Chinese
                log.exception("web chat: %s failed", request.path)
                return _error(500, "服务器出了点问题，请稍后再试。")

        return guarded

    def _too_large(self) -> web.Response:
        mb = self.max_upload / 1_000_000
        return _error(413, f"文件太大了，请发送 {mb:g} MB 以内的照片或语音。")

    # ---- the page ----------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.StreamResponse:
        resp = web.Response(
            body=_static("chat.html"),
            content_type="text/html",
            charset="utf-8",
            headers={**PAGE_HEADERS, "Cache-Control": "no-store"},
        )
        if self.signer.session_id(request.cookies.get(COOKIE, "")) is None:
            _, cookie = self.signer.new()
            resp.set_cookie(
                COOKIE,
                cookie,
                max_age=COOKIE_SECONDS,
                path="/",
                httponly=True,
                samesite="Lax",
                secure=over_https(request),
            )
        return resp

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(
            body=_static(name),
            content_type=STATIC[name],
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    # ---- one turn ------------------------------------------------------------------------------
    async def turn(self, incoming: Incoming) -> tuple[Outcome, dict[int, str]]:
        """The assistant's turn for this message; messages for others to the outbox."""
        services = self.services

        def run() -> tuple[Outcome, dict[int, str]]:
            with services.session_factory() as session:
                outcome = services.assistant.handle(incoming, session=session)
                services.queue(session, outcome)
                ids = [m for r in outcome.replies for m in r.media]
                return outcome, media_kinds(session=session, media_ids=ids)

        # a turn may wait up to LLM_TIMEOUT for the model: keep serving others meanwhile
        done = await asyncio.to_thread(run) if services.assistant.llm is not None else run()
        if any(m.channel == CHANNEL for m in done[0].outbound):
            self.hub.poke()
        return done

    @staticmethod
    def _incoming(sid: str, **fields: Any) -> Incoming:
        """The assistant's view of this request. No locale: the page is Chinese, so replies
        follow LOCALE, not the browser's Accept-Language (often English on a Chinese phone's
        test browser, which would mix languages on one page)."""
        return Incoming(channel=CHANNEL, user_id=sid, locale=None, **fields)

    def _replies(self, done: tuple[Outcome, dict[int, str]]) -> web.Response:
        outcome, kinds = done
        replies = [reply_json(r, self.storage, kinds) for r in outcome.replies]
        return web.json_response({"replies": replies})

    async def chat(self, request: web.Request, sid: str) -> web.StreamResponse:
        if (request.content_length or 0) > MAX_JSON:
            return _error(413, f"消息太长了，请分几次发（每次不超过 {MAX_JSON // 1024} KB）。")
        raw = await request.content.read(MAX_JSON + 1)
        if len(raw) > MAX_JSON:
            return _error(413, f"消息太长了，请分几次发（每次不超过 {MAX_JSON // 1024} KB）。")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return _error(400, '请求格式不对：需要 JSON，例如 {"text": "你好"}。')
        if not isinstance(body, dict):
            return _error(400, '请求格式不对：需要 JSON 对象，例如 {"text": "你好"}。')
        text, wire = body.get("text"), body.get("action")
        if wire is not None:
            action = parse_action(wire) if isinstance(wire, str) else None
            if action is None:
                return _error(400, "这个按钮无法识别，请刷新页面后再点。")
            if self.handoff is not None:
                return await self._queued(self.handoff, sid, body.get("id"), {"action": wire})
            outcome = await self.turn(self._incoming(sid, action=action))
        elif isinstance(text, str):
            # the message right after a notice answers it (as in the console)
            ref = self.hub.refs.pop(sid, "")
            if self.handoff is not None:
                return await self._queued(
                    self.handoff, sid, body.get("id"), {"text": text, "ref": ref}
                )
            outcome = await self.turn(self._incoming(sid, text=text, reply_to_ref=ref))
        else:
            return _error(400, '请求里要有 "text"（文字）或 "action"（按钮）。')
        return self._replies(outcome)

    async def media(self, request: web.Request, sid: str) -> web.StreamResponse:
        if (request.content_length or 0) > self.max_upload + 64 * 1024:
            return self._too_large()
        if not request.content_type.startswith("multipart/"):
            return _error(400, "请用表单上传文件（multipart/form-data）。")
        reader = await request.multipart()
        text, upload, rid = "", None, ""
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "id":
                rid = (await part.read_chunk(128)).decode("ascii", errors="replace")
            elif part.name == "text":
                text = (await part.read_chunk(MAX_JSON)).decode("utf-8", errors="replace")
            elif part.name == "file" and upload is None:
                data = bytearray()
                while chunk := await part.read_chunk(64 * 1024):
                    data += chunk
                    if len(data) > self.max_upload:
                        return self._too_large()
                mime = (part.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                upload = (bytes(data), mime)
        if upload is None or not upload[0]:
            return _error(400, "没有收到文件，请重新选择照片或语音。")
        data, mime = upload
        if mime.startswith("image/"):
            kind = "photo"
        elif mime.startswith("audio/") or mime in ("video/webm", "video/mp4", "video/3gpp"):
            kind = "voice"  # phone recorders often label audio as video containers
        else:
            return _error(415, "只能发送照片（jpg、png 等）或语音，这个文件的类型不支持。")
        if self.handoff is not None:  # stored first: the queued update names the file
            stored = await asyncio.to_thread(self._store_upload, sid, kind, data, mime)
            if isinstance(stored, str):
                return web.json_response({"replies": [{**_TEXT_ONLY, "text": stored}]})
            media = [{"id": stored, "kind": kind, "mime": mime}]
            return await self._queued(
                self.handoff, sid, rid, {"text": text.strip(), "media": media}
            )
        incoming = self._incoming(sid, text=text.strip(), media=(MediaIn(kind, data, mime),))
        return self._replies(await self.turn(incoming))

    # ---- through the workers (REDIS_URL) -------------------------------------------------------
    def _store_upload(self, sid: str, kind: str, data: bytes, mime: str) -> int | str:
        """Store an upload before its update is queued: the media id, or the sentence that
        refuses it (checked by content, as the assistant would)."""
        locale = self.services.settings.locale
        with self.services.session_factory() as session:
            user = get_or_create_user(session=session, channel=CHANNEL, external_id=sid)
            try:
                row = save_media(
                    session=session,
                    storage=self.storage,
                    owner_user_id=user.id or 0,
                    kind=kind,
                    data=data,
                    mime=mime,
                )
            except MediaRejected as exc:
                log.info("web upload from %s refused: %s", sid, exc)
                mb = f"{self.storage.limit(exc.kind) / 1_000_000:g}"
                n = self.storage.max_per_need
                return t(MediaDesk.refusal_key(exc), locale, mb=mb, n=n)
            return row.id or 0

    async def _queued(
        self, handoff: Handoff, sid: str, given: Any, payload: dict[str, Any]
    ) -> web.Response:
        """Queue this request's update for the workers and answer with its replies when they
        are ready within WEB_REPLY_WAIT_SECONDS; else 202 (they arrive over /api/events)."""
        from redis.exceptions import RedisError

        rid = given if isinstance(given, str) and _REQUEST_ID.match(given) else uuid.uuid4().hex
        update_id = hashlib.sha256(f"{sid}\n{rid}".encode()).hexdigest()[:40]
        until = handoff.deadline(self.wait)
        body = {**payload, "sid": sid, "until": until.isoformat()}
        try:
            await handoff.queue(update_id, sid, body)
        except (RedisError, OSError) as exc:
            log.warning("web chat: request %s not queued, Redis away: %s", rid, exc)
            return _error(503, "服务正忙，消息没有发出去，请稍后再试。")
        ids = await handoff.wait(update_id, self.wait)
        if ids is None:
            return web.json_response({"replies": [], "id": rid, "pending": True}, status=202)
        with self.services.session_factory() as session:
            rows = held_replies(session=session, ids=ids)
            if not take_replies(session=session, ids=[r.id or 0 for r in rows]):
                rows = []  # another request for the same id took them (a resent request)
            media = [m for r in rows for m in r.media or []]
            kinds = media_kinds(session=session, media_ids=media)
        replies = [row_json(r, self.storage, kinds) for r in rows]
        return web.json_response({"replies": replies, "id": rid})

    # ---- messages for this person ------------------------------------------------------------
    async def events(self, request: web.Request, sid: str) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache, no-transform",
                "X-Accel-Buffering": "no",  # nginx: do not hold the stream back
            }
        )
        await resp.prepare(request)
        await resp.write(b"retry: 3000\n\n")
        queue = self.hub.connect(sid)
        try:
            while True:
                try:
                    row = await asyncio.wait_for(queue.get(), HEARTBEAT)
                except TimeoutError:
                    await resp.write(b": ping\n\n")  # keeps proxies and phones from closing it
                    continue
                if row is None:  # the server is stopping
                    break
                data = json.dumps(self._event(row), ensure_ascii=False)
                await resp.write(f"id: {row.id}\ndata: {data}\n\n".encode())
                self.hub.delivered(sid, row)
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            self.hub.disconnect(sid, queue)
        return resp

    def _event(self, row: OutboxMessage) -> dict[str, Any]:
        kinds: dict[int, str] = {}
        if row.media:
            with self.services.session_factory() as session:
                kinds = media_kinds(session=session, media_ids=list(row.media))
        return row_json(row, self.storage, kinds)

    async def media_file(self, request: web.Request, sid: str) -> web.StreamResponse:
        """A stored photo or voice for someone who may see it (404 for anyone else, whether or
        not it exists)."""
        try:
            media_id = int(request.match_info["id"])
        except ValueError:
            raise web.HTTPNotFound() from None
        with self.services.session_factory() as session:
            viewer = find_user(session=session, channel=CHANNEL, external_id=sid)
            if viewer is None or not may_view_media(
                session=session, media_id=media_id, user_id=viewer.id or 0
            ):
                raise web.HTTPNotFound()
            item = media_file(session=session, media_id=media_id)
        try:
            path = self.storage.path_of(item)
        except ValueError:
            log.exception("media %s: stored path refused", media_id)
            raise web.HTTPNotFound() from None
        if not path.is_file():
            log.warning("media %s: file %s is gone", media_id, path)
            raise web.HTTPNotFound()
        return web.FileResponse(
            path,
            headers={
                "Content-Type": item.mime,
                "Cache-Control": "private, max-age=86400",
                "X-Content-Type-Options": "nosniff",
            },
        )


def add_chat(app: web.Application, services: Services) -> None:
    """Mount the web chat on *app*; its event hub starts and stops with the application's
    background tasks (see bot/web/serve.py). With REDIS_URL the turns go to the workers."""
    hub = EventHub(services.session_factory)
    handoff = None
    settings = services.settings
    if settings.redis_url:
        from bot.cluster.handoff import Handoff
        from bot.cluster.streams import connect

        redis = connect(settings.redis_url)
        handoff = Handoff(redis, settings.stream_shards, CHANNEL, services.session_factory)
        background_of(app).add(handoff)

        async def close_redis(_: web.Application) -> None:
            await redis.aclose()

        app.on_cleanup.append(close_redis)
    chat = WebChat(services, hub, handoff)
    app[HUB] = hub
    background_of(app).add(hub)

    async def stop_streams(_: web.Application) -> None:
        hub.close()

    app.on_shutdown.append(stop_streams)
    app.router.add_get("/chat", chat.page)
    app.router.add_get("/chat/static/{name}", chat.static)
    app.router.add_post("/api/chat", chat.api(chat.chat, post=True))
    app.router.add_post("/api/media", chat.api(chat.media, post=True))
    app.router.add_get("/api/events", chat.api(chat.events, post=False))
    app.router.add_get("/media/{id}", chat.api(chat.media_file, post=False))
