"""`tianfu bench cluster --workers N --updates M`: the cluster under fire, on loopback.

Starts a fake Bot API (bench.fake_telegram), its own Redis (appendonly, appendfsync always),
a fresh database on the PostgreSQL server at --database-url (or TEST_DATABASE_URL), the
webhook as ingress (`tianfu bot --webhook` with REDIS_URL; it also runs the sender) and N
`tianfu worker --no-sender` processes. It then posts M text updates through the webhook as
Telegram does (each chat's updates in order, a request retried until it gets 200), in three
parts: after the first it ``kill -9``s a worker (and starts a new one), during the second it
restarts Redis. Every update gets exactly one reply, of a kind known from its text, so
counting the replies each chat got says what was lost, what came twice and what came out of
order.

With ``web`` > 0 (``--web N``) the ingress is `tianfu serve` (the webhook and the web chat on
one port) and N web chat requests are mixed in: browser sessions each saying the same three
turns in order through ``/api/chat``, resent with the same request id when refused; each
request waits for its replies (WEB_REPLY_WAIT_SECONDS), which the worker committed, so the
answers say what was lost or came twice, as for Telegram.

The same updates then go through one process without Redis (`tianfu bot --webhook`, as
today) for ``single_process_updates_per_s``.

Throughput is updates / seconds from the first post to the last reply. The fake API has no
rate limits and the bench lifts Telegram's (TELEGRAM_RATE_PER_SECOND, per-chat interval 0),
so the figure is the cluster's own. bench does not import the application: it runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bot import QUESTIONS
from bench.fake_telegram import FakeBotAPI
from bench.measure import percentile

SECRET = "bench-secret-0123456789"
TURNS = ("你好", "question", "谢谢")  # one reply each, told apart by how it starts
HELLO, THANKS = "您好", "不客气"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def text_of(turn: str, chat: int) -> str:
    return QUESTIONS[chat % len(QUESTIONS)] if turn == "question" else turn


def kind_of_reply(text: str) -> str:
    if text.startswith(HELLO):
        return "你好"
    if text.startswith(THANKS):
        return "谢谢"
    return "question"


class RedisServer:
    """A redis-server of our own on a free port, its data in *directory* (AOF, fsync always)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            msg = "redis-server not found (Debian: apt-get install redis-server, or .ci/redis.sh)"
            raise RuntimeError(msg)
        self.proc = await asyncio.create_subprocess_exec(
            binary,
            "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await _wait_port(self.port, 20)

    async def restart(self) -> float:
        """Stop (SIGTERM: Redis writes what it holds) and start again; seconds it was away."""
        started = time.monotonic()
        await self.stop()
        await self.start()
        return time.monotonic() - started

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await self.proc.wait()


async def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    msg = f"nothing listens on 127.0.0.1:{port} after {timeout}s"
    raise RuntimeError(msg)


class Database:
    """A fresh database on the server of *url*, dropped afterwards."""

    def __init__(self, url: str) -> None:
        if not url.startswith("postgresql"):
            msg = f"bench cluster needs a PostgreSQL URL (--database-url), got {url!r}"
            raise ValueError(msg)
        self.server_url = url
        self.name = f"tianfu_bench_{secrets.token_hex(4)}"
        base, _, _ = url.rpartition("/")
        self.url = f"{base}/{self.name}"

    def _admin(self, sql: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(self.server_url)
        with psycopg.connect(
            host=u.host, port=u.port, user=u.username, password=u.password,
            dbname=u.database, autocommit=True,
        ) as conn:  # fmt: skip
            conn.execute(sql)  # type: ignore[arg-type]

    def create(self) -> None:
        """Create it and its schema (before any process starts: they would race to)."""
        from store.db import init_db, make_engine

        self._admin(f'CREATE DATABASE "{self.name}"')
        engine = make_engine(self.url)
        try:
            init_db(engine)
        finally:
            engine.dispose()

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def scalar(self, sql: str) -> Any:
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(self.url)
        with psycopg.connect(
            host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database
        ) as conn:
            return conn.execute(sql).fetchall()  # type: ignore[arg-type]


@dataclass
class Cluster:
    """The processes of one run and where their logs go."""

    work: Path
    env: dict[str, str]
    procs: list[asyncio.subprocess.Process] = field(default_factory=list)
    started: int = 0

    async def spawn(self, *args: str, **extra: str) -> asyncio.subprocess.Process:
        self.started += 1
        data = self.work / f"data{self.started}"
        log = open(self.work / f"{args[0]}{self.started}.log", "wb")  # noqa: SIM115
        env = {**self.env, "DATA_DIR": str(data), **extra}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, env=env, cwd=self.work,
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), timeout=20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _ready(port: int, timeout: float = 300.0) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
    msg = f"no process became ready on port {port} in {timeout}s"
    raise RuntimeError(msg)


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


async def _until_replied(
    api: FakeBotAPI, load: Load, timeout: float, settle: float = 1.5
) -> float:
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
    await _until_replied(api, load, timeout=300, settle=0)


def _base_env(database_url: str, api_base: str) -> dict[str, str]:
    drop = {"DATABASE_URL", "CHROMA_URL", "REDIS_URL", "OPENAI_API_KEY", "WEBHOOK_URL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        TELEGRAM_BOT_TOKEN="42:BENCH",
        TELEGRAM_API_BASE=api_base,
        DATABASE_URL=database_url,
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_HOST="127.0.0.1",
        TELEGRAM_RATE_PER_SECOND="100000",
        TELEGRAM_CHAT_INTERVAL_SECONDS="0",
        SCHEDULER_INTERVAL_SECONDS="30",
        STREAM_LEASE_SECONDS="2",  # a killed worker's chats wait about twice this
        LOG_LEVEL="WARNING",
        ANONYMIZED_TELEMETRY="False",
    )
    return env


async def run_cluster(
    workers: int,
    updates: int,
    database_url: str,
    *,
    chaos: bool = True,
    posters: int = 16,
    web: int = 0,
) -> dict[str, Any]:
    """The cluster part of the benchmark (see the module docstring)."""
    work = Path(tempfile.mkdtemp(prefix="tianfu-cluster-"))
    api = FakeBotAPI()
    redis = RedisServer(work / "redis")
    (work / "redis").mkdir()
    db = Database(database_url)
    cluster: Cluster | None = None
    web_load = WebLoad(web)
    try:
        base = await api.start()
        await redis.start()
        db.create()
        port = free_port()
        env = _base_env(db.url, base) | {"REDIS_URL": redis.url}
        cluster = Cluster(work, env)
        hook = {"WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook"}
        if web:  # the web chat and the webhook on one server
            ingress = await cluster.spawn(
                "serve", "--host", "127.0.0.1", "--port", str(port),
                WEB_REPLY_WAIT_SECONDS="25", **hook,
            )  # fmt: skip
        else:
            ingress = await cluster.spawn("bot", "--webhook", WEBHOOK_PORT=str(port), **hook)
        pool = []
        for _ in range(workers):
            ops_port = free_port()
            pool.append(
                (await cluster.spawn("worker", "--no-sender", OPS_PORT=str(ops_port)), ops_port)
            )
        await asyncio.gather(_ready(port), *(_ready(p) for _, p in pool))
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        await warm_up(api, url, workers)
        load = Load(updates)
        thirds = [
            load.plan[i * len(load.plan) // 3 : (i + 1) * len(load.plan) // 3] for i in range(3)
        ]
        site = f"http://127.0.0.1:{port}"
        web_thirds = [
            web_load.plan[i * len(web_load.plan) // 3 : (i + 1) * len(web_load.plan) // 3]
            for i in range(3)
        ]

        async def post(part: int) -> None:
            await asyncio.gather(
                load.post(url, thirds[part], posters), web_load.post(site, web_thirds[part])
            )

        events: dict[str, Any] = {"killed": 0, "redis_restarted": False}
        started = time.monotonic()
        await post(0)
        if chaos and pool:
            victim, _ = pool[0]
            victim.kill()  # kill -9, in the middle of its work
            await victim.wait()
            events["killed"] = 1
            ops_port = free_port()
            await cluster.spawn("worker", "--no-sender", OPS_PORT=str(ops_port))
        if chaos:
            second = asyncio.create_task(post(1))
            await asyncio.sleep(0.3)
            events["redis_away_s"] = round(await redis.restart(), 2)
            events["redis_restarted"] = True
            await second
        else:
            await post(1)
        await post(2)
        last = await _until_replied(api, load, timeout=120 + updates * 2)
        elapsed = max(1e-6, last - started)
        out: dict[str, Any] = {
            "workers": workers,
            "updates": len(load.plan),
            "updates_per_s": round(len(load.plan) / elapsed, 1),
            **judge(load, api),
            **events,
            "webhook_retries": load.refused,
        }
        if web:
            out.update(web_load.judge())
        rows = db.scalar(
            "SELECT count(*) FROM handled_updates WHERE channel = 'telegram' AND "
            "CASE WHEN channel = 'telegram' THEN CAST(update_id AS BIGINT) END < 10000000"
        )
        out["handled_rows"] = int(rows[0][0])
        if web:
            rows = db.scalar("SELECT count(*) FROM handled_updates WHERE channel = 'web'")
            out["web_handled_rows"] = int(rows[0][0])
        if ingress.returncode is not None:
            out["ingress_died"] = True
    except BaseException:
        print(f"bench cluster failed; the processes' logs are in {work}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(work, ignore_errors=True)
        return out
    finally:
        await web_load.close()
        if cluster is not None:
            await cluster.stop()
        await redis.stop()
        await api.stop()
        db.drop()


async def run_single(updates: int, database_url: str, posters: int = 16) -> dict[str, Any]:
    """The same updates through one process without Redis (the webhook handles them)."""
    work = Path(tempfile.mkdtemp(prefix="tianfu-single-"))
    api = FakeBotAPI()
    db = Database(database_url)
    cluster: Cluster | None = None
    try:
        base = await api.start()
        db.create()
        port = free_port()
        cluster = Cluster(work, _base_env(db.url, base))
        await cluster.spawn(
            "bot",
            "--webhook",
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
            WEBHOOK_PORT=str(port),
        )
        await _ready(port)
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        await warm_up(api, url, 1)
        load = Load(updates)
        started = time.monotonic()
        await load.post(url, load.plan, posters)
        last = await _until_replied(api, load, timeout=120 + updates * 2)
        verdict = judge(load, api)
    except BaseException:
        print(f"bench cluster failed; the process's log is in {work}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(work, ignore_errors=True)
        return {
            "single_process_updates_per_s": round(len(load.plan) / max(1e-6, last - started), 1),
            "single_process_p99_ms": verdict["p99_ms"],
            "single_process_lost": verdict["lost"],
        }
    finally:
        if cluster is not None:
            await cluster.stop()
        await api.stop()
        db.drop()


async def measure(
    workers: int,
    updates: int,
    database_url: str,
    *,
    chaos: bool = True,
    single: bool = True,
    web: int = 0,
) -> dict[str, Any]:
    """The cluster run (with *web* web chat requests mixed in), then (with *single*) the
    one-process run: one dict of figures."""
    out = await run_cluster(workers, updates, database_url, chaos=chaos, web=web)
    if single:
        out.update(await run_single(updates, database_url))
    out["cpus"] = os.cpu_count()
    return out


if __name__ == "__main__":  # pragma: no cover - `tianfu bench cluster` is the entry point
    url = os.environ.get("TEST_DATABASE_URL", "")
    print(json.dumps(asyncio.run(measure(2, 60, url)), ensure_ascii=False))
