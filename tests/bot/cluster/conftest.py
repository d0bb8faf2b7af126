"""A Redis server for the cluster tests (TEST_REDIS_URL, from .ci/redis.sh)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import IN_CI


@pytest.fixture
async def redis_url():  # type: ignore[no-untyped-def]
    """TEST_REDIS_URL, emptied for this test; skips (fails in CI) when there is none."""
    from redis.asyncio import Redis

    url = os.environ.get("TEST_REDIS_URL", "")
    reason = "TEST_REDIS_URL is not set"
    if url:
        client = Redis.from_url(url, socket_connect_timeout=2)
        try:
            await client.flushdb()
            reason = ""
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
            reason = f"cannot reach {url}: {exc}"
        finally:
            await client.aclose()
    if reason:
        if IN_CI:
            pytest.fail(f"Redis tests must run in CI: {reason}")
        pytest.skip(
            f'Redis not available ({reason}); start one with: eval "$(.ci/redis.sh start)"'
        )
    return url


@pytest.fixture
async def redis(redis_url):  # type: ignore[no-untyped-def]
    from bot.cluster.streams import connect

    client = connect(redis_url)
    yield client
    await client.aclose()
