"""The Telegram transport on aiogram 3: dispatcher, routers, middlewares, notifier, runner."""
