"""HTTP transports besides Telegram polling: the indicator dashboard (and the webhook)."""
