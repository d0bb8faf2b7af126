"""WeChat's side of the wire: signatures, 安全模式 (AES) envelopes, message XML, replies.

wechatpy does the cryptography, the parsing and the reply XML; this module turns its
exceptions into two of ours: :class:`BadSignature` (403: not from WeChat) and
:class:`BadMessage` (400: from someone who knows the token, but unreadable).
"""

from __future__ import annotations

import binascii
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner


class BadSignature(Exception):
    """The request is not signed with our token."""


class BadMessage(Exception):
    """The request is signed but its body cannot be read; the message names the problem."""


@dataclass(frozen=True, slots=True)
class WechatMessage:
    """One message or event from a person, as the assistant's adapter needs it."""

    key: str  # what WeChat's retries share: MsgId, or sender + CreateTime for events
    openid: str  # FromUserName: the person, unique per account
    account: str  # ToUserName: our account (a passive reply comes from it)
    kind: str  # MsgType: text, image, voice, event, or another WeChat type
    text: str = ""  # Content; a voice's Recognition
    media_id: str = ""
    pic_url: str = ""
    event: str = ""  # for kind "event": subscribe, unsubscribe, CLICK ... (lower case)
    event_key: str = ""


def signature(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted parts, concatenated."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), (given or "").encode())


class Codec:
    """Reads and writes the account's messages.

    Args:
        token: the Token of the account's server settings.
        aes_key: the EncodingAESKey; "" for 明文模式 (then encrypted messages are refused).
        app_id: the AppID (part of every AES envelope).
    """

    def __init__(self, token: str, aes_key: str = "", app_id: str = "") -> None:
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None

    def check(self, query: Mapping[str, str]) -> None:
        """The plain signature every request carries (timestamp, nonce, token)."""
        expected = signature(self.token, query.get("timestamp", ""), query.get("nonce", ""))
        if not _same(expected, query.get("signature", "")):
            raise BadSignature("signature does not match WECHAT_TOKEN")

    def handshake(self, query: Mapping[str, str]) -> str:
        """The echostr to answer when WeChat checks the server URL."""
        self.check(query)
        return query.get("echostr", "")

    def encrypted(self, query: Mapping[str, str]) -> bool:
        return query.get("encrypt_type", "raw").lower() == "aes"

    def open(self, query: Mapping[str, str], body: bytes) -> WechatMessage:
        """The message in a POST body, its signature checked (plaintext or AES)."""
        if not self.encrypted(query):
            self.check(query)
            if self.crypto is not None:
                msg = "plaintext message refused: WECHAT_AES_KEY is set, use 安全模式"
                raise BadSignature(msg)
            return parse(body)
        if self.crypto is None:
            raise BadMessage("encrypted message but WECHAT_AES_KEY is not set")
        envelope = _xml(body)
        encrypt = envelope.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise BadMessage("encrypted message without <Encrypt>")
        expected = signature(
            self.token, query.get("timestamp", ""), query.get("nonce", ""), encrypt
        )
        if not _same(expected, query.get("msg_signature", "")):
            raise BadSignature("msg_signature does not match WECHAT_TOKEN")
        try:
            plain = self.crypto.decrypt_message(
                body, query["msg_signature"], query.get("timestamp", ""), query.get("nonce", "")
            )
        except InvalidSignatureException as exc:
            raise BadSignature("msg_signature does not match WECHAT_TOKEN") from exc
        except InvalidAppIdException as exc:
            raise BadMessage("encrypted for another AppID than WECHAT_APP_ID") from exc
        except (ValueError, binascii.Error, IndexError, UnicodeDecodeError) as exc:
            msg = f"cannot decrypt <Encrypt> with WECHAT_AES_KEY ({exc.__class__.__name__})"
            raise BadMessage(msg) from exc
        return parse(plain.encode() if isinstance(plain, str) else plain)

    def reply(
        self, message: WechatMessage, text: str, query: Mapping[str, str], *, encrypt: bool
    ) -> str:
        """A passive text reply to *message* (encrypted like the request was)."""
        # wechatpy writes the text into CDATA as it is: a "]]>" in it (a person's words
        # echoed back) would end the CDATA early, and control characters are no XML at all
        safe = _CONTROL.sub("", text).replace("]]>", "]]]]><![CDATA[>")
        xml = TextReply(source=message.account, target=message.openid, content=safe).render()
        if not encrypt or self.crypto is None:
            return str(xml)
        return str(
            self.crypto.encrypt_message(xml, query.get("nonce", ""), query.get("timestamp"))
        )


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml(body: bytes) -> dict[str, object]:
    if not body.strip():
        raise BadMessage("empty body")
    try:
        doc = xmltodict.parse(body)
    except ExpatError as exc:
        raise BadMessage(f"malformed XML: {exc}") from exc
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise BadMessage("XML without an <xml> root element")
    return root


def _text(root: Mapping[str, object], name: str) -> str:
    value = root.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse(body: bytes) -> WechatMessage:
    """A message's XML as a :class:`WechatMessage`.

    Raises:
        BadMessage: not XML, or a field WeChat always sends is missing (named).
    """
    root = _xml(body)
    kind = _text(root, "MsgType").lower()
    openid = _text(root, "FromUserName")
    if not kind:
        raise BadMessage("message without <MsgType>")
    if not openid or len(openid) > 64:
        raise BadMessage(f"bad <FromUserName> {openid[:80]!r}")
    event = _text(root, "Event").lower() if kind == "event" else ""
    msg_id = _text(root, "MsgId")
    key = msg_id or f"{openid}:{_text(root, 'CreateTime')}:{event}"
    return WechatMessage(
        key=key,
        openid=openid,
        account=_text(root, "ToUserName"),
        kind=kind,
        text=_text(root, "Content") or _text(root, "Recognition"),
        media_id=_text(root, "MediaId"),
        pic_url=_text(root, "PicUrl"),
        event=event,
        event_key=_text(root, "EventKey"),
    )
