"""Where updates wait between the webhook and the workers: Redis Streams, one per shard.

An update goes to shard ``crc32(chat key) % STREAM_SHARDS``, so all updates of one chat are in
one stream, in the order they arrived. Every channel's updates share the streams (issue 17):
Telegram's webhook, the web chat and WeChat; an entry is tagged with its channel (``ch``) and
the worker hands it to that channel's handler. The chat key is the chat id for Telegram and
``channel:chat id`` for the others (their ids could collide with Telegram's).

The webhook appends with one Lua script that both remembers the update id (``SET NX`` with a
TTL: Telegram's retries are dropped here) and
appends it (``XADD``) - atomically, so an update is never remembered without being queued.
The webhook answers 200 only after that script returned; when Redis cannot be reached it
answers 503 and Telegram retries the update later. Redis runs with appendonly (and, for no
loss at all on a Redis crash, ``appendfsync always``).
"""

from __future__ import annotations

import zlib
from typing import Any

PREFIX = "tianfu:updates"
GROUP = "workers"
DEAD = f"{PREFIX}:dead"  # updates given up on, with the error, for an operator
WAKE = "tianfu:outbox"  # published when a worker committed messages: senders look at once
DONE = "tianfu:done"  # published (channel:update id) when a worker committed an HTTP update
SEEN_SECONDS = 2 * 24 * 3600  # Telegram retries an update for at most about a day

_APPEND = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], '*', 'u', ARGV[2], 'chat', ARGV[3], 'ch', ARGV[4])
  return 1
end
return 0
"""


def connect(url: str) -> Any:
    """An asyncio Redis client for REDIS_URL (bytes in, bytes out)."""
    from redis.asyncio import Redis

    # reads block for at most a second (XREADGROUP BLOCK), so 10 s means Redis is gone
    return Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=10.0)


def shard_of(chat_id: str, shards: int) -> int:
    """The shard of a chat (stable across processes and restarts)."""
    return zlib.crc32(chat_id.encode()) % shards


def chat_key(channel: str, chat_id: str) -> str:
    """What a chat is sharded by (Telegram's as before, so queued entries keep their shard)."""
    return chat_id if channel == "telegram" else f"{channel}:{chat_id}"


def stream_name(shard: int) -> str:
    return f"{PREFIX}:{shard}"


async def ensure_groups(redis: Any, shards: int) -> None:
    """Create the consumer group on every shard's stream (from its start: entries are deleted
    once handled, so whatever is in a stream still needs handling)."""
    from redis.exceptions import ResponseError

    for shard in range(shards):
        try:
            await redis.xgroup_create(stream_name(shard), GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


class Ingress:
    """Appends verified updates to their chat's stream, once per update id.

    Args:
        redis: a ``redis.asyncio.Redis`` client.
        shards: STREAM_SHARDS.
        channel: whose update ids these are (ids are unique per channel).
    """

    def __init__(self, redis: Any, shards: int, channel: str = "telegram") -> None:
        self.redis = redis
        self.shards = shards
        self.channel = channel
        self._append = redis.register_script(_APPEND)

    async def append(self, update_id: str, chat_id: str, body: bytes) -> bool:
        """Queue one update; False when it was queued before (a retry). Raises RedisError or
        OSError when Redis cannot be reached (the caller answers non-200)."""
        keys = [
            f"{PREFIX}:seen:{self.channel}:{update_id}",
            stream_name(shard_of(chat_key(self.channel, chat_id), self.shards)),
        ]
        args = [SEEN_SECONDS, body, chat_id, self.channel]
        added = await self._append(keys=keys, args=args)
        return bool(added)
