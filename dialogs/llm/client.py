"""One guarded door to the chat model: a time budget per turn, a circuit breaker, personal
data scrubbed from every request, and a log line (latency, tokens) for every call.

Any failure - timeout, HTTP error, rate limit, output that does not parse - returns None and
the caller keeps its offline result; the model is an improvement, never a dependency.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel

from dialogs.llm.privacy import Redactor

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
# Below this many seconds left in the turn's budget a call is not worth starting.
MIN_CALL_SECONDS = 0.3
_deadline: ContextVar[float | None] = ContextVar("llm_deadline", default=None)


class Mode(StrEnum):
    OFF = "off"
    EXTRACT = "extract"
    ANSWER = "answer"
    BOTH = "both"


@dataclass(slots=True)
class CircuitBreaker:
    """Stops calling a failing endpoint: open after *threshold* failures in a row, one trial
    call after *cooldown* seconds (half-open), closed again by a success."""

    threshold: int = 3
    cooldown: float = 60.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            if self.clock() - self.opened_at >= self.cooldown:
                self.opened_at = self.clock()  # half-open: this caller tries, others wait
                return True
            return False

    def record(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self.failures, self.opened_at = 0, None
                return
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = self.clock()

    def trip(self) -> None:
        """Open at once (the endpoint said to slow down)."""
        with self._lock:
            self.failures = max(self.failures, self.threshold)
            self.opened_at = self.clock()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None


@dataclass(frozen=True, slots=True)
class CallRecord:
    purpose: str
    outcome: str  # ok | timeout | error:<type> | malformed | skipped:<why>
    latency_ms: float
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(slots=True)
class CallLog:
    """Counters of the calls made (the benchmarks read them)."""

    records: deque[CallRecord] = field(default_factory=lambda: deque(maxlen=10_000))
    # since start, for the process's metrics (the records above keep only the latest)
    made: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, record: CallRecord) -> None:
        self.records.append(record)
        if record.outcome.startswith("skipped"):
            self.skipped += 1
        else:
            self.made += 1
            self.failed += record.outcome != "ok"

    def summary(self) -> dict[str, Any]:
        recs = list(self.records)
        made = [r for r in recs if not r.outcome.startswith("skipped")]
        ok = [r for r in made if r.outcome == "ok"]
        return {
            "llm_calls": len(made),
            "llm_ok": len(ok),
            "llm_failed": len(made) - len(ok),
            "llm_skipped": len(recs) - len(made),
            "llm_ms_mean": round(sum(r.latency_ms for r in made) / len(made), 2) if made else 0,
            "prompt_tokens": sum(r.prompt_tokens for r in made),
            "completion_tokens": sum(r.completion_tokens for r in made),
        }


class ChatModel:
    """Structured calls to a LangChain chat model under a deadline.

    Args:
        chat: the LangChain chat model (``ChatOpenAI`` built with ``max_retries=0``).
        mode: which jobs the model does (extract, answer or both).
        timeout: seconds one turn may spend waiting for the model (LLM_TIMEOUT).
        method: structured-output method: ``function_calling`` or ``json_schema``.
    """

    def __init__(
        self,
        chat: Any,
        *,
        mode: Mode = Mode.BOTH,
        timeout: float = 8.0,
        method: str = "function_calling",
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.chat = chat
        self.mode = Mode(mode)
        self.timeout = timeout
        self.method = method
        self.breaker = breaker or CircuitBreaker()
        self.calls = CallLog()
        self._runnables: dict[type[BaseModel], Any] = {}
        # Calls run in worker threads so the wall-clock limit holds whatever the HTTP client
        # does; a call that overruns finishes (and is dropped) in the background.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="llm")

    @property
    def extracts(self) -> bool:
        return self.mode in (Mode.EXTRACT, Mode.BOTH)

    @property
    def answers(self) -> bool:
        return self.mode in (Mode.ANSWER, Mode.BOTH)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Every call inside shares one budget of ``timeout`` seconds."""
        token = _deadline.set(time.monotonic() + self.timeout)
        try:
            yield
        finally:
            _deadline.reset(token)

    def _runnable(self, schema: type[BaseModel]) -> Any:
        runnable = self._runnables.get(schema)
        if runnable is None:
            runnable = self.chat.with_structured_output(
                schema, method=self.method, include_raw=True
            )
            self._runnables[schema] = runnable
        return runnable

    def structured(
        self,
        purpose: str,
        schema: type[T],
        *,
        system: str,
        data: dict[str, Any],
        redactor: Redactor | None = None,
    ) -> T | None:
        """The model's answer as *schema*, or None on any failure (the caller falls back).

        *data* goes to the model as JSON in the user message, after personal data is
        replaced by placeholders (*redactor* keeps them, to restore values handed back).
        """
        deadline = _deadline.get()
        remaining = self.timeout if deadline is None else deadline - time.monotonic()
        if remaining < MIN_CALL_SECONDS:
            self._skip(purpose, "no time left")
            return None
        if not self.breaker.allow():
            self._skip(purpose, "circuit open")
            return None
        red = redactor or Redactor()
        # each value is scrubbed before encoding: JSON escapes would split "138\t0000\t1234"
        payload = json.dumps(red.scrub_data(data), ensure_ascii=False)
        messages = [("system", system), ("user", payload)]
        started = time.perf_counter()
        future = self._pool.submit(self._runnable(schema).invoke, messages)
        try:
            out = future.result(timeout=min(remaining, self.timeout))
        except FutureTimeout:
            future.cancel()
            self._failed(purpose, "timeout", started)
            return None
        except Exception as exc:  # noqa: BLE001 - every client error means "use the offline path"
            if "RateLimit" in type(exc).__name__:  # 429: back off at once
                self.breaker.trip()
                self._log(purpose, f"error:{type(exc).__name__}", started)
                return None
            self._failed(purpose, f"error:{type(exc).__name__}", started)
            return None
        raw, parsed = out.get("raw"), out.get("parsed")
        usage = getattr(raw, "usage_metadata", None) or {}
        if out.get("parsing_error") is not None or not isinstance(parsed, schema):
            self._failed(purpose, "malformed", started, usage)
            return None
        self.breaker.record(True)
        self._log(purpose, "ok", started, usage)
        return parsed

    def _skip(self, purpose: str, why: str) -> None:
        self.calls.add(CallRecord(purpose, f"skipped:{why}", 0.0))
        log.info("llm %s skipped: %s", purpose, why)

    def _failed(
        self, purpose: str, outcome: str, started: float, usage: dict[str, Any] | None = None
    ) -> None:
        self.breaker.record(False)
        self._log(purpose, outcome, started, usage or {})
        if self.breaker.is_open:
            log.warning("llm circuit open after %d failures", self.breaker.failures)

    def _log(self, purpose: str, outcome: str, started: float, usage: Any = None) -> None:
        usage = usage or {}
        rec = CallRecord(
            purpose,
            outcome,
            (time.perf_counter() - started) * 1000,
            int(usage.get("input_tokens", 0) or 0),
            int(usage.get("output_tokens", 0) or 0),
        )
        self.calls.add(rec)
        log.log(
            logging.INFO if outcome == "ok" else logging.WARNING,
            "llm %s %s latency_ms=%.0f prompt_tokens=%d completion_tokens=%d",
            purpose,
            outcome,
            rec.latency_ms,
            rec.prompt_tokens,
            rec.completion_tokens,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def open_chat_model(
    *,
    api_key: str,
    base_url: str = "",
    model: str = "gpt-4o-mini",
    timeout: float = 8.0,
    mode: str = "both",
    method: str = "function_calling",
) -> ChatModel | None:
    """The chat model for LLM mode, or None when the mode is off or no key is set."""
    if not api_key or Mode(mode) == Mode.OFF:
        return None
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(
        model=model,
        api_key=api_key,  # type: ignore[arg-type]
        base_url=base_url or None,
        timeout=timeout,
        max_retries=0,  # a retry would break the time limit; the offline path is the retry
        temperature=0,
        use_responses_api=False,
    )
    return ChatModel(chat, mode=Mode(mode), timeout=timeout, method=method)
