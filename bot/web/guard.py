"""What every web chat request passes: the signed session cookie, the same-origin check on
POST, and the rate limits (per session and per client address)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

log = logging.getLogger(__name__)

COOKIE = "tianfu_web"
COOKIE_SECONDS = 365 * 24 * 3600  # the cookie is the person's identity on the web channel
_LOOPBACK = ("127.0.0.1", "::1")


class CookieSigner:
    """``<session id>.<HMAC>``: the session id is random and issued by the server; the page
    cannot choose or change it."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _sig(self, sid: str) -> str:
        mac = hmac.new(self._key, f"web-session:{sid}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")

    def new(self) -> tuple[str, str]:
        """A fresh (session id, cookie value)."""
        sid = secrets.token_urlsafe(18)
        return sid, f"{sid}.{self._sig(sid)}"

    def session_id(self, cookie: str) -> str | None:
        """The session id of a cookie this server signed, else None."""
        sid, _, sig = (cookie or "").partition(".")
        if not sid or not sig or len(cookie) > 200:
            return None
        return sid if hmac.compare_digest(sig, self._sig(sid)) else None


def web_secret(configured: str, data_dir: Path) -> str:
    """WEB_SECRET, or one generated once and kept in DATA_DIR/web_secret (sessions survive a
    restart without configuration)."""
    if configured:
        return configured
    path = data_dir / "web_secret"
    if path.exists():
        kept = path.read_text(encoding="utf-8").strip()
        if len(kept) >= 16:
            return kept
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    path.write_text(secret + "\n", encoding="utf-8")
    path.chmod(0o600)
    log.info("web chat: generated a cookie secret in %s (set WEB_SECRET to choose one)", path)
    return secret


def client_address(request: web.Request) -> str:
    """The client's address; behind a reverse proxy on this machine, the one it forwards."""
    remote = request.remote or ""
    if remote in _LOOPBACK:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return remote


def over_https(request: web.Request) -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return forwarded == "https" or request.scheme == "https"


def same_origin(request: web.Request) -> bool:
    """A POST comes from our own page: its Origin (or, without one, its Referer) names the
    host the request was sent to. Browsers send Origin on every cross-site POST."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if not source or source == "null":
        return False
    host = request.headers.get("X-Forwarded-Host") or request.host
    return urlsplit(source).netloc.lower() == host.split(",")[0].strip().lower()


class RateLimiter:
    """At most *limit* events per *window* seconds per key (a sliding window)."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._events: dict[str, deque[float]] = {}

    def hit(self, key: str) -> float:
        """Count one event; 0 when allowed, else the seconds to wait."""
        now = self.clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return max(events[0] + self.window - now, 0.1)
        events.append(now)
        if len(self._events) > 100_000:  # forget idle keys now and then
            self._events = {
                k: v for k, v in self._events.items() if v and v[-1] > now - self.window
            }
        return 0.0


def too_many(wait: float) -> web.Response:
    return web.json_response(
        {"error": "操作太频繁了，请稍等一会儿再发。"},
        status=429,
        headers={"Retry-After": str(math.ceil(wait))},
    )
