"""`tianfu bench cluster`, small: two worker processes on Redis and PostgreSQL, one killed
with SIGKILL and Redis restarted while updates arrive; no update loses its reply, none gets
two, no chat's replies come out of order."""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest

from tests.conftest import IN_CI


def test_cluster_loses_nothing_and_repeats_nothing_when_a_worker_dies():
    from bench.cluster import measure

    url = os.environ.get("TEST_DATABASE_URL", "")
    missing = [
        why
        for why, absent in (
            ("TEST_DATABASE_URL is not set (.ci/pg.sh)", not url),
            ("redis-server is not installed (.ci/redis.sh)", shutil.which("redis-server") is None),
        )
        if absent
    ]
    if missing:
        if IN_CI:
            pytest.fail(f"the cluster benchmark must run in CI: {'; '.join(missing)}")
        pytest.skip("; ".join(missing))
    out = asyncio.run(measure(2, 30, url, chaos=True, single=False))
    assert out["killed"] == 1 and out["redis_restarted"]
    assert out["lost"] == 0, out
    assert out["duplicated"] == 0, out
    assert out["out_of_order_chats"] == 0, out
    assert out["handled_rows"] == 30  # each update handled once in the database too
    # CPU seconds per process: both workers, the one killed and the one started instead
    workers = {name for name in out["cpu_s"] if name.startswith("worker")}
    assert len(workers) == 3, out["cpu_s"]
    assert sum(out["cpu_s"][name] for name in workers) > 0, out["cpu_s"]
    assert out["cpu_total_s"] >= sum(out["cpu_s"][name] for name in workers)
