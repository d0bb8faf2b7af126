"""A need posted from WeChat reaches an expert on Telegram and one on WeChat through the
outbox; the WeChat expert accepts by replying the number of 接单, and the farmer hears of it
through the customer-service API."""

from __future__ import annotations

import io

from aiogram import Bot
from aiogram.methods import SendPhoto
from PIL import Image

from bot.telegram.dispatcher import create_dispatcher
from bot.telegram.notifier import Notifier
from bot.telegram.recording import ChatDriver, RecordingSession
from tests.bot.wechat.fake import AES_KEY, media_xml
from tests.media_files import GPS_IFD, jpeg_with_gps

TG_EXPERT_INTRO = "我是农科院的研究员，擅长土壤肥料，宜宾市都能去，电话13900000002，我叫李明"
WX_EXPERT_INTRO = "我是农技站的，搞果树病虫害防治和土壤改良十几年了，宜宾翠屏一带都能跑，电话13900000001，我叫张建国"
NEED = "我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看，电话13800001234，预算五千"


def number_of(text: str, label: str) -> str:
    """The number WeChat text offers for *label* ("回复数字：1 接单 / 2 不合适")."""
    line = text.rsplit("回复数字：", 1)[1]
    for choice in line.split(" / "):
        n, _, name = choice.strip().partition(" ")
        if name == label:
            return n
    raise AssertionError(f"{label} not offered in {line!r}")


async def test_need_from_wechat_reaches_experts_on_telegram_and_wechat(make_wx):
    wx = await make_wx(aes_key=AES_KEY)
    say = wx.platform.say

    # an expert on Telegram registers
    recorder = RecordingSession()
    bot = Bot("42:TEST", session=recorder)
    tg = ChatDriver(create_dispatcher(wx.services.settings, wx.services), bot, recorder)
    li = tg.user(2002, "李明")
    replies = await tg.send(li, TG_EXPERT_INTRO)
    if not any("请确认登记信息" in r for r in replies):
        await tg.send(li, "跳过")
    assert any("登记成功" in r for r in await tg.click(li, "确认"))

    # an expert on WeChat registers, confirming by the button's label
    reply = (await say("o_expert", WX_EXPERT_INTRO)).text
    if "请确认登记信息" not in reply:
        reply = (await say("o_expert", "跳过")).text
    assert "请确认登记信息" in reply
    assert "登记成功" in (await say("o_expert", "确认")).text

    # the farmer sends a photo from WeChat (taken with GPS on), then the need, and confirms it
    wx.api.media["farm-photo"] = (jpeg_with_gps(), "image/jpeg")
    photo = await wx.platform.post(
        media_xml("o_farmer", "image", "farm-photo", 31337, PicUrl="http://mmbiz.invalid/x"),
        openid="o_farmer",
    )
    assert "看到您发了照片" in photo.text
    reply = (await say("o_farmer", NEED)).text
    assert "请确认需求" in reply
    assert "需求已发布" in (await say("o_farmer", number_of(reply, "确认"))).text

    # the Telegram expert is notified through the outbox and the Telegram sender
    notifier = Notifier(
        bot, wx.services.session_factory, per_chat_interval=0.0, media=wx.services.media
    )
    await notifier.drain()
    assert any("新需求" in t for t in recorder.texts(2002))
    assert any(isinstance(c, SendPhoto) and int(c.chat_id) == 2002 for c in recorder.calls)

    # the WeChat expert through the customer-service API, 接单 as a numbered choice
    await wx.sender.drain_once()
    (notice,) = [t for t in wx.api.texts("o_expert") if "新需求" in t]
    assert "13800001234" not in notice
    # the photo follows the notice, as an image message, without its GPS position
    assert wx.api.texts("o_expert")[-1].startswith("<image ")
    ((_, image),) = [u for u in wx.api.uploads.values() if u[0] == "image"]
    assert Image.open(io.BytesIO(image)).getexif().get_ifd(GPS_IFD) == {}
    accepted = (await say("o_expert", number_of(notice, "接单"))).text
    assert "接单成功" in accepted

    # the farmer hears of it on WeChat, and may agree to exchange contacts by number
    await wx.sender.drain_once()
    told = wx.api.texts("o_farmer")[-1]
    assert "张建国" in told and "13900000001" not in told
    agreed = (await say("o_farmer", number_of(told, "同意交换联系方式"))).text
    assert "13900000001" in agreed
    await wx.sender.drain_once()
    assert "13800001234" in wx.api.texts("o_expert")[-1]
    assert wx.api.refused == []
