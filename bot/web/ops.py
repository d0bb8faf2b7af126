"""/healthz, /readyz and /metrics for any process's aiohttp app: ``add_ops(app, services)``.

- /healthz: 200 while the process serves requests (liveness).
- /readyz: 200 when the database, Redis (when REDIS_URL is set) and Chroma (the server at
  CHROMA_URL, or the embedded collection) answer within two seconds; else 503 naming each
  that failed, so a load balancer stops sending work here.
- /metrics: Prometheus text (prometheus-client): updates handled and failed, the turn
  latency histogram, stream lag and pending entries, outbox backlog, LLM calls, failures and
  the breaker, plus the process's own (memory, CPU, open files).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import ClientSession, ClientTimeout, web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot import ops
from store.outbox import backlog

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)
CHECK_SECONDS = 2.0
REDIS_KEY = web.AppKey("ops_redis", object)


def add_ops(app: web.Application, services: Services) -> None:
    """Mount the three routes on *app* (a Redis client is opened with the app when REDIS_URL
    is set, and closed with it)."""
    settings = services.settings

    async def open_redis(app: web.Application) -> Any:
        if settings.redis_url:
            from redis.asyncio import Redis

            app[REDIS_KEY] = Redis.from_url(
                settings.redis_url, socket_connect_timeout=CHECK_SECONDS
            )
        yield
        if settings.redis_url:
            await app[REDIS_KEY].aclose()  # type: ignore[attr-defined]

    app.cleanup_ctx.append(open_redis)

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        checks = {"database": _database(services), "chroma": _chroma(services)}
        if settings.redis_url:
            checks["redis"] = _redis(request.app[REDIS_KEY])
        results = await asyncio.gather(
            *(asyncio.wait_for(c, CHECK_SECONDS) for c in checks.values()),
            return_exceptions=True,
        )
        failed = {
            name: f"{type(r).__name__}: {r}".strip(": ")
            for name, r in zip(checks, results, strict=True)
            if isinstance(r, BaseException)
        }
        if failed:
            lines = "".join(f"{name}: {why[:200]}\n" for name, why in failed.items())
            log.warning("not ready: %s", ", ".join(failed))
            return web.Response(status=503, text=f"not ready\n{lines}")
        return web.Response(text="ready: " + ", ".join(checks) + "\n")

    async def metrics(request: web.Request) -> web.Response:
        await _refresh(services, request.app.get(REDIS_KEY))
        body = await asyncio.to_thread(generate_latest)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


async def _database(services: Services) -> None:
    def ping() -> None:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    await asyncio.to_thread(ping)


async def _redis(redis: Any) -> None:
    await redis.ping()


async def _chroma(services: Services) -> None:
    url = services.settings.chroma_url
    if url:
        timeout = ClientTimeout(total=CHECK_SECONDS)
        async with (
            ClientSession(timeout=timeout) as http,
            http.get(url.rstrip("/") + "/api/v2/heartbeat") as resp,
        ):
            if resp.status != 200:
                msg = f"{url} answered {resp.status}"
                raise ConnectionError(msg)
        return
    await asyncio.to_thread(services.knowledge.vectors.collection.count)


async def _refresh(services: Services, redis: Any | None) -> None:
    """Fill in the gauges read from elsewhere (each best effort: a source that is away keeps
    its last value, and /readyz says what is away)."""
    try:
        with services.session_factory() as session:
            ops.OUTBOX_BACKLOG.set(await asyncio.to_thread(backlog, session=session))
    except Exception as exc:  # noqa: BLE001
        log.debug("metrics: outbox backlog unavailable: %s", exc)
    if redis is not None:
        try:
            lag, pending = await stream_totals(redis, services.settings.stream_shards)
            ops.STREAM_LAG.set(lag)
            ops.STREAM_PENDING.set(pending)
        except Exception as exc:  # noqa: BLE001
            log.debug("metrics: stream figures unavailable: %s", exc)
    llm = services.assistant.llm
    if llm is not None:
        ops.LLM_CALLS.set(llm.calls.made)
        ops.LLM_FAILURES.set(llm.calls.failed)
        ops.LLM_SKIPPED.set(llm.calls.skipped)
        ops.LLM_BREAKER_OPEN.set(1 if llm.breaker.is_open else 0)


async def stream_totals(redis: Any, shards: int) -> tuple[int, int]:
    """(entries not yet read by the group, entries read but not acknowledged) over all shards."""
    from bot.cluster.streams import GROUP, stream_name

    lag = pending = 0
    for shard in range(shards):
        try:
            groups = await redis.xinfo_groups(stream_name(shard))
        except Exception:  # noqa: BLE001 - a stream not created yet holds nothing
            continue
        if not groups:  # no worker has started yet: everything in it waits
            lag += int(await redis.xlen(stream_name(shard)))
        for group in groups:
            name = group.get("name")
            if name in (GROUP, GROUP.encode()):
                lag += int(group.get("lag") or 0)
                pending += int(group.get("pending") or 0)
    return lag, pending
