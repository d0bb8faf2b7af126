"""The two WeChat sides of a test: the platform posting signed (and in 安全模式 encrypted)
XML to `/wechat` like WeChat does, and a fake api.weixin.qq.com issuing tokens, recording
customer-service messages and serving media.

The AES envelope is built here from WeChat's specification (AES-256-CBC, key = the
EncodingAESKey + "=" base64-decoded, IV = its first 16 bytes, plaintext = 16 random bytes +
4-byte big-endian length + XML + AppID, PKCS#7 padding to 32 bytes), not with the library
the application uses, so the two check each other.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ACCOUNT = "gh_tianfu_test"
APP_ID = "wx1234567890abcdef"
SECRET = "app-secret-for-tests"
TOKEN = "tianfuToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat makes them


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _cipher(aes_key: str) -> Cipher:  # type: ignore[type-arg]
    key = base64.b64decode(aes_key + "=")
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(xml: str, aes_key: str = AES_KEY, app_id: str = APP_ID) -> str:
    body = os.urandom(16) + struct.pack(">I", len(xml.encode())) + xml.encode() + app_id.encode()
    pad = 32 - len(body) % 32
    body += bytes([pad]) * pad
    enc = _cipher(aes_key).encryptor()
    return base64.b64encode(enc.update(body) + enc.finalize()).decode()


def decrypt(text: str, aes_key: str = AES_KEY, app_id: str = APP_ID) -> str:
    dec = _cipher(aes_key).decryptor()
    plain = dec.update(base64.b64decode(text)) + dec.finalize()
    plain = plain[: -plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    assert plain[20 + length :].decode() == app_id
    return plain[20 : 20 + length].decode()


def field_of(xml: str, name: str) -> str:
    m = re.search(rf"<{name}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</{name}>", xml, re.S)
    return m.group(1) if m else ""


def text_xml(openid: str, content: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def media_xml(openid: str, kind: str, media_id: str, msg_id: int, **extra: str) -> str:
    fields = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in extra.items())
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
        f"<MediaId><![CDATA[{media_id}]]></MediaId>{fields}<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, at: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{at}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>"
    )


@dataclass
class Answer:
    status: int
    body: str
    text: str = ""  # the passive reply's Content ("" for success)
    to: str = ""  # its ToUserName


class Platform:
    """WeChat posting to our server URL (plaintext, or encrypted when *aes_key* is set)."""

    def __init__(
        self,
        client: TestClient,  # type: ignore[type-arg]
        api: FakeWechatAPI,
        *,
        aes_key: str = "",
        token: str = TOKEN,
    ) -> None:
        self.client, self.api, self.aes_key, self.token = client, api, aes_key, token
        self.ids = itertools.count(int(time.time()) * 1000)

    def query(self, **extra: str) -> dict[str, str]:
        ts, nonce = str(int(time.time())), os.urandom(4).hex()
        return {"timestamp": ts, "nonce": nonce, "signature": sign(self.token, ts, nonce), **extra}

    async def handshake(self, echostr: str, *, token: str | None = None) -> tuple[int, str]:
        q = self.query()
        if token is not None:
            q["signature"] = sign(token, q["timestamp"], q["nonce"])
        resp = await self.client.get("/wechat", params={**q, "echostr": echostr})
        return resp.status, await resp.text()

    async def post(
        self, xml: str, *, openid: str = "", forge: bool = False, raw: bool = False
    ) -> Answer:
        """Post *xml* as WeChat would (encrypted when set up so, unless *raw*)."""
        q = self.query(openid=openid)
        body = xml
        if self.aes_key and not raw:
            cipher = encrypt(xml, self.aes_key)
            q["encrypt_type"] = "aes"
            q["msg_signature"] = sign(self.token, q["timestamp"], q["nonce"], cipher)
            body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{cipher}]]></Encrypt></xml>"
        if forge:
            key = "msg_signature" if "msg_signature" in q else "signature"
            q[key] = sign("not-the-token", q["timestamp"], q["nonce"])
        if openid:
            self.api.user_wrote(openid)
        resp = await self.client.post("/wechat", params=q, data=body.encode())
        text = await resp.text()
        answer = Answer(resp.status, text)
        if resp.status == 200 and text != "success":
            reply = text
            if "<Encrypt>" in text:
                cipher = field_of(text, "Encrypt")
                ts, nonce = field_of(text, "TimeStamp"), field_of(text, "Nonce")
                assert field_of(text, "MsgSignature") == sign(self.token, ts, nonce, cipher)
                reply = decrypt(cipher, self.aes_key)
            answer.text, answer.to = field_of(reply, "Content"), field_of(reply, "ToUserName")
            assert field_of(reply, "FromUserName") == ACCOUNT
        return answer

    async def say(self, openid: str, content: str, msg_id: int | None = None) -> Answer:
        return await self.post(text_xml(openid, content, msg_id or next(self.ids)), openid=openid)


@dataclass
class FakeWechatAPI:
    """api.weixin.qq.com: tokens (one may be expired on purpose), custom/send (checking the
    48 h / 5-message window itself) and media/get."""

    now: Callable[[], datetime]
    tokens: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    sent: list[tuple[str, str]] = field(default_factory=list)  # (openid, text)
    refused: list[tuple[str, int]] = field(default_factory=list)  # (openid, errcode)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (type, content)
    expire_next_send: bool = False
    last_in: dict[str, datetime] = field(default_factory=dict)
    since: dict[str, int] = field(default_factory=dict)
    server: TestServer | None = None

    def user_wrote(self, openid: str) -> None:
        self.last_in[openid], self.since[openid] = self.now(), 0

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def texts(self, openid: str) -> list[str]:
        return [t for o, t in self.sent if o == openid]

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        app.router.add_get("/cgi-bin/media/get", self._media)
        app.router.add_post("/cgi-bin/media/upload", self._upload)
        app.router.add_get("/pic/{name}", self._pic)  # stands in for mmbiz.qpic.cn (PicUrl)
        self.server = TestServer(app)
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("appid") != APP_ID or q.get("secret") != SECRET:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        token = f"TOKEN-{len(self.tokens) + 1}"
        self.tokens.append(token)
        self.valid = {token}  # a new token replaces the old one
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        if self.expire_next_send:
            self.expire_next_send = False
            self.valid.discard(token)
        if token not in self.valid:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        body: dict[str, Any] = await request.json()
        openid, kind = body["touser"], body["msgtype"]
        if kind == "text":
            text = body["text"]["content"]
            assert len(text.encode()) <= 2048, len(text.encode())
        else:  # image / voice: a temporary media id uploaded before
            assert kind in ("image", "voice") and self.uploads[body[kind]["media_id"]][0] == kind
            text = f"<{kind} {body[kind]['media_id']}>"
        last = self.last_in.get(openid)
        if last is None or self.now() - last > timedelta(hours=48):
            self.refused.append((openid, 45015))
            return web.json_response({"errcode": 45015, "errmsg": "response out of time limit"})
        if self.since.get(openid, 0) >= 5:
            self.refused.append((openid, 45047))
            return web.json_response({"errcode": 45047, "errmsg": "out of response count limit"})
        self.since[openid] = self.since.get(openid, 0) + 1
        self.sent.append((openid, text))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _pic(self, request: web.Request) -> web.Response:
        found = self.media.get("pic:" + request.match_info["name"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    async def _upload(self, request: web.Request) -> web.Response:
        if request.query.get("access_token", "") not in self.valid:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        kind = request.query.get("type", "")
        form = await request.post()
        part = form["media"]
        media_id = f"MEDIA-{len(self.uploads) + 1}"
        self.uploads[media_id] = (kind, part.file.read())  # type: ignore[union-attr]
        return web.json_response({"type": kind, "media_id": media_id, "created_at": 1})

    async def _media(self, request: web.Request) -> web.Response:
        if request.query.get("access_token", "") not in self.valid:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=found[0], content_type=found[1])
