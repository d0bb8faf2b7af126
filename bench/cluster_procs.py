"""The processes of `tianfu bench cluster` (bench.cluster): its own Redis, a throwaway
PostgreSQL database, the application's processes, and the CPU seconds each of them used
(from /proc, so that a throughput limit on a small machine can be read off the figures)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import secrets
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A redis-server of our own on a free port, its data in *directory* (AOF, fsync always)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None
        self.meter: CpuMeter | None = None  # told when the server goes and comes back

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
        if self.meter is not None:
            self.meter.watch(self.proc.pid, "redis")

    def names(self) -> dict[int, str]:
        return {self.proc.pid: "redis"} if self.proc is not None else {}

    async def restart(self) -> float:
        """Stop (SIGTERM: Redis writes what it holds) and start again; seconds it was away."""
        started = time.monotonic()
        await self.stop()
        await self.start()
        return time.monotonic() - started

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            if self.meter is not None:
                self.meter.settle(self.proc.pid)
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
    names: dict[int, str] = field(default_factory=dict)  # pid -> e.g. "worker3"
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
        self.names[proc.pid] = f"{args[0]}{self.started}"
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


async def ready(port: int, timeout: float = 300.0) -> None:
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


# ---- CPU seconds per process ----------------------------------------------------------------
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (None: gone, or no /proc)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of *pid*, of its children it has waited for, and of its live
    children (a PostgreSQL server's backends); None when the process is gone."""
    own = _stat(pid)
    if own is None:
        return None
    # fields from state (3rd in proc(5)): utime 14th, stime, cutime, cstime
    total = sum(int(v) for v in own[11:15])
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and entry.name != str(pid):
                child = _stat(int(entry.name))
                if child is not None and child[1] == str(pid):  # 4th field: parent pid
                    total += int(child[11]) + int(child[12])
    return total / TICKS


def postgres_names(database_url: str) -> dict[int, str]:
    """{pid: "postgres"} for the PostgreSQL server (postmaster) of *database_url* when it runs
    on this machine and /proc shows it, else {}."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(database_url)
    try:
        with psycopg.connect(
            host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database
        ) as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()
    except psycopg.Error:
        return {}
    fields = _stat(int(backend[0])) if backend else None
    return {int(fields[1]): "postgres"} if fields else {}


class CpuMeter:
    """CPU seconds each process used from :meth:`begin` on, by name ("worker2", "redis",
    "postgres", "bench" - this process: the fake Bot API and the load). A process started
    later counts from its start (its start-up is part of the run); one that is about to go
    away is read first with :meth:`settle`."""

    def __init__(self) -> None:
        self.watched: dict[int, tuple[str, float]] = {}  # pid -> (name, CPU seconds at start)
        self.used: dict[str, float] = {}
        self._bench = 0.0

    @staticmethod
    def _self() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def begin(self, processes: dict[int, str]) -> None:
        self._bench = self._self()
        for pid, name in processes.items():
            self.watch(pid, name, from_now=True)

    def watch(self, pid: int | None, name: str, *, from_now: bool = False) -> None:
        if pid is None:
            return
        start = cpu_seconds(pid) if from_now else 0.0
        if start is not None:
            self.watched[pid] = (name, start)

    def settle(self, pid: int | None) -> None:
        if pid is None or pid not in self.watched:
            return
        name, start = self.watched.pop(pid)
        now = cpu_seconds(pid)
        if now is not None:
            self.used[name] = self.used.get(name, 0.0) + now - start

    def report(self, elapsed: float) -> dict[str, Any]:
        """cpu_s per process, their total, and how many cores they kept busy on average."""
        for pid in list(self.watched):
            self.settle(pid)
        self.used["bench"] = self._self() - self._bench
        total = sum(self.used.values())
        return {
            "cpu_s": {name: round(s, 2) for name, s in sorted(self.used.items())},
            "cpu_total_s": round(total, 1),
            "cores_busy": round(total / max(elapsed, 1e-6), 2),
        }
