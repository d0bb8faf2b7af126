"""The few WeChat server APIs the channel calls: the access token, customer-service text
messages (``cgi-bin/message/custom/send``) and downloads of what people sent
(``cgi-bin/media/get``).

The token is kept in the database, shared by every process of the account, refreshed five
minutes before it expires and again whenever WeChat calls it invalid or expired (40001,
40014, 42001). (wechatpy's own client is synchronous and keeps the expiry in the process,
so the calls are made here with aiohttp; wechatpy handles the message format.)
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, FormData
from sqlmodel import Session

from store.clock import utcnow
from store.wechat import cached_token, drop_token, save_token

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid / malformed / expired token
WINDOW_ERRORS = frozenset({45015, 45047})  # out of the 48 h window / too many messages
GONE_ERRORS = frozenset({43004, 40003})  # unfollowed the account / unknown openid
MAX_MEDIA_BYTES = 10 * 1024 * 1024
MARGIN = timedelta(minutes=5)


class WechatError(Exception):
    """WeChat answered with an error code (or something that is no answer at all)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class TokenRefused(WechatError):
    """WeChat gives no access token: the account's settings are wrong (AppID, AppSecret,
    IP whitelist); nothing can be sent until the operator fixes them."""


class WechatAPI:
    """Calls to the WeChat API at *base* for the account *app_id*.

    Args:
        base: WECHAT_API_BASE (https://api.weixin.qq.com, or a proxy / test server).
        app_id, secret: WECHAT_APP_ID, WECHAT_APP_SECRET.
        session_factory: database sessions (the shared token).
        now: the wall-clock time in UTC.
    """

    def __init__(
        self,
        *,
        base: str,
        app_id: str,
        secret: str,
        session_factory: Callable[[], Session],
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.base, self.app_id, self.secret = base.rstrip("/"), app_id, secret
        self.session_factory, self.now = session_factory, now
        self._http: ClientSession | None = None
        self._lock = asyncio.Lock()
        self.tokens_fetched = 0

    @property
    def http(self) -> ClientSession:
        if self._http is None or self._http.closed:
            self._http = ClientSession(timeout=ClientTimeout(total=15))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def token(self, *, stale: str = "") -> str:
        """A valid access token; *stale* is one WeChat just refused (it is not reused)."""
        async with self._lock:
            with self.session_factory() as s:
                if stale:
                    drop_token(session=s, app_id=self.app_id, token=stale)
                token = cached_token(session=s, app_id=self.app_id, now=self.now(), margin=MARGIN)
            if token:
                return token
            data = await self._json(
                "GET",
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self.secret,
                },
            )
            token = str(data.get("access_token") or "")
            if not token:
                code = int(data.get("errcode") or -1)
                msg = (
                    f"{data.get('errmsg', str(data)[:200])} (check WECHAT_APP_ID, "
                    "WECHAT_APP_SECRET and the account's IP whitelist)"
                )
                raise TokenRefused(code, msg)
            expires = self.now() + timedelta(seconds=int(data.get("expires_in") or 7200))
            with self.session_factory() as s:
                save_token(session=s, app_id=self.app_id, token=token, expires_at=expires)
            self.tokens_fetched += 1
            log.info("WeChat access token refreshed (valid until %s)", expires.isoformat())
            return token

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        async with self.http.request(method, self.base + path, **kwargs) as resp:
            raw = await resp.read()
            if resp.status >= 500:
                raise WechatError(-1, f"HTTP {resp.status} from {path}")
        return _decode(raw, path)

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """An API call with the token, retried once with a new token when WeChat refuses
        the one it was given."""
        token = await self.token()
        params = dict(kwargs.pop("params", {}))
        body = kwargs.pop("data", None)
        for attempt in range(2):
            query = {**params, "access_token": token}
            # a form is consumed by sending it: a callable builds it anew for the retry
            sent = body() if callable(body) else body
            data = await self._json(method, path, params=query, data=sent, **kwargs)
            code = int(data.get("errcode") or 0)
            if code in TOKEN_ERRORS and attempt == 0:
                log.info("WeChat refused the access token (%s); fetching a new one", code)
                token = await self.token(stale=token)
                continue
            if code:
                raise WechatError(code, str(data.get("errmsg", "")))
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    async def send_text(self, openid: str, text: str) -> None:
        """One customer-service text message.

        Raises:
            WechatError: WeChat refused it (errcode says why: window, unfollowed ...).
        """
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._call(
            "POST",
            "/cgi-bin/message/custom/send",
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    async def send_media(self, openid: str, kind: str, data: bytes, mime: str) -> None:
        """A photo ("image") or voice message ("voice"; AMR or MP3): uploaded as temporary
        media, then sent as one customer-service message.

        Raises:
            WechatError: WeChat refused the upload or the message.
        """

        def form() -> FormData:
            out = FormData()
            name = f"{kind}.{mime.split('/')[-1]}"
            out.add_field("media", data, filename=name, content_type=mime)
            return out

        uploaded = await self._call(
            "POST", "/cgi-bin/media/upload", params={"type": kind}, data=form
        )
        media_id = str(uploaded.get("media_id") or "")
        if not media_id:
            raise WechatError(-1, f"no media_id in {str(uploaded)[:200]}")
        body = {"touser": openid, "msgtype": kind, kind: {"media_id": media_id}}
        await self._call(
            "POST",
            "/cgi-bin/message/custom/send",
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    async def download(self, media_id: str, url: str = "") -> tuple[bytes, str]:
        """A file a person sent (image, voice) by its MediaId, or from *url* (an image's
        PicUrl) when the media API refuses; (content, content type)."""
        try:
            return await self._media(media_id)
        except (WechatError, ClientError, TimeoutError) as exc:
            if not url:
                raise
            log.info("media %s not downloaded (%s); trying its PicUrl", media_id, exc)
        async with self.http.get(url) as resp:
            if resp.status != 200:
                raise WechatError(-1, f"HTTP {resp.status} for PicUrl")
            return await _read_limited(resp), resp.content_type

    async def _media(self, media_id: str) -> tuple[bytes, str]:
        token = await self.token()
        for attempt in range(2):
            async with self.http.get(
                self.base + "/cgi-bin/media/get",
                params={"access_token": token, "media_id": media_id},
            ) as resp:
                raw = await _read_limited(resp)
                kind = resp.content_type
            if kind not in ("application/json", "text/plain"):
                return raw, kind
            data = _decode(raw, "/cgi-bin/media/get")
            code = int(data.get("errcode") or 0)
            if code in TOKEN_ERRORS and attempt == 0:
                token = await self.token(stale=token)
                continue
            raise WechatError(code or -1, str(data.get("errmsg", "no file in the answer")))
        raise AssertionError("unreachable")  # pragma: no cover


async def _read_limited(resp: Any) -> bytes:
    if (resp.content_length or 0) > MAX_MEDIA_BYTES:
        raise WechatError(-1, f"file of {resp.content_length} bytes is too large")
    raw = await resp.content.read(MAX_MEDIA_BYTES + 1)
    if len(raw) > MAX_MEDIA_BYTES:
        raise WechatError(-1, "file too large")
    return bytes(raw)


def _decode(raw: bytes, path: str) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WechatError(-1, f"{path} answered no JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise WechatError(-1, f"{path} answered {str(data)[:100]}")
    return data
