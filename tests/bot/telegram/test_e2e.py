"""End to end through real HTTP: `python -m bot bot` in a subprocess against a fake Bot API
(the one smoke test of that entry point), and the webhook application in this process."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bench.fake_telegram import FakeBotAPI

EXPERT_INTRO = "我是农技站的，搞果树病虫害防治和土壤改良十几年了，宜宾翠屏一带都能跑，电话13900000001，我叫张建国"
EXPERT2_INTRO = "我是农科院的研究员，擅长土壤肥料，宜宾市都能去，电话13900000002，我叫李明"
NEED = "我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看，电话13800001234，预算五千"


def bot_env(tmp_path: Path, base: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CHROMA_URL")}
    env.update(
        TELEGRAM_BOT_TOKEN="42:TEST-TOKEN",
        TELEGRAM_API_BASE=base,
        DATA_DIR=str(tmp_path / "var"),
        SCHEDULER_INTERVAL_SECONDS="1",
        ANONYMIZED_TELEGRAM="False",
        **extra,
    )
    return env


@pytest.fixture
async def api():
    fake = FakeBotAPI()
    base = await fake.start()
    fake.base = base  # type: ignore[attr-defined]
    yield fake
    await fake.stop()


async def start_bot(tmp_path: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "bot",
        *args,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=open(tmp_path / "bot.log", "wb"),  # noqa: SIM115
    )


async def stop_bot(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout=20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def register(api: FakeBotAPI, user, intro: str) -> None:
    before = len(api.texts(user["id"]))
    api.message(user, intro)
    await api.wait_for(
        lambda: any("请确认登记信息" in t or "职称" in t for t in api.texts(user["id"])[before:])
    )
    if not any("请确认登记信息" in t for t in api.texts(user["id"])[before:]):
        api.message(user, "跳过")
        await api.wait_for(lambda: "请确认登记信息" in "".join(api.texts(user["id"])[-1:]))
    api.press(user, "确认")
    await api.wait_for(lambda: "登记成功" in "".join(api.texts(user["id"])[-1:]))


async def test_polling_end_to_end(api: FakeBotAPI, tmp_path: Path):
    proc = await start_bot(tmp_path, bot_env(tmp_path, api.base))
    try:
        # start-up loads the models and lexicons: minutes on a loaded 2-core machine
        await api.wait_for(lambda: any(m == "getUpdates" for m, _ in api.calls), timeout=240)
        assert any(m == "setMyCommands" for m, _ in api.calls)
        expert, expert2, farmer = (
            api.user(2001, "张建国"),
            api.user(2002, "李明"),
            api.user(1001, "老王"),
        )
        await register(api, expert, EXPERT_INTRO)
        await register(api, expert2, EXPERT2_INTRO)

        # a need in one message, then the confirmation
        api.message(farmer, NEED)
        await api.wait_for(lambda: "请确认需求" in "".join(api.texts(1001)[-1:]))
        api.fail_next_send.append(1)  # the next message meets flood control (429, retry_after)
        api.press(farmer, "确认")
        await api.wait_for(lambda: any("需求已发布" in t for t in api.texts(1001)))

        # every message still arrives (later); the notification has no phone number
        await api.wait_for(lambda: any("新需求" in t for t in api.texts(2001)))
        await api.wait_for(lambda: any("新需求" in t for t in api.texts(2002)))
        note = next(t for t in api.texts(2001) if "新需求" in t)
        assert "13800001234" not in note
        api.press(expert, "接单")
        await api.wait_for(lambda: any("接单成功" in t for t in api.texts(2001)))
        # (issue 15) phones only after the farmer agrees to the expert's profile
        await api.wait_for(lambda: any("未认证" in t for t in api.texts(1001)))
        assert not any("13800001234" in t for t in api.texts(2001)[-2:])
        api.press(farmer, "同意交换联系方式")
        await api.wait_for(lambda: any("13800001234" in t for t in api.texts(2001)[-2:]))
        await api.wait_for(lambda: any("13900000001" in t for t in api.texts(1001)))

        # the second expert is too late, and a redelivered update is handled once
        uid = api.message(expert2, "接单 1")
        await api.wait_for(lambda: any("已被其他专家接单了" in t for t in api.texts(2002)))
        count = len(api.texts(2002))
        api.push(next(u for u in api.updates if u["update_id"] == uid) | {}, update_id=uid)
        api.message(expert2, "你好")
        await api.wait_for(lambda: "您好" in "".join(api.texts(2002)[-1:]))
        assert len(api.texts(2002)) == count + 1

        # resolved, rated
        api.message(expert, "已解决 1 已指导撒石灰改良")
        await api.wait_for(lambda: any("请给专家打分" in t for t in api.texts(1001)))
        api.press(farmer, "5星")
        await api.wait_for(lambda: any("感谢评价" in t for t in api.texts(1001)))
        await api.wait_for(lambda: any("打了 5 星" in t for t in api.texts(2001)))
    finally:
        await stop_bot(proc)
    assert proc.returncode is not None


UPDATE = {
    "update_id": 9,
    "message": {
        "message_id": 1,
        "date": 1,
        "chat": {"id": 1001, "type": "private"},
        "from": {"id": 1001, "is_bot": False, "first_name": "老王", "language_code": "zh-hans"},
        "text": "你好",
    },
}
SECRET = "s3cret-token-0123456789"


@pytest.fixture
async def webhook(engine, kb_index, tmp_path):
    """The webhook application in this process (aiohttp's test server on a port it chose),
    the bot talking to a recording session."""
    from aiogram import Bot
    from aiohttp.test_utils import TestClient, TestServer

    from bot.telegram.recording import RecordingSession
    from bot.web.serve import add_dashboard_if_configured, add_telegram_if_configured, build_app
    from tests.bot.wiring import make_services

    services = make_services(
        engine,
        tmp_path,
        kb_index,
        webhook_url="https://bot.example.org/telegram/webhook",
        webhook_secret=SECRET,
        dashboard_token="dash-token",
    )
    recorder = RecordingSession()
    app = build_app(
        services,
        bot=Bot("42:TEST", session=recorder),
        chosen=[add_dashboard_if_configured, add_telegram_if_configured],
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    client.recorder = recorder  # type: ignore[attr-defined]
    yield client
    await client.close()


async def test_webhook_secret(webhook):
    from aiogram.methods import SetWebhook

    hook = next(c for c in webhook.recorder.calls if isinstance(c, SetWebhook))
    assert hook.secret_token == SECRET
    path = "/telegram/webhook"
    wrong = await webhook.post(path, json=UPDATE, headers={"X-Telegram-Bot-Api-Secret-Token": "x"})
    assert wrong.status == 401
    assert webhook.recorder.texts(1001) == []
    ok = await webhook.post(path, json=UPDATE, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert ok.status == 200
    # the dashboard is served on the webhook's port too, behind its own token
    assert (await webhook.get("/dashboard")).status == 401
    dash = await webhook.get("/dashboard/api/report?token=dash-token")
    assert dash.status == 200 and (await dash.json())["region"]["label"] == "四川省"
    for _ in range(200):  # the update is handled in the background
        if webhook.recorder.texts(1001):
            break
        await asyncio.sleep(0.01)
    assert any("您好" in t for t in webhook.recorder.texts(1001))


@pytest.mark.parametrize("body", [b"", b"{not json", b"[]", b'{"update_id": "nine"}', b"null"])
async def test_webhook_refuses_what_is_not_an_update(webhook, caplog, body):
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    resp = await webhook.post("/telegram/webhook", data=body, headers=headers)
    assert resp.status == 400 and "not a Telegram update" in await resp.text()
    await asyncio.sleep(0.05)  # nothing runs in the background either
    assert webhook.recorder.texts(1001) == []
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    refusals = [r for r in caplog.records if "webhook: refused" in r.getMessage()]
    assert len(refusals) == 1 and "\n" not in refusals[0].getMessage()
