"""The WeChat Official Account through real HTTP: a fake WeChat platform signs (and in
安全模式 encrypts) XML and posts it to `/wechat`; a fake api.weixin.qq.com issues tokens and
records customer-service messages."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlmodel import select

from bot.wechat.protocol import WechatMessage
from store.outbox import OutboxMessage, enqueue
from store.updates import HandledUpdate
from tests.bot.wechat.fake import AES_KEY, event_xml, media_xml, text_xml


async def test_url_check_and_requests_not_from_wechat(make_wx, caplog):
    wx = await make_wx()
    assert await wx.platform.handshake("echo-123") == (200, "echo-123")
    assert (await wx.platform.handshake("echo-123", token="wrongToken"))[0] == 403

    forged = await wx.platform.post(text_xml("o_farmer", "你好", 1), forge=True)
    assert forged.status == 403
    with caplog.at_level(logging.WARNING, logger="bot.wechat.channel"):
        broken = await wx.platform.post("<xml><MsgType>text</MsgType><Content>你好")
        assert broken.status == 400
        assert "malformed XML" in caplog.text
        nobody = await wx.platform.post("<xml><MsgType>text</MsgType></xml>")
        assert nobody.status == 400
        assert "FromUserName" in caplog.text
    assert wx.channel.turns == 0


async def test_text_subscribe_and_numbered_choices(make_wx):
    wx = await make_wx()
    hello = await wx.platform.say("o_farmer", "你好")
    assert hello.status == 200
    assert hello.to == "o_farmer"
    assert "您好" in hello.text

    welcome = await wx.platform.post(
        event_xml("o_farmer", "subscribe", 1700000000), openid="o_farmer"
    )
    assert "天府科技助手" in welcome.text
    # the three buttons of the welcome, as numbered choices
    assert (
        "回复数字：1 我遇到技术问题，要找专家 / 2 我是专家，登记接单 / 3 我想问科普问题"
        in welcome.text
    )
    # "3" presses the third
    citizen = await wx.platform.say("o_farmer", "3")
    assert "请直接提问" in citizen.text
    # a number offered by no reply is just text
    again = await wx.platform.say("o_farmer", "3")
    assert "请直接提问" not in again.text


async def test_encrypted_mode(make_wx):
    wx = await make_wx(aes_key=AES_KEY)
    answer = await wx.platform.say("o_farmer", "帮助")
    assert answer.status == 200
    assert "<Encrypt>" in answer.body and "帮助" not in answer.body
    assert "天府科技助手" in answer.text  # decrypted with WeChat's algorithm, signature checked
    # 安全模式: plaintext is refused, so are forged and undecryptable messages
    assert (await wx.platform.post(text_xml("o_x", "你好", 7), raw=True)).status == 403
    assert (await wx.platform.post(text_xml("o_x", "你好", 8), forge=True)).status == 403
    q = wx.platform.query(encrypt_type="aes")
    garbage = "QUJD" * 10
    from tests.bot.wechat.fake import TOKEN, sign

    q["msg_signature"] = sign(TOKEN, q["timestamp"], q["nonce"], garbage)
    resp = await wx.platform.client.post(
        "/wechat", params=q, data=f"<xml><Encrypt>{garbage}</Encrypt></xml>".encode()
    )
    assert resp.status == 400
    assert "cannot decrypt" in await resp.text()


async def test_three_tries_of_one_message_are_one_turn(make_wx):
    wx = await make_wx()
    xml = text_xml("o_farmer", "稻瘟病怎么防治？", 424242)
    answers = await asyncio.gather(*(wx.platform.post(xml, openid="o_farmer") for _ in range(3)))
    assert [a.status for a in answers] == [200, 200, 200]
    assert wx.channel.turns == 1
    assert answers[0].text and {a.text for a in answers} == {answers[0].text}
    late = await wx.platform.post(xml, openid="o_farmer")  # a retry after it was answered
    assert late.text == answers[0].text
    assert wx.channel.turns == 1
    with wx.services.session_factory() as s:
        rows = s.exec(select(HandledUpdate).where(HandledUpdate.update_id == "424242")).all()
    assert [r.status for r in rows] == ["done"]


async def test_slow_turn_answers_success_then_through_the_api(make_wx, fake_llm):
    fake_llm.behaviour, fake_llm.delay = "slow", 0.5
    wx = await make_wx(
        reply_within=0.2, openai_api_key="sk-test", openai_base_url=fake_llm.base_url
    )
    xml = text_xml("o_farmer", "稻瘟病怎么防治？", 77)
    answer = await wx.platform.post(xml, openid="o_farmer")
    assert answer.status == 200 and answer.body == "success"
    assert (await wx.platform.post(xml, openid="o_farmer")).body == "success"  # WeChat's retry
    assert wx.channel.later
    await asyncio.gather(*wx.channel.later)
    assert fake_llm.slow_done >= 1
    wx.api.expire_next_send = True  # the cached token expires in the meantime
    assert await wx.sender.drain_once() == 1
    assert len(wx.api.tokens) == 2  # fetched, refused as expired, fetched again
    (text,) = wx.api.texts("o_farmer")
    assert "稻瘟病" in text
    assert wx.channel.turns == 1
    assert await wx.sender.drain_once() == 0  # sent once


async def test_the_48_hour_window_of_five_messages(make_wx):
    wx = await make_wx()
    await wx.platform.say("o_farmer", "你好")
    long = "很长的消息。" * 110  # ~2000 bytes: two never fit in one WeChat message
    with wx.services.session_factory() as s:
        for i in range(7):
            enqueue(session=s, channel="wechat", external_id="o_farmer", text=f"{i}{long}")
    assert await wx.sender.drain_once() == 5
    assert await wx.sender.drain_once() == 0  # the other two wait for the farmer
    assert [t[0] for t in wx.api.texts("o_farmer")] == ["0", "1", "2", "3", "4"]
    wx.clock.advance(47)
    await wx.platform.say("o_farmer", "谢谢")  # their next message opens a new window
    assert await wx.sender.drain_once() == 2
    assert [t[0] for t in wx.api.texts("o_farmer")][5:] == ["5", "6"]

    # several short messages go as one; nothing goes 48 h after their last message
    with wx.services.session_factory() as s:
        for text in ("第一条", "第二条", "第三条"):
            enqueue(session=s, channel="wechat", external_id="o_farmer", text=text)
    assert await wx.sender.drain_once() == 1
    assert wx.api.texts("o_farmer")[-1] == "第一条\n\n第二条\n\n第三条"
    wx.clock.advance(48.5)
    with wx.services.session_factory() as s:
        row = enqueue(session=s, channel="wechat", external_id="o_farmer", text="过期了")
    assert await wx.sender.drain_once() == 0
    assert wx.api.refused == []  # WeChat never had to refuse one
    with wx.services.session_factory() as s:
        assert s.get(OutboxMessage, row.id).status == "pending"
    await wx.platform.say("o_farmer", "在吗")
    assert await wx.sender.drain_once() == 1
    assert wx.api.texts("o_farmer")[-1] == "过期了"


async def test_image_and_voice_are_downloaded(make_wx):
    wx = await make_wx()
    wx.api.media["img1"] = (b"\xff\xd8\xff\xe0 a jpeg", "image/jpeg")
    wx.api.media["voice1"] = (b"#!AMR\n voice", "audio/amr")
    photo = await wx.channel.incoming(
        WechatMessage("1", "o_farmer", "gh", "image", media_id="img1", pic_url=""), [], ""
    )
    assert photo is not None
    (media,) = photo.media
    assert (media.kind, media.data, media.mime) == (
        "photo",
        b"\xff\xd8\xff\xe0 a jpeg",
        "image/jpeg",
    )
    # media WeChat no longer serves (temporary media expire after 3 days): the PicUrl
    wx.api.media["pic:p1"] = (b"\x89PNG from PicUrl", "image/png")
    by_url = await wx.channel.incoming(
        WechatMessage(
            "4", "o_farmer", "gh", "image", media_id="expired", pic_url=wx.api.url("/pic/p1")
        ),
        [],
        "",
    )
    assert by_url is not None and by_url.media[0].data == b"\x89PNG from PicUrl"
    # a voice message: the AMR file goes with WeChat's own transcript as the text
    answer = await wx.platform.post(
        media_xml("o_farmer", "voice", "voice1", 99, Format="amr", Recognition="稻瘟病怎么防治"),
        openid="o_farmer",
    )
    assert "稻瘟病" in answer.text
    voice = await wx.channel.incoming(
        WechatMessage("2", "o_farmer", "gh", "voice", text="你好", media_id="voice1"), [], ""
    )
    assert voice is not None and voice.text == "你好"
    assert voice.media[0].kind == "voice" and voice.media[0].mime == "audio/amr"
    # a file WeChat no longer has: the text still goes through
    lost = await wx.channel.incoming(
        WechatMessage("3", "o_farmer", "gh", "voice", text="你好", media_id="gone"), [], ""
    )
    assert lost is not None and lost.media == () and lost.text == "你好"


@pytest.mark.parametrize("kind", ["video", "location"])
async def test_unsupported_messages_get_a_clear_reply(make_wx, kind):
    wx = await make_wx()
    answer = await wx.platform.post(media_xml("o_farmer", kind, "m1", 5), openid="o_farmer")
    assert "只能看懂文字、图片和语音" in answer.text


async def test_delete_me_forgets_the_wechat_records(make_wx):
    from store.wechat import WechatPeer

    wx = await make_wx()
    await wx.platform.say("o_farmer", "你好")
    asked = await wx.platform.say("o_farmer", "/delete_me")
    assert "确定要删除" in asked.text
    done = await wx.platform.say("o_farmer", "1")  # 确认删除
    assert "已删除" in done.text
    with wx.services.session_factory() as s:
        assert s.exec(select(WechatPeer).where(WechatPeer.openid == "o_farmer")).all() == []
        assert s.exec(select(HandledUpdate).where(HandledUpdate.chat_id == "o_farmer")).all() == []


async def test_the_sender_runs_with_the_application(
    make_wx, fake_llm, file_engine, kb_index, tmp_path
):
    """start_wechat_sender: a slow answer arrives without anyone draining the outbox."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from bot.wechat import add_wechat, add_wechat_if_configured, start_wechat_sender
    from tests.bot.wechat.fake import Platform
    from tests.bot.wiring import make_services

    fake_llm.behaviour, fake_llm.delay = "slow", 0.5
    wx = await make_wx(
        reply_within=0.2, openai_api_key="sk-test", openai_base_url=fake_llm.base_url
    )
    app = web.Application()
    add_wechat(app, wx.services, reply_within=0.2)
    start_wechat_sender(app, wx.services)
    async with TestClient(TestServer(app)) as client:
        platform = Platform(client, wx.api)
        assert (await platform.say("o_farmer", "稻瘟病怎么防治？")).body == "success"
        for _ in range(200):
            if wx.api.texts("o_farmer"):
                break
            await asyncio.sleep(0.05)
        assert "稻瘟病" in wx.api.texts("o_farmer")[0]

    # without WECHAT_TOKEN, tianfu serve mounts nothing at /wechat
    bare = web.Application()
    add_wechat_if_configured(bare, make_services(file_engine, tmp_path / "bare", kb_index))
    assert [r.resource.canonical for r in bare.router.routes() if r.resource] == []


async def test_photos_go_after_the_text_within_the_window(make_wx):
    from store.media import save_media
    from store.users import get_or_create_user
    from tests.media_files import AMR, jpeg_with_gps, png

    wx = await make_wx()
    await wx.platform.say("o_expert", "你好")
    storage = wx.services.media
    with wx.services.session_factory() as s:
        owner = get_or_create_user(session=s, channel="wechat", external_id="o_farmer")
        photos = [
            save_media(session=s, storage=storage, owner_user_id=owner.id, kind="photo", data=d)
            for d in (jpeg_with_gps(), png(), jpeg_with_gps(30, 20))
        ]
        voice = save_media(
            session=s, storage=storage, owner_user_id=owner.id, kind="voice", data=AMR
        )
        for i in range(2):
            enqueue(session=s, channel="wechat", external_id="o_expert", text=f"通知{i}")
        row = enqueue(
            session=s,
            channel="wechat",
            external_id="o_expert",
            text="【新需求 #1】李子树流胶，见照片",
            media=[p.id for p in photos] + [voice.id],
        )
    # one merged text, then the photos and the voice: five messages, the window's all
    assert await wx.sender.drain_once() == 5
    sent = wx.api.texts("o_expert")
    assert sent[0] == "通知0\n\n通知1\n\n【新需求 #1】李子树流胶，见照片"
    assert sent[1:] == ["<image MEDIA-1>", "<image MEDIA-2>", "<image MEDIA-3>", "<voice MEDIA-4>"]
    assert wx.api.uploads["MEDIA-1"][1] == storage.path_of(photos[0]).read_bytes()  # no EXIF
    assert wx.api.uploads["MEDIA-4"] == ("voice", AMR)
    with wx.services.session_factory() as s:
        assert s.get(OutboxMessage, row.id).status == "sent"
    assert wx.api.refused == []


async def test_photos_beyond_the_window_wait_for_the_next_message(make_wx):
    from store.media import save_media
    from store.users import get_or_create_user
    from tests.media_files import jpeg_with_gps

    wx = await make_wx()
    await wx.platform.say("o_expert", "你好")
    storage = wx.services.media
    with wx.services.session_factory() as s:
        owner = get_or_create_user(session=s, channel="wechat", external_id="o_farmer")
        ids = [
            save_media(
                session=s,
                storage=storage,
                owner_user_id=owner.id,
                kind="photo",
                data=jpeg_with_gps(10 + i, 10),
            ).id
            for i in range(6)
        ]
        row = enqueue(
            session=s, channel="wechat", external_id="o_expert", text="六张照片", media=ids
        )
    assert await wx.sender.drain_once() == 5  # the text and four photos
    with wx.services.session_factory() as s:
        waiting = s.get(OutboxMessage, row.id)
        assert (waiting.status, waiting.text, waiting.media) == ("pending", "", ids[4:])
    assert await wx.sender.drain_once() == 0
    await wx.platform.say("o_expert", "收到")
    assert await wx.sender.drain_once() == 2
    assert wx.api.texts("o_expert")[-2:] == ["<image MEDIA-5>", "<image MEDIA-6>"]
    assert wx.api.refused == []


async def test_token_renewed_before_it_expires_and_unsubscribed_people_get_nothing(make_wx):
    wx = await make_wx()
    await wx.platform.say("o_farmer", "你好")
    with wx.services.session_factory() as s:
        enqueue(session=s, channel="wechat", external_id="o_farmer", text="第一条")
    assert await wx.sender.drain_once() == 1
    wx.clock.advance(1.95)  # the 2-hour token has 3 minutes left: not worth using
    with wx.services.session_factory() as s:
        enqueue(session=s, channel="wechat", external_id="o_farmer", text="第二条")
    assert await wx.sender.drain_once() == 1
    assert wx.api.tokens == ["TOKEN-1", "TOKEN-2"]  # renewed ahead, never refused

    bye = await wx.platform.post(
        event_xml("o_farmer", "unsubscribe", 1700000100), openid="o_farmer"
    )
    assert bye.body == "success"
    with wx.services.session_factory() as s:
        row = enqueue(session=s, channel="wechat", external_id="o_farmer", text="第三条")
    assert row.status == "blocked"
    back = await wx.platform.post(
        event_xml("o_farmer", "subscribe", 1700000200), openid="o_farmer"
    )
    assert "天府科技助手" in back.text
    with wx.services.session_factory() as s:
        row = enqueue(session=s, channel="wechat", external_id="o_farmer", text="第四条")
    assert row.status == "pending"
    assert await wx.sender.drain_once() == 1
    assert wx.api.texts("o_farmer")[-1] == "第四条"


async def test_a_wrong_app_secret_keeps_messages_queued(make_wx, caplog):
    wx = await make_wx(wechat_app_secret="not-the-secret")
    assert (
        "天府科技助手" in (await wx.platform.say("o_farmer", "帮助")).text
    )  # passive still works
    with wx.services.session_factory() as s:
        row = enqueue(session=s, channel="wechat", external_id="o_farmer", text="稍后的答复")
    with caplog.at_level(logging.ERROR, logger="bot.wechat.sender"):
        assert await wx.sender.drain_once() == 0
    assert "WECHAT_APP_SECRET" in caplog.text and "40013" in caplog.text
    with wx.services.session_factory() as s:
        assert s.get(OutboxMessage, row.id).status == "pending"


async def test_two_senders_send_each_message_once_within_the_window(make_wx):
    """Two sender loops on one database (two processes of a cluster): every queued message
    goes out once, and a person still gets at most five in their 48 hours."""
    from bot.wechat import WechatSender

    wx = await make_wx()
    other = WechatSender(
        wx.channel.api, wx.services.session_factory, now=wx.clock, storage=wx.services.media
    )
    people = [f"o_p{i}" for i in range(6)]
    for openid in people:
        await wx.platform.say(openid, "你好")
    long = "很长的消息。" * 110  # ~2000 bytes: one message each
    with wx.services.session_factory() as s:
        for openid in people:
            for i in range(2):
                enqueue(session=s, channel="wechat", external_id=openid, text=f"{i}{long}")
        for i in range(7):
            enqueue(session=s, channel="wechat", external_id="o_p0", text=f"{i + 2}{long}")
    before = {openid: len(wx.api.texts(openid)) for openid in people}
    for _ in range(3):
        await asyncio.gather(wx.sender.drain_once(), other.drain_once())
    got = {openid: [t[0] for t in wx.api.texts(openid)[before[openid] :]] for openid in people}
    assert got["o_p0"] == ["0", "1", "2", "3", "4"]  # the window's five, once each, in order
    for openid in people[1:]:
        assert got[openid] == ["0", "1"]
    assert wx.api.refused == []
