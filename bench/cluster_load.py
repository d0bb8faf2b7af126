"""The load of `tianfu bench cluster` (bench.cluster): Telegram updates posted through the
webhook as Telegram does, web chat requests as browsers send them, and the verdict on the
replies (lost, duplicated, out of order, latency)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from typing import Any

from bench.bot import QUESTIONS
from bench.fake_telegram import FakeBotAPI
from bench.measure import percentile

SECRET = "bench-secret-0123456789"
TURNS = ("你好", "question", "谢谢")  # one reply each, told apart by how it starts
HELLO, THANKS = "您好", "不客气"


def text_of(turn: str, chat: int) -> str:
    return QUESTIONS[chat % len(QUESTIONS)] if turn == "question" else turn


def kind_of_reply(text: str) -> str:
    if text.startswith(HELLO):
        return "你好"
    if text.startswith(THANKS):
        return "谢谢"
    return "question"


def _update(update_id: int, chat: int, text: str) -> dict[str, Any]:
    user = {"id": chat, "is_bot": False, "first_name": f"农户{chat}", "language_code": "zh-hans"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": user,
            "text": text,
        },
    }


class Load:
    """M updates over M/3 chats, posted by *posters* connections; each chat's in order."""

    def __init__(self, updates: int, first_chat: int = 700_000, first_update: int = 1) -> None:
        chats = max(1, updates // len(TURNS))
        self.chats = [first_chat + i for i in range(chats)]
        self.plan: list[tuple[int, int, str]] = []  # (update id, chat, turn)
        for turn in TURNS:
            for chat in self.chats:
                if len(self.plan) < updates:
                    self.plan.append((first_update + len(self.plan), chat, turn))
        self.accepted: dict[int, float] = {}  # update id -> when the webhook said 200
        self.refused = 0

    async def post(self, url: str, part: list[tuple[int, int, str]], posters: int) -> None:
        import aiohttp

        by_poster: list[list[tuple[int, int, str]]] = [[] for _ in range(posters)]
        for item in part:
            by_poster[item[1] % posters].append(item)  # a chat always on one connection
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

        async def poster(items: list[tuple[int, int, str]]) -> None:
            async with aiohttp.ClientSession() as http:
                for uid, chat, turn in items:
                    body = _update(uid, chat, text_of(turn, chat))
                    while True:
                        try:
                            async with http.post(url, json=body, headers=headers) as resp:
                                if resp.status == 200:
                                    self.accepted[uid] = time.monotonic()
                                    break
                        except (aiohttp.ClientError, OSError):
                            pass
                        self.refused += 1
                        await asyncio.sleep(0.2)  # Telegram retries too, later

        await asyncio.gather(*(poster(items) for items in by_poster))


class WebLoad:
    """N web chat requests over N/3 browser sessions, each session's turns in order."""

    def __init__(self, requests: int) -> None:
        sessions = max(1, requests // len(TURNS)) if requests else 0
        self.plan = [(n, turn) for turn in TURNS for n in range(sessions)][:requests]
        self.got: dict[int, list[str]] = {}  # session -> kinds of the answers, in order
        self.late = 0  # answered 202: the replies come over /api/events instead
        self.refused = 0
        self.latencies: list[float] = []
        self._http: dict[int, Any] = {}

    async def post(self, base: str, part: list[tuple[int, str]]) -> None:
        import aiohttp

        by_session: dict[int, list[str]] = {}
        for n, turn in part:
            by_session.setdefault(n, []).append(turn)

        async def browser(n: int, turns: list[str]) -> None:
            http = self._http.get(n)
            if http is None:  # a browser: the page issues its cookie
                http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
                self._http[n] = http
                async with http.get(f"{base}/chat") as resp:
                    await resp.read()
            for turn in turns:
                body = {"text": text_of(turn, n), "id": secrets.token_hex(12)}
                started = time.monotonic()
                while True:
                    try:
                        async with http.post(
                            f"{base}/api/chat", json=body, headers={"Origin": base}
                        ) as resp:
                            if resp.status in (200, 202):
                                answer = await resp.json()
                                break
                    except (aiohttp.ClientError, OSError):
                        pass
                    self.refused += 1
                    await asyncio.sleep(0.2)  # the page asks the person to send it again
                if resp.status == 202:
                    self.late += 1
                    self.got.setdefault(n, []).append("late")
                    continue
                self.latencies.append((time.monotonic() - started) * 1000)
                for reply in answer["replies"][:1]:
                    self.got.setdefault(n, []).append(kind_of_reply(reply["text"]))

        await asyncio.gather(*(browser(n, turns) for n, turns in by_session.items()))

    async def close(self) -> None:
        for http in self._http.values():
            await http.close()

    def judge(self) -> dict[str, Any]:
        lost = duplicated = out_of_order = 0
        for n in {n for n, _ in self.plan}:
            expected = [turn for m, turn in self.plan if m == n]
            kinds = [k for k in self.got.get(n, []) if k != "late"]
            answered = [
                t for t, k in zip(expected, self.got.get(n, []), strict=False) if k != "late"
            ]
            want, have = Counter(answered), Counter(kinds)
            lost += sum((Counter(expected) - have).values()) - (len(expected) - len(answered))
            duplicated += sum((have - want).values())
            if want == have and kinds != answered:
                out_of_order += 1
        return {
            "web_requests": len(self.plan),
            "web_lost": lost,
            "web_duplicated": duplicated,
            "web_out_of_order_sessions": out_of_order,
            "web_late": self.late,
            "web_resent": self.refused,
            "web_p99_ms": round(percentile(self.latencies, 99), 1),
        }


def judge(load: Load, api: FakeBotAPI) -> dict[str, Any]:
    """Lost, duplicated and out-of-order replies, and latency (reply time - accept time)."""
    lost = duplicated = out_of_order = 0
    latencies: list[float] = []
    expected_by_chat: dict[int, list[tuple[int, str]]] = {}
    for uid, chat, turn in load.plan:
        expected_by_chat.setdefault(chat, []).append((uid, turn))
    for chat, expected in expected_by_chat.items():
        got = api.to(chat)
        kinds = [kind_of_reply(m["text"]) for m in got]
        want = Counter(turn for _, turn in expected)
        have = Counter(kinds)
        lost += sum((want - have).values())
        duplicated += sum((have - want).values())
        if not (want - have) and not (have - want) and kinds != [t for _, t in expected]:
            out_of_order += 1
        for (uid, _), msg in zip(expected, got, strict=False):
            if uid in load.accepted:
                latencies.append((msg["at"] - load.accepted[uid]) * 1000)
    return {
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order_chats": out_of_order,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
    }


async def until_replied(api: FakeBotAPI, load: Load, timeout: float, settle: float = 1.5) -> float:
    """Wait for one reply per update (or *timeout*); the time of the last reply."""
    chats = set(load.chats)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for m in api.sent if m["chat_id"] in chats) >= len(load.plan):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(settle)  # a reply sent twice would come now
    return max((m["at"] for m in api.sent if m["chat_id"] in chats), default=time.monotonic())


async def warm_up(api: FakeBotAPI, url: str, processes: int) -> None:
    """A few conversations before the clock starts: every process loads what it loads on its
    first turns (gazetteer, models), which is start-up, not throughput."""
    load = Load(len(TURNS) * 8 * processes, first_chat=900_000, first_update=10_000_000)
    await load.post(url, load.plan, 8)
    await until_replied(api, load, timeout=300, settle=0)
