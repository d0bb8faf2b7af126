"""Telegram's sending limits - about 30 messages a second overall, one a second per chat, and
a pause when Telegram answers 429 retry_after - for one process or for a whole cluster.

:class:`LocalLimiter` keeps the clocks in memory (one process, as without REDIS_URL).
:class:`RedisLimiter` keeps them in Redis, so every sender of every process shares one budget:
one Lua script reads the next free moment overall and for the chat (on Redis's own clock) and,
when both have passed, books the slot - atomic, so two senders never take the same slot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Slot:
    """The answer to "may I send to this chat now?": booked, or how long to wait and why."""

    ok: bool
    chat_wait: float = 0.0  # this chat had a message less than an interval ago: try others
    global_wait: float = 0.0  # the whole bot must wait (overall rate, or a 429 pause)


class Limiter(Protocol):
    async def reserve(self, chat: str) -> Slot: ...

    async def pause(self, seconds: float) -> None: ...


class LocalLimiter:
    """The limits of one process (monotonic *clock*, injectable for tests)."""

    def __init__(
        self,
        per_second: float = 30.0,
        per_chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gap = 1.0 / per_second
        self.chat_interval = per_chat_interval
        self.clock = clock
        self._next = 0.0
        self._next_chat: dict[str, float] = {}

    async def reserve(self, chat: str) -> Slot:
        now = self.clock()
        chat_at = self._next_chat.get(chat, 0.0)
        if chat_at > now:
            return Slot(False, chat_wait=chat_at - now)
        if self._next > now:
            return Slot(False, global_wait=self._next - now)
        self._next = now + self.gap
        self._next_chat[chat] = now + self.chat_interval
        if len(self._next_chat) > 50_000:  # forget chats whose interval has long passed
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        return Slot(True)

    async def pause(self, seconds: float) -> None:
        self._next = max(self._next, self.clock() + seconds)


# KEYS: overall key, chat key. ARGV: overall gap ms, chat interval ms.
# Returns {0, 0} when the slot is booked, else {chat wait ms, overall wait ms}.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local overall = tonumber(redis.call('GET', KEYS[1]) or '0')
local chat = tonumber(redis.call('GET', KEYS[2]) or '0')
if chat > now then return {chat - now, 0} end
if overall > now then return {0, overall - now} end
local gap, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('SET', KEYS[1], now + gap, 'PX', gap + 60000)
if interval > 0 then redis.call('SET', KEYS[2], now + interval, 'PX', interval + 1000) end
return {0, 0}
"""
# KEYS: overall key. ARGV: pause ms. Pushes the next free moment back (never forward).
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local overall = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > overall then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 60000)
end
return 0
"""


class RedisLimiter:
    """The limits shared by every sender that uses the same Redis and *prefix*.

    When Redis cannot be reached the sender is told to wait a second (nothing is sent
    without the shared budget; the rows stay in the outbox).
    """

    def __init__(
        self,
        redis: Any,
        per_second: float = 30.0,
        per_chat_interval: float = 1.0,
        prefix: str = "tianfu:rate",
    ) -> None:
        self.redis = redis
        self.gap_ms = max(1, round(1000 / per_second))
        self.chat_ms = round(per_chat_interval * 1000)
        self.prefix = prefix
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)

    async def reserve(self, chat: str) -> Slot:
        from redis.exceptions import RedisError

        keys = [f"{self.prefix}:all", f"{self.prefix}:chat:{chat}"]
        try:
            chat_ms, overall_ms = await self._reserve(keys=keys, args=[self.gap_ms, self.chat_ms])
        except (RedisError, OSError):
            return Slot(False, global_wait=1.0)
        if chat_ms or overall_ms:
            return Slot(False, chat_wait=int(chat_ms) / 1000, global_wait=int(overall_ms) / 1000)
        return Slot(True)

    async def pause(self, seconds: float) -> None:
        from redis.exceptions import RedisError

        try:
            await self._pause(keys=[f"{self.prefix}:all"], args=[round(seconds * 1000)])
        except (RedisError, OSError):
            return
