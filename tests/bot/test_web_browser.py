"""The web chat in real headless Chromium at a phone's 360 px width: a farmer and an expert,
each in their own browser, go through a whole need as the README's first conversation does
(the expert registers, the farmer posts with a photo, the notice arrives by SSE, 接单,
contacts exchanged by consent, resolved, rated)."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.web.chat import add_chat
from bot.web.serve import build_app
from dialogs.assistant import Assistant
from store.db import init_db, make_engine
from tests.bot.chromium import chromium_options, start_chromium
from tests.bot.wiring import make_services

HAS_MEDIA = "media" in Assistant.__dataclass_fields__  # photos are kept (the media desk)
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 12) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.47"
)
# a 1x1 JPEG (the photo the farmer sends)
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIs"
    "IxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAA"
    "AAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, kb_index: Any) -> Iterator[str]:
    """`tianfu serve`'s application (web chat only) on a free loopback port."""
    tmp = tmp_path_factory.mktemp("webchat")
    engine = make_engine(f"sqlite:///{tmp / 'chat.db'}")
    init_db(engine)
    services = make_services(engine, tmp, kb_index, web_secret="browser-test-secret-0123456789")
    runner = web.AppRunner(build_app(services, chosen=[add_chat]))
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(30)
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    services.close()


def phone(tmp_path: Path, name: str) -> Any:
    """Chromium as a 360 px wide phone with WeChat's user agent."""
    options = chromium_options(tmp_path / f"profile-{name}")
    # as a phone in Sichuan asks (a browser asking for English gets English replies)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    options.add_experimental_option(
        "mobileEmulation",
        {"deviceMetrics": {"width": 360, "height": 740, "pixelRatio": 2}, "userAgent": WECHAT_UA},
    )
    return start_chromium(options)


class Page:
    """One person's chat page."""

    def __init__(self, driver: Any, base: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.d, self.By, self.wait = (
            driver,
            By,
            lambda f: WebDriverWait(driver, 30, poll_frequency=0.05).until(f),
        )
        driver.get(f"{base}/chat")
        self.wait(lambda d: self.buttons(".msg.bot"))  # the welcome with its role buttons

    def messages(self, kind: str = "") -> list[Any]:
        return self.d.find_elements(self.By.CSS_SELECTOR, f"#messages .msg{kind}")

    def buttons(self, kind: str) -> list[Any]:
        return self.d.find_elements(self.By.CSS_SELECTOR, f"#messages {kind} .acts button")

    def _settled(self, before: int) -> None:
        self.wait(
            lambda d: (
                not d.find_elements(self.By.CSS_SELECTOR, ".typing")
                and len(self.messages()) > before + 1
            )
        )

    def send(self, text: str) -> str:
        """Type and send; the text of the replies."""
        before = len(self.messages())
        box = self.d.find_element(self.By.ID, "text")
        # typed at once (send_keys would type a long Chinese sentence key by key)
        self.d.execute_script("arguments[0].value = arguments[1]", box, text)
        self.d.find_element(self.By.ID, "send").click()
        self._settled(before)
        return "\n".join(m.text for m in self.messages()[before + 1 :])

    def press(self, label: str, kind: str = ".msg") -> str:
        before = len(self.messages())
        button = [b for b in self.buttons(kind) if b.text == label and b.is_enabled()][-1]
        button.click()
        self._settled(before)
        return "\n".join(m.text for m in self.messages()[before + 1 :])

    def notices(self, n: int) -> list[str]:
        """Wait for the n-th notice (delivered by server-sent events)."""
        self.wait(lambda d: len(self.messages(".notice")) >= n)
        return [m.text for m in self.messages(".notice")]


def test_farmer_and_expert_through_a_whole_need(server: str, tmp_path: Path) -> None:
    expert_driver = phone(tmp_path, "expert")
    farmer_driver = phone(tmp_path, "farmer")
    try:
        expert, farmer = Page(expert_driver, server), Page(farmer_driver, server)
        width = farmer_driver.execute_script("return document.documentElement.clientWidth")
        assert width == 360
        # nothing is wider than the phone's screen
        assert farmer_driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        )
        assert "称呼：张建国" in expert.send(
            "我是农技站的，搞果树病虫害防治和土壤改良十几年了，宜宾翠屏一带都能跑，"
            "电话13900001111，我叫张建国"
        )
        assert "登记成功" in expert.send("确认")  # as typed in the README

        photo = tmp_path / "leaf.jpg"
        photo.write_bytes(JPEG)
        before = len(farmer.messages())
        farmer.d.find_element(farmer.By.ID, "photo").send_keys(str(photo))
        farmer._settled(before)
        assert farmer.messages(".me")[-1].find_elements(farmer.By.TAG_NAME, "img")

        asked = farmer.send("我在宜宾翠屏区，李子园土壤酸化板结，果子产量低，想请专家来看看")
        assert "电话" in asked
        farmer.send("13800001234")
        farmer.press("跳过")
        assert "需求已发布" in farmer.press("确认")

        notice = expert.notices(1)[0]
        assert "新需求" in notice and "13800001234" not in notice
        if HAS_MEDIA:  # the notified expert sees the farmer's photo, served by /media/{id}
            expert.wait(
                lambda d: d.execute_script(
                    "const i = document.querySelector('.msg.notice img');"
                    "return !!i && i.complete && i.naturalWidth > 0"
                )
            )
        accepted = expert.press("接单", ".msg.notice")
        assert "13800001234" not in accepted

        told = farmer.notices(1)[0]
        assert "张建国" in told and "13900001111" not in told
        assert "13900001111" in farmer.press("同意交换联系方式", ".msg.notice")
        assert "13800001234" in expert.notices(2)[-1]

        assert "已解决" in expert.send("已解决 1 已指导撒石灰改良")
        assert "打分" in farmer.notices(2)[-1]
        assert "感谢评价" in farmer.press("5星", ".msg.notice")
        timeline = farmer.send("/order 1")
        assert "已解决" in timeline or "已评价" in timeline or "评分" in timeline
        # a reload (or WeChat reopening the page) keeps the conversation and what was pressed
        shown = [m.text for m in farmer.messages(".notice")]
        farmer_driver.refresh()
        farmer.wait(lambda d: [m.text for m in farmer.messages(".notice")] == shown)
        chosen = farmer.d.find_elements(farmer.By.CSS_SELECTOR, ".msg.notice .acts button.chosen")
        assert [b.text for b in chosen] == ["同意交换联系方式", "5星"]
        farmer_driver.save_screenshot(str(tmp_path / "farmer.png"))
        assert (tmp_path / "farmer.png").stat().st_size > 10_000
    finally:
        expert_driver.quit()
        farmer_driver.quit()
