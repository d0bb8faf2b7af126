"""WeChat's wire format and text limits, without a server."""

from __future__ import annotations

import pytest
import xmltodict

from bot.wechat.protocol import BadMessage, BadSignature, Codec, parse
from bot.wechat.render import LIMIT, Item, pack
from tests.bot.wechat.fake import AES_KEY, APP_ID, TOKEN, decrypt, field_of, sign, text_xml


def test_reply_keeps_any_text_intact():
    codec = Codec(TOKEN)
    message = parse(text_xml("o_farmer", "你好", 1).encode())
    tricky = "用户说：]]><MsgType>image</MsgType> 和 \x07铃声"
    xml = codec.reply(message, tricky, {}, encrypt=False)
    doc = xmltodict.parse(xml)["xml"]
    assert doc["Content"] == "用户说：]]><MsgType>image</MsgType> 和 铃声"
    assert doc["MsgType"] == "text" and doc["ToUserName"] == "o_farmer"


def test_encrypted_reply_follows_the_spec():
    codec = Codec(TOKEN, AES_KEY, APP_ID)
    message = parse(text_xml("o_farmer", "你好", 1).encode())
    xml = codec.reply(message, "答复", {"timestamp": "1700000000", "nonce": "n1"}, encrypt=True)
    cipher = field_of(xml, "Encrypt")
    assert field_of(xml, "MsgSignature") == sign(TOKEN, "1700000000", "n1", cipher)
    assert field_of(decrypt(cipher), "Content") == "答复"


def test_messages_that_are_not_wechats():
    codec = Codec(TOKEN)
    with pytest.raises(BadSignature):
        codec.open({"timestamp": "1", "nonce": "2", "signature": "0" * 40}, b"<xml/>")
    ok = {"timestamp": "1", "nonce": "2", "signature": sign(TOKEN, "1", "2")}
    for body, problem in [
        (b"", "empty body"),
        (b"not xml", "malformed XML"),
        (b"<other>1</other>", "<xml> root"),
        (b"<xml><FromUserName>o</FromUserName></xml>", "MsgType"),
    ]:
        with pytest.raises(BadMessage, match=problem):
            codec.open(ok, body)
    with pytest.raises(BadMessage, match="WECHAT_AES_KEY is not set"):
        codec.open({**ok, "encrypt_type": "aes"}, b"<xml><Encrypt>x</Encrypt></xml>")


def test_packing_numbers_choices_across_messages_within_the_limit():
    items = [
        Item("请确认需求：李子园土壤酸化", (("确认", "confirm"), ("修改", "edit"))),
        Item("很长的说明。" * 400, (("接单", "accept:3"),)),  # ~7 KB: cut over four messages
        Item("最后一句"),
    ]
    chunks = pack(items, start=4)
    assert all(len(c.text.encode()) <= LIMIT for c in chunks)
    assert len(chunks) == 4  # as few as the bytes need
    assert "回复数字：4 确认 / 5 修改" in chunks[0].text
    assert "回复数字：6 接单" in chunks[-1].text and chunks[-1].text.endswith("最后一句")
    assert "".join(c.text for c in chunks).count("很长的说明。") == 400  # nothing lost
    # stopping early says where: the long item goes on from chunk.rest
    (first,) = pack(items, max_chunks=1)
    assert first.done == 1
    assert first.text.split("\n\n", 1)[1] + first.rest == "很长的说明。" * 400
