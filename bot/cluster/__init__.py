"""Running at scale: updates queued in Redis Streams and the workers that consume them."""
