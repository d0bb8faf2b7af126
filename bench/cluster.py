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
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.cluster_load import SECRET, Load, WebLoad, judge, until_replied, warm_up
from bench.cluster_procs import (
    Cluster,
    CpuMeter,
    Database,
    RedisServer,
    free_port,
    postgres_names,
    ready,
)
from bench.fake_telegram import FakeBotAPI


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
        await asyncio.gather(ready(port), *(ready(p) for _, p in pool))
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
        meter = CpuMeter()
        meter.begin({**cluster.names, **redis.names(), **postgres_names(db.url)})
        redis.meter = meter
        started = time.monotonic()
        await post(0)
        if chaos and pool:
            victim, _ = pool[0]
            meter.settle(victim.pid)
            victim.kill()  # kill -9, in the middle of its work
            await victim.wait()
            events["killed"] = 1
            ops_port = free_port()
            fresh = await cluster.spawn("worker", "--no-sender", OPS_PORT=str(ops_port))
            meter.watch(fresh.pid, cluster.names[fresh.pid])
        if chaos:
            second = asyncio.create_task(post(1))
            await asyncio.sleep(0.3)
            events["redis_away_s"] = round(await redis.restart(), 2)
            events["redis_restarted"] = True
            await second
        else:
            await post(1)
        await post(2)
        last = await until_replied(api, load, timeout=120 + updates * 2)
        elapsed = max(1e-6, last - started)
        out: dict[str, Any] = {
            "workers": workers,
            "updates": len(load.plan),
            "updates_per_s": round(len(load.plan) / elapsed, 1),
            **judge(load, api),
            **events,
            "webhook_retries": load.refused,
            "elapsed_s": round(elapsed, 1),
            **meter.report(elapsed),
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
        await ready(port)
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        await warm_up(api, url, 1)
        load = Load(updates)
        meter = CpuMeter()
        meter.begin({**cluster.names, **postgres_names(db.url)})
        started = time.monotonic()
        await load.post(url, load.plan, posters)
        last = await until_replied(api, load, timeout=120 + updates * 2)
        verdict = judge(load, api)
        cpu = meter.report(last - started)
    except BaseException:
        print(f"bench cluster failed; the process's log is in {work}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(work, ignore_errors=True)
        return {
            "single_process_updates_per_s": round(len(load.plan) / max(1e-6, last - started), 1),
            "single_process_p99_ms": verdict["p99_ms"],
            "single_process_lost": verdict["lost"],
            "single_process_cpu_s": cpu["cpu_s"],
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
