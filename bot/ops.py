"""What operators watch: Prometheus metrics of this process and log lines as JSON.

The metric objects live in the process's default registry (prometheus-client's convention);
values read from elsewhere at scrape time (stream lag, outbox backlog, LLM calls, the
breaker) are filled in by bot.web.ops when /metrics is asked for.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

log = logging.getLogger(__name__)

UPDATES_HANDLED = Counter("tianfu_updates_handled", "Updates handled (committed)", ["channel"])
UPDATES_FAILED = Counter("tianfu_updates_failed", "Update handlings that failed", ["channel"])
TURN_SECONDS = Histogram(
    "tianfu_turn_seconds",
    "Time to handle one update, from reading it to its commit",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPDATES_QUEUED = Counter("tianfu_updates_queued", "Updates the webhook appended to Redis")
UPDATES_REFUSED = Counter(
    "tianfu_updates_refused", "Webhook requests answered non-200 (Redis away)"
)
STREAM_LAG = Gauge("tianfu_stream_lag", "Updates in the streams no worker has read yet")
STREAM_PENDING = Gauge("tianfu_stream_pending", "Updates read by a worker, not yet acknowledged")
OUTBOX_BACKLOG = Gauge("tianfu_outbox_backlog", "Outbox messages waiting to be sent")
MESSAGES_SENT = Counter("tianfu_messages_sent", "Outbox messages delivered", ["channel"])
LLM_CALLS = Gauge("tianfu_llm_calls", "Calls made to the chat model since start")
LLM_FAILURES = Gauge("tianfu_llm_failures", "Calls to the chat model that failed since start")
LLM_SKIPPED = Gauge("tianfu_llm_skipped", "Calls not made (no time left, breaker open)")
LLM_BREAKER_OPEN = Gauge("tianfu_llm_breaker_open", "1 while the LLM circuit breaker is open")

for _metric in (UPDATES_HANDLED, UPDATES_FAILED, TURN_SECONDS, MESSAGES_SENT):
    _metric.labels("telegram")  # shown from the start, at 0

_update_id: ContextVar[str] = ContextVar("update_id", default="")


@contextlib.contextmanager
def update_context(update_id: object) -> Iterator[None]:
    """Log lines written while an update is handled carry its id (LOG_FORMAT=json)."""
    token = _update_id.set(str(update_id))
    try:
        yield
    finally:
        _update_id.reset(token)


def freeze_heap() -> int:
    """Once start-up has loaded what lives as long as the process (lexicons, the intent model,
    jieba's dictionary, the indexes: some 600 000 objects), move it out of the garbage
    collector's sight. A full collection walked all of it (0.55 CPU-seconds each time, one
    turn's pause); now it walks what turns made since. Returns the objects frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("start-up heap frozen: %d objects left out of garbage collection", frozen)
    return frozen


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, update id (when handling one),
    and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if update := _update_id.get():
            out["update_id"] = update
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


@contextlib.contextmanager
def console_log(path: Path) -> Iterator[None]:
    """The console chat shares the terminal with the person chatting: meanwhile the log goes
    to *path*, and only warnings and errors still show on the terminal (all of it with -v,
    when the root logger is at DEBUG). Nested uses for the same file are one."""
    root = logging.getLogger()
    target = str(path.resolve())
    if root.level <= logging.DEBUG or any(
        getattr(h, "baseFilename", None) == target for h in root.handlers
    ):
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(path, encoding="utf-8")
    quieted = [(h, h.level) for h in root.handlers if type(h) is logging.StreamHandler]
    for handler, level in quieted:
        to_file.setFormatter(handler.formatter)
        handler.setLevel(max(level, logging.WARNING))
    root.addHandler(to_file)
    try:
        yield
    finally:
        root.removeHandler(to_file)
        to_file.close()
        for handler, level in quieted:
            handler.setLevel(level)


def configure_logging(level: str | int, fmt: str) -> None:
    """The root handler for the process: text lines, or JSON lines when *fmt* is "json"."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if fmt == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
