"""The web chat's HTTP API through aiohttp's test client: the cookie identity, the guards
(401, 403, 413, 429, 400), replies with wire-form buttons, server-sent events from the
outbox, uploads and /link across channels."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, select

from bot.web.chat import add_chat
from bot.web.guard import COOKIE
from bot.web.serve import build_app
from dialogs.assistant import Assistant
from dialogs.types import Incoming
from store.outbox import OutboxMessage, enqueue
from store.users import find_user
from tests.bot.wiring import make_services

SECRET = "web-secret-for-tests-0123456789"
EXPERT = [
    "我是农技站的，搞果树病虫害防治和土壤改良十几年了，宜宾翠屏一带都能跑，电话13900001111，我叫张建国",
    "确认",
]
NEED = [
    "我在宜宾翠屏区，李子园土壤酸化板结，果子产量低，想请专家来看看",
    "13800001234",
    "跳过",
    "确认",
]


async def _client(services: Any) -> TestClient:
    client = TestClient(TestServer(build_app(services, chosen=[add_chat])))
    await client.start_server()
    return client


@pytest.fixture
async def web(engine, kb_index, tmp_path):
    services = make_services(engine, tmp_path, kb_index, web_secret=SECRET)
    client = await _client(services)
    client.services = services  # type: ignore[attr-defined]
    yield client
    await client.close()


def origin(client: TestClient) -> dict[str, str]:
    return {"Origin": str(client.make_url("")).rstrip("/")}


async def login(client: TestClient) -> str:
    """Open /chat like a browser; the session id the server chose."""
    resp = await client.get("/chat")
    assert resp.status == 200 and "天府科技助手" in await resp.text()
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/api/chat"))[COOKIE]
    return cookie.value.split(".")[0]


async def say(client: TestClient, text: str | None = None, action: str | None = None) -> list:
    body = {"text": text} if text is not None else {"action": action}
    resp = await client.post("/api/chat", json=body, headers=origin(client))
    assert resp.status == 200, await resp.text()
    return (await resp.json())["replies"]


def texts(replies: list) -> str:
    return "\n".join(r["text"] for r in replies)


async def test_the_page_issues_a_signed_httponly_lax_cookie(web) -> None:
    resp = await web.get("/chat")
    assert resp.status == 200
    header = resp.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    for name in ("chat.js", "chat.css"):
        assert (await web.get(f"/chat/static/{name}")).status == 200
    # a second visit keeps the same identity (no new cookie)
    assert "Set-Cookie" not in (await web.get("/chat")).headers


async def test_api_without_a_valid_cookie_is_401(web) -> None:
    for method, path in (("POST", "/api/chat"), ("GET", "/api/events"), ("POST", "/api/media")):
        resp = await web.request(method, path, json={"text": "你好"}, headers=origin(web))
        assert resp.status == 401
        assert "刷新页面" in (await resp.json())["error"]
    # a forged cookie (a session id the page chose) is refused too
    web.session.cookie_jar.update_cookies({COOKIE: "my-own-id.bad-signature"})
    resp = await web.post("/api/chat", json={"text": "你好"}, headers=origin(web))
    assert resp.status == 401


async def test_cross_origin_post_is_403(web) -> None:
    await login(web)
    for headers in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}, {}):
        resp = await web.post("/api/chat", json={"text": "你好"}, headers=headers)
        assert resp.status == 403 and "来源" in (await resp.json())["error"]
    referer = {"Referer": str(web.make_url("/chat"))}
    assert (await web.post("/api/chat", json={"text": "你好"}, headers=referer)).status == 200


async def test_bad_json_and_bad_actions_are_400_in_chinese(web) -> None:
    await login(web)
    h = {**origin(web), "Content-Type": "application/json"}
    for body, words in (
        (b"{not json", "JSON"),
        (b"[1, 2]", "JSON"),
        (b"\xff\xfe", "JSON"),
        (b'{"foo": 1}', "text"),
        (b'{"action": "accept:abc"}', "按钮"),
        (b'{"action": 12}', "按钮"),
    ):
        resp = await web.post("/api/chat", data=body, headers=h)
        assert resp.status == 400, body
        assert words in (await resp.json())["error"]


async def test_huge_bodies_are_413(web) -> None:
    await login(web)
    resp = await web.post("/api/chat", json={"text": "长" * 20000}, headers=origin(web))
    assert resp.status == 413 and "太长" in (await resp.json())["error"]
    form = FormData()
    big = b"\xff\xd8" + b"0" * (11 * 1024 * 1024)
    form.add_field("file", big, filename="big.jpg", content_type="image/jpeg")
    resp = await web.post("/api/media", data=form, headers=origin(web))
    assert resp.status == 413 and "MB" in (await resp.json())["error"]


async def test_wrong_file_type_gets_a_clear_answer(web) -> None:
    await login(web)
    form = FormData()
    form.add_field("file", b"%PDF-1.4", filename="a.pdf", content_type="application/pdf")
    resp = await web.post("/api/media", data=form, headers=origin(web))
    assert resp.status == 415 and "照片" in (await resp.json())["error"]
    resp = await web.post("/api/media", data=FormData({"text": "hi"}), headers=origin(web))
    assert resp.status == 400 and "文件" in (await resp.json())["error"]


async def test_rate_limits_answer_429_with_retry_after(engine, kb_index, tmp_path) -> None:
    services = make_services(
        engine, tmp_path, kb_index, web_secret=SECRET, web_rate_session=3, web_rate_address=50
    )
    client = await _client(services)
    try:
        await login(client)
        for _ in range(3):
            await say(client, "你好")
        resp = await client.post("/api/chat", json={"text": "你好"}, headers=origin(client))
        assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
        assert "频繁" in (await resp.json())["error"]
    finally:
        await client.close()
    services = make_services(engine, tmp_path, kb_index, web_secret=SECRET, web_rate_address=4)
    client = await _client(services)
    try:
        await login(client)
        statuses = [
            (await client.post("/api/chat", json={"text": "你好"}, headers=origin(client))).status
            for _ in range(5)
        ]
        assert statuses == [200, 200, 200, 200, 429]
    finally:
        await client.close()


async def test_replies_carry_wire_form_buttons_and_sources(web) -> None:
    await login(web)
    replies = await say(web, "/start")
    actions = [b["action"] for r in replies for b in r["buttons"]]
    assert actions == ["role:need", "role:expert", "role:citizen"]
    answer = await say(web, "稻瘟病怎么防治")
    votes = [b for r in answer for b in r["buttons"] if b["label"] in ("有用", "没用")]
    assert [b["action"].split(":")[0] for b in votes] == ["useful", "useless"]
    assert any("稻瘟病" in r["source"] for r in answer)
    thanks = await say(web, action=votes[0]["action"])
    assert "谢谢" in texts(thanks)


async def _read_events(client: TestClient, n: int, timeout: float = 10.0) -> list[dict]:
    """The first *n* events of a new stream."""
    got: list[dict] = []
    async with client.get("/api/events") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")

        async def read() -> None:
            async for line in resp.content:
                if line.startswith(b"data: "):
                    got.append(json.loads(line[6:]))
                    if len(got) >= n:
                        return

        await asyncio.wait_for(read(), timeout)
    return got


async def test_messages_queued_while_away_arrive_by_sse_once(web) -> None:
    sid = await login(web)
    with Session(web.services.engine) as s:
        enqueue(session=s, channel="web", external_id=sid, text="新需求通知 #1", ref="order:1")
        enqueue(session=s, channel="web", external_id="someone-else", text="不是给你的")
    events = await _read_events(web, 1)
    assert events[0]["text"] == "新需求通知 #1"
    with Session(web.services.engine) as s:
        rows = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.status for r in rows] == ["sent", "pending"]
    # delivered once: a new stream gets the next message, not the old one again
    with Session(web.services.engine) as s:
        enqueue(session=s, channel="web", external_id=sid, text="第二条")
    assert [e["text"] for e in await _read_events(web, 1)] == ["第二条"]


class Person:
    """One browser: its own cookie jar against the same server."""

    def __init__(self, server: TestServer) -> None:
        self.client = TestClient(server)

    async def __aenter__(self) -> Person:
        await self.client.start_server()
        await login(self.client)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.session.close()

    async def say(self, text: str | None = None, action: str | None = None) -> list:
        return await say(self.client, text, action)


async def test_a_whole_need_between_two_browsers(engine, kb_index, tmp_path) -> None:
    services = make_services(engine, tmp_path, kb_index, web_secret=SECRET)
    server = TestServer(build_app(services, chosen=[add_chat]))
    await server.start_server()
    try:
        async with Person(server) as expert, Person(server) as farmer:
            for line in EXPERT:
                await expert.say(line)
            listening = asyncio.create_task(_read_events(expert.client, 1))
            for line in NEED:
                replies = await farmer.say(line)
            assert "已发布" in texts(replies)
            notice = (await listening)[0]
            assert "李" in notice["text"] and "13800001234" not in notice["text"]
            accept = next(b for b in notice["buttons"] if b["label"] == "接单")
            to_farmer = asyncio.create_task(_read_events(farmer.client, 1))
            taken = await expert.say(action=accept["action"])
            assert "13800001234" not in texts(taken)
            told = (await to_farmer)[0]
            assert "张建国" in told["text"] and "13900001111" not in told["text"]
            consent = next(b for b in told["buttons"] if "同意" in b["label"])
            to_expert = asyncio.create_task(_read_events(expert.client, 1))
            agreed = await farmer.say(action=consent["action"])
            assert "13900001111" in texts(agreed)
            assert "13800001234" in (await to_expert)[0]["text"]
    finally:
        await server.close()


async def test_link_joins_a_web_chat_and_a_console_person(web) -> None:
    sid = await login(web)
    assistant = web.services.assistant
    code_reply = assistant.handle(Incoming("console", "老王", text="/link")).text
    code = next(w for w in code_reply.split() if w.isdigit() and len(w) == 6)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert "不对或已过期" in texts(await say(web, f"/link {wrong}"))
    assert "关联成功" in texts(await say(web, f"/link {code}"))
    with Session(web.services.engine) as s:
        a = find_user(session=s, channel="web", external_id=sid)
        b = find_user(session=s, channel="console", external_id="老王")
        assert a is not None and b is not None and a.id == b.id
        told = s.exec(select(OutboxMessage).where(OutboxMessage.channel == "console")).all()
        assert [m.text for m in told] == ["您的账号已与另一个渠道关联成功，两边现在是同一个账号。"]


HAS_MEDIA = "media" in Assistant.__dataclass_fields__  # the photos-and-voice desk


@pytest.mark.skipif(
    not HAS_MEDIA, reason="the assistant does not handle photos yet (media branch)"
)
async def test_photos_are_checked_by_content_and_shown_only_to_who_may_see_them(
    engine, kb_index, tmp_path
) -> None:
    from tests.bot.test_web_browser import JPEG

    services = make_services(engine, tmp_path, kb_index, web_secret=SECRET)
    server = TestServer(build_app(services, chosen=[add_chat]))
    await server.start_server()
    try:
        async with Person(server) as farmer, Person(server) as stranger:
            form = FormData()
            form.add_field("file", b"not a picture", filename="x.jpg", content_type="image/jpeg")
            resp = await farmer.client.post("/api/media", data=form, headers=origin(farmer.client))
            assert resp.status == 200
            assert "不是能打开的照片" in texts((await resp.json())["replies"])
            form = FormData()
            form.add_field("file", JPEG, filename="leaf.jpg", content_type="image/jpeg")
            resp = await farmer.client.post("/api/media", data=form, headers=origin(farmer.client))
            assert "照片" in texts((await resp.json())["replies"])
            from store.media import MediaFile

            with Session(services.engine) as s:
                photo = s.exec(select(MediaFile)).one()
            mine = await farmer.client.get(f"/media/{photo.id}")
            assert mine.status == 200 and mine.headers["Content-Type"] == "image/jpeg"
            assert (await stranger.client.get(f"/media/{photo.id}")).status == 404
            assert (await stranger.client.get("/media/999999")).status == 404
    finally:
        await server.close()


async def test_replies_follow_locale_not_the_browser_language(web) -> None:
    await login(web)
    headers = {**origin(web), "Accept-Language": "en-GB,en;q=0.9"}
    resp = await web.post("/api/chat", json={"text": "/start"}, headers=headers)
    assert "您好，我是天府科技助手" in texts((await resp.json())["replies"])  # the page is Chinese
