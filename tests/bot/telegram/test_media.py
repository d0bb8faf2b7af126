"""Photos and voice through Telegram over real HTTP: the fake Bot API serves the uploads
(getFile + download), the Dispatcher stores them, and the notifier and the replies send them
to the experts as photos and voice messages (sendPhoto / sendVoice)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update
from PIL import Image
from sqlmodel import select

from bench.fake_telegram import FakeBotAPI
from bot.telegram.dispatcher import create_dispatcher
from bot.telegram.notifier import Notifier
from bot.telegram.runner import make_bot
from store.outbox import OutboxMessage
from tests import media_files as f
from tests.bot.telegram.test_e2e import EXPERT_INTRO, NEED
from tests.bot.wiring import make_services

FARMER, EXPERT = 1001, 2001


@pytest.fixture
async def api():
    fake = FakeBotAPI()
    fake.base = await fake.start()  # type: ignore[attr-defined]
    yield fake
    await fake.stop()


class Telegram:
    """The Dispatcher and the notifier over the fake Bot API, fed update by update."""

    def __init__(self, api: FakeBotAPI, services: Any, bot: Bot) -> None:
        self.api, self.services, self.bot = api, services, bot
        self.dp = create_dispatcher(services.settings, services)
        self.notifier = Notifier(
            bot,
            services.session_factory,
            services.wake,
            per_chat_interval=0.0,
            media=services.media,
        )

    async def feed_last(self) -> None:
        update = Update.model_validate(self.api.updates[-1], context={"bot": self.bot})
        await self.dp.feed_update(self.bot, update)
        await self.notifier.drain()

    async def say(self, user: dict[str, Any], text: str) -> str:
        self.api.message(user, text)
        await self.feed_last()
        return self.api.texts(user["id"])[-1]

    async def press(self, user: dict[str, Any], label: str) -> str:
        self.api.press(user, label)
        await self.feed_last()
        return self.api.texts(user["id"])[-1]


@pytest.fixture
async def tg(api, engine, kb_index, tmp_path):
    services = make_services(
        engine, tmp_path, kb_index, telegram_bot_token="42:TEST", telegram_api_base=api.base
    )
    bot = make_bot(services.settings)
    yield Telegram(api, services, bot)
    await bot.session.close()


def no_exif(data: bytes) -> bool:
    image = Image.open(io.BytesIO(data))
    return image.format == "JPEG" and dict(image.getexif()) == {}


async def test_photos_and_voice_reach_the_accepting_expert(tg: Telegram, api: FakeBotAPI):
    farmer, expert = api.user(FARMER, "老王"), api.user(EXPERT, "张建国")
    reply = await tg.say(expert, EXPERT_INTRO)
    if "职称" in reply:
        await tg.say(expert, "跳过")
    assert "登记成功" in await tg.press(expert, "确认")

    # a photo alone: the largest size is fetched and a need begins
    api.photo(farmer, f.jpeg_with_gps(640, 480))
    await tg.feed_last()
    assert any(t.startswith("看到您发了照片") for t in api.texts(FARMER))
    fetched = [p["file_id"] for m, p in api.calls if m == "getFile"]
    assert fetched == ["photo" + fetched[0].removeprefix("photo")]  # not the thumbnail
    await tg.say(farmer, NEED)
    assert "请确认需求" in api.texts(FARMER)[-1] and "照片：1 张" in api.texts(FARMER)[-1]
    await tg.press(farmer, "确认")

    # the notice and its photo, through the outbox; the photo has no EXIF left
    assert any("新需求" in t for t in api.texts(EXPERT))
    (sent,) = api.media_to(EXPERT)
    assert sent["method"] == "sendPhoto", sent
    assert no_exif(sent["data"]), sent["data"][:80]
    with tg.services.session_factory() as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "new_need")).all()
        assert [len(r.media or []) for r in rows] == [1] and rows[0].status == "sent"

    # accepting: the order card shows the photo
    await tg.press(expert, "接单")
    assert any("接单成功" in t for t in api.texts(EXPERT))
    assert [m["method"] for m in api.media_to(EXPERT)] == ["sendPhoto", "sendPhoto"]

    # later photos and a voice message are forwarded to the accepting expert only
    api.photo(farmer, f.jpeg_with_gps(320, 240), caption="叶子背面也这样")
    await tg.feed_last()
    assert "已转给专家" in api.texts(FARMER)[-1]
    api.voice(farmer, f.OGG_OPUS)
    await tg.feed_last()
    assert "语音已补充到需求" in api.texts(FARMER)[-1]
    methods = [m["method"] for m in api.media_to(EXPERT)]
    assert methods == ["sendPhoto", "sendPhoto", "sendPhoto", "sendVoice"]
    assert api.media_to(EXPERT)[-1]["data"] == f.OGG_OPUS
    assert any("叶子背面也这样" in t for t in api.texts(EXPERT))
    assert api.media_to(FARMER) == []


async def test_a_file_that_is_no_photo_gets_a_chinese_reply(tg: Telegram, api: FakeBotAPI):
    farmer = api.user(FARMER, "老王")
    api.photo(farmer, f.PDF)
    await tg.feed_last()
    assert "不是能打开的照片" in api.texts(FARMER)[-1]


async def test_a_queued_photo_of_a_forgotten_person_is_not_sent(tg: Telegram, api: FakeBotAPI):
    from dialogs.types import Outbound, Outcome
    from store.media import save_media
    from store.privacy import forget_person
    from store.users import get_or_create_user

    services = tg.services
    with services.session_factory() as s:
        farmer = get_or_create_user(session=s, channel="telegram", external_id=str(FARMER))
        photo = save_media(
            session=s,
            storage=services.media,
            owner_user_id=farmer.id,
            kind="photo",
            data=f.jpeg_with_gps(),
        )
        services.queue(
            s,
            Outcome(
                outbound=[Outbound("telegram", str(EXPERT), "【需求 #1 补充】", media=(photo.id,))]
            ),
        )
        path = services.media.path_of(photo)
        forget_person(session=s, user_id=farmer.id, media=services.media)
    assert not path.exists()
    await tg.notifier.drain()
    assert api.texts(EXPERT) == ["【需求 #1 补充】"]
    assert api.media_to(EXPERT) == []
