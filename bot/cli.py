"""The `tianfu` command line: one entry point for running, data preparation and tools."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import cli_bench, cli_db, cli_ent, cli_kb, cli_stats
from bot.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)
CHAT_LOG = Path("logs") / "chat.log"  # under DATA_DIR: the log while someone chats

Handler = Callable[[argparse.Namespace, Settings], int]


def _cmd_db_init(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_database

    engine, version = open_database(settings)
    engine.dispose()
    print(f"database ready: {engine.url.render_as_string(hide_password=True)} (schema v{version})")
    return 0


def _cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    for name, value in settings.model_dump().items():
        shown = "(set)" if value is not None and "SecretStr" in type(value).__name__ else value
        print(f"{name.upper()}={shown if shown is not None else ''}")
    print(f"# effective database: {settings.db_url}")
    return 0


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_services, prepare_knowledge

    services = build_services(settings)
    articles, chunks = prepare_knowledge(services)
    print(f"knowledge base ready: {articles} articles, {chunks} chunks")
    if _serves(settings):  # a channel over HTTP is configured (issue 16)
        return _serve(settings, services, None, None)
    if settings.telegram_bot_token is not None:
        return _run_bot(settings, services, webhook=False)
    return _chat(services, "farmer1")


# --- `tianfu serve`: one HTTP application for every channel (issue 16) ---
def _serves(settings: Settings) -> bool:
    """`tianfu run` serves over HTTP when web chat, WeChat or a Telegram webhook is set up."""
    web_chat = settings.web_secret is not None and bool(settings.web_secret.get_secret_value())
    webhook = settings.telegram_bot_token is not None and bool(settings.webhook_url)
    wechat = settings.wechat_token is not None and bool(settings.wechat_token.get_secret_value())
    return web_chat or webhook or wechat


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_services, prepare_knowledge

    services = build_services(settings)
    if len(services.knowledge) == 0:  # a fresh DATA_DIR: answer from the bundled corpus
        articles, _ = prepare_knowledge(services)
        print(f"knowledge base ready: {articles} articles", flush=True)
    return _serve(settings, services, args.host, args.port)


def _serve(settings: Settings, services: Services, host: str | None, port: int | None) -> int:
    from bot.web.serve import serve

    try:
        serve(settings, services, host=host, port=port)
    except ValueError as exc:
        print(f"tianfu serve: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_bot(args: argparse.Namespace, settings: Settings) -> int:
    return _run_bot(settings, None, webhook=args.webhook)


def _run_bot(settings: Settings, services: Services | None, *, webhook: bool) -> int:
    import asyncio

    from bot.telegram.runner import run_polling

    if settings.telegram_bot_token is None:
        print("tianfu bot: set TELEGRAM_BOT_TOKEN (from @BotFather) first", file=sys.stderr)
        return 2
    try:
        if webhook:  # the webhook is a route of `tianfu serve`, on WEBHOOK_HOST:WEBHOOK_PORT
            if not settings.webhook_url or settings.webhook_secret is None:
                msg = "webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET"
                raise ValueError(msg)
            from bot.web.serve import serve

            serve(settings, services, host=settings.webhook_host, port=settings.webhook_port)
        else:
            asyncio.run(run_polling(settings, services))
    except ValueError as exc:
        print(f"tianfu bot: {exc}", file=sys.stderr)
        return 2
    return 0


# ---- running at scale (issue 17) ----------------------------------------------------------
def _cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.telegram.worker import serve_worker

    if not settings.redis_url:
        print("tianfu worker: set REDIS_URL first", file=sys.stderr)
        return 2
    asyncio.run(serve_worker(settings, sender=not args.no_sender, jobs=not args.no_jobs))
    return 0


def _cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_services, prepare_knowledge
    from bot.ops import console_log

    with console_log(settings.data_dir / CHAT_LOG):
        services = build_services(settings)
        if len(services.knowledge) == 0:  # a fresh DATA_DIR: answer from the bundled corpus
            articles, _ = prepare_knowledge(services)
            print(f"知识库是空的，已导入内置科普文章 {articles} 篇。", flush=True)
        return _chat(services, args.as_user)


def _chat(services: Services, me: str) -> int:
    from bot.console import ConsoleChat, terminal_lines
    from bot.ops import console_log

    chat = ConsoleChat(
        services.assistant,
        me=me,
        out=sys.stdout,
        interactive=sys.stdin.isatty(),
        # the console's scheduler: re-matches, expiries, auto-closes, pushes after each turn
        on_turn=services.run_due,
    )
    with console_log(services.settings.data_dir / CHAT_LOG):
        try:
            if chat.interactive:
                chat.run(terminal_lines(lambda: f"\n{chat.me} > "))
            else:
                chat.run(sys.stdin)
        finally:
            services.close()
    return 0


def _cmd_nlu(args: argparse.Namespace, settings: Settings) -> int:
    from bench.nlu import run_stream

    return run_stream(sys.stdin, sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tianfu",
        description="天府科技云助手 - chat-first assistant for science and technology services.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="prepare the data and start the assistant (console or bot)")
    run.set_defaults(handler=_cmd_run)

    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("init", help="create or migrate the schema").set_defaults(
        handler=_cmd_db_init
    )
    cli_db.register(db_sub)

    sub.add_parser("settings", help="show the effective settings (secrets hidden)").set_defaults(
        handler=_cmd_settings
    )
    chat = sub.add_parser("chat", help="talk to the assistant in this terminal")
    chat.add_argument(
        "--as", dest="as_user", default="farmer1", help="who you are (default farmer1)"
    )
    chat.set_defaults(handler=_cmd_chat)
    sub.add_parser(
        "nlu", help="JSONL {id, text} on stdin -> intent and slots on stdout"
    ).set_defaults(handler=_cmd_nlu)
    bot_cmd = sub.add_parser("bot", help="run the Telegram bot (long polling, or --webhook)")
    bot_cmd.add_argument("--webhook", action="store_true", help="serve WEBHOOK_URL instead")
    bot_cmd.set_defaults(handler=_cmd_bot)
    serve = sub.add_parser(
        "serve", help="serve the web chat, the dashboard and the Telegram webhook over HTTP"
    )
    serve.add_argument("--host", default=None, help="address to listen on (default WEB_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default WEB_PORT)")
    serve.set_defaults(handler=_cmd_serve)
    worker = sub.add_parser(
        "worker", help="handle the updates the channels queued in Redis (REDIS_URL)"
    )
    worker.add_argument("--no-sender", action="store_true", help="do not send the outbox")
    worker.add_argument("--no-jobs", action="store_true", help="do not run the scheduler")
    worker.set_defaults(handler=_cmd_worker)
    cli_kb.register(sub)
    cli_stats.register(sub)
    cli_bench.register(sub)
    cli_ent.register(sub)  # issue 18: achievements import
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """Run one `tianfu` command; the exit status.

    Args:
        argv: the arguments (default: the process's).
        settings: use these instead of the environment's (tests, embedding programs).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    if settings is None:
        try:
            settings = get_settings()
        except SettingsError as exc:
            print(f"tianfu: {exc}", file=sys.stderr)
            return 2
    from bot.ops import configure_logging

    configure_logging(logging.DEBUG if args.verbose else settings.log_level, settings.log_format)
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
