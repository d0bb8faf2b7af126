from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram import Bot

from bot.app import admin_check
from bot.settings import load_settings
from bot.telegram.dispatcher import create_dispatcher
from bot.telegram.notifier import Notifier
from bot.telegram.recording import ChatDriver, RecordingSession
from bot.telegram.services import BotServices
from dialogs.stats import StatsDesk
from store.db import make_session_factory
from tests.conftest import make_assistant

ADMIN = 9001  # the Telegram user id in ADMIN_IDS


@pytest.fixture
def tg(engine, kb_index, tmp_path):
    """A fresh Dispatcher over the real assistant, a recording session and a notifier."""
    session_factory = make_session_factory(engine)
    stats = StatsDesk(admin_check(load_settings(admin_ids=[ADMIN])))
    assistant = make_assistant(
        engine, kb_index, tmp_path, stats=stats, match_timeout=timedelta(hours=2)
    )
    services = BotServices(
        assistant=assistant, desk=assistant.matching, session_factory=session_factory
    )
    recorder = RecordingSession()
    bot = Bot("42:TEST", session=recorder)
    dp = create_dispatcher(load_settings(), services)
    driver = ChatDriver(dp, bot, recorder)
    driver.services = services  # type: ignore[attr-defined]
    driver.notifier = Notifier(bot, session_factory, services.wake, per_chat_interval=0.0)  # type: ignore[attr-defined]
    return driver
