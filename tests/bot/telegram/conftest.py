from __future__ import annotations

import pytest
from aiogram import Bot

from bot.telegram.dispatcher import create_dispatcher
from bot.telegram.notifier import Notifier
from bot.telegram.recording import ChatDriver, RecordingSession
from tests.bot.wiring import ADMIN, FakeClock, make_services

__all__ = ["ADMIN"]


@pytest.fixture
def tg(engine, kb_index, tmp_path):
    """A fresh Dispatcher over the application's services, a recording session and a notifier
    on a fake clock."""
    services = make_services(engine, tmp_path, kb_index)
    recorder = RecordingSession()
    bot = Bot("42:TEST", session=recorder)
    driver = ChatDriver(create_dispatcher(services.settings, services), bot, recorder)
    clock = FakeClock()
    driver.services = services  # type: ignore[attr-defined]
    driver.clock = clock  # type: ignore[attr-defined]
    driver.notifier = Notifier(  # type: ignore[attr-defined]
        bot,
        services.session_factory,
        services.wake,
        per_chat_interval=0.0,
        clock=clock,
        sleep=clock.sleep,
        now=clock.utc,
        media=services.media,
    )
    return driver
