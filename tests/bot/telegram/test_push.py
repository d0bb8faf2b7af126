"""Pushes, feedback buttons and article uploads through the real Dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot
from sqlmodel import select

from bot.telegram.dispatcher import create_dispatcher
from bot.telegram.recording import ChatDriver, RecordingSession
from knowledge import CORPUS_DIR
from knowledge.ingest import article_document
from knowledge.loader import read_article_file
from store.feedback import ArticleFeedback
from store.outbox import OutboxMessage
from tests.bot.wiring import make_services

READER, ADMIN, STRANGER = 5001, 9001, 9002
JUNE_10AM = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


async def push_round(tg) -> int:
    outcome = tg.services.run_due(now=JUNE_10AM)
    with tg.services.session_factory() as s:
        return tg.services.queue(s, outcome)


def outbox(tg) -> list[OutboxMessage]:
    with tg.services.session_factory() as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.kind == "push")).all())


async def test_push_is_delivered_with_feedback_buttons(tg):
    me = tg.user(READER, "小李")
    await tg.send(me, "订阅 地震安全")
    await tg.click(me, "确认")
    assert await push_round(tg) == 1
    await tg.notifier.drain()
    push = tg.session.sent(READER)[-1]
    assert push.text.startswith("【科普推送】") and "地震" in push.text
    assert tg.buttons(me) == ["有用", "没用", "退订"]
    out = await tg.click(me, "有用")
    assert "谢谢反馈" in out[0]
    with tg.services.session_factory() as s:
        vote = s.exec(select(ArticleFeedback)).one()
    assert vote.useful and vote.source == "p"


async def test_stop_drops_pushes_already_queued(tg):
    me = tg.user(READER, "小李")
    await tg.send(me, "订阅 地震安全")
    await tg.click(me, "确认")
    assert await push_round(tg) == 1
    out = await tg.send(me, "/stop")
    assert "已退订全部" in out[0]
    before = len(tg.session.sent(READER))
    await tg.notifier.drain()
    assert len(tg.session.sent(READER)) == before  # nothing went out
    assert [r.status for r in outbox(tg)] == ["dropped"]


async def test_unsubscribing_a_topic_drops_its_queued_push_at_send_time(tg):
    me = tg.user(READER, "小李")
    await tg.send(me, "订阅 地震")
    await tg.click(me, "确认")
    assert await push_round(tg) == 1
    await tg.send(me, "订阅 柑橘")  # still following something else
    await tg.click(me, "确认")
    out = await tg.send(me, "退订 地震")
    assert "已退订：地震" in out[0]
    assert [r.status for r in outbox(tg)] == ["pending"]  # withdrawn only when reached
    before = len(tg.session.sent(READER))
    await tg.notifier.drain()
    assert len(tg.session.sent(READER)) == before
    assert [r.status for r in outbox(tg)] == ["dropped"]


async def test_profile_and_subscribe_commands(tg):
    me = tg.user(READER, "小李")
    await tg.send(me, "我在宜宾翠屏区，李子树流胶怎么办")
    out = await tg.send(me, "/profile")
    assert "关注的作物：李" in out[0] and "四川省宜宾市翠屏区" in out[0]
    out = await tg.send(me, "/subscribe")
    assert "李" in tg.buttons(me)
    out = await tg.click(me, "李")
    assert "订阅成功：李" in out[0]


# ---- administrators add articles ---------------------------------------------------------------
def admin_bot(engine, tmp_path):
    services = make_services(engine, tmp_path)  # an empty knowledge base
    recorder = RecordingSession()
    bot = Bot("42:TEST", session=recorder)
    return ChatDriver(create_dispatcher(services.settings, services), bot, recorder), services


async def test_admin_adds_an_article_that_is_searchable_at_once(engine, tmp_path):
    tg, services = admin_bot(engine, tmp_path)
    admin = tg.user(ADMIN, "管理员")
    raw = (CORPUS_DIR / "hort-plum-gummosis.md").read_bytes()
    raw = raw.replace(b"id: hort-plum-gummosis", b"id: local-plum-gummosis")
    out = await tg.send_document(admin, "plum.md", raw)
    assert out == ["文章已入库并可检索：《李树流胶病的成因与防治》（编号 local-plum-gummosis）。"]
    assert (services.corpus_overlay / "local-plum-gummosis.md").read_bytes() == raw
    answer = await tg.send(admin, "李子树流胶怎么办")
    assert "李树流胶病的成因与防治" in answer[0]


async def test_bad_article_is_refused_with_line_and_reason(engine, tmp_path):
    tg, services = admin_bot(engine, tmp_path)
    admin = tg.user(ADMIN, "管理员")
    broken = (CORPUS_DIR / "sci-rainbow.md").read_text(encoding="utf-8")
    broken = broken.replace("category: science", "category: magic")
    out = await tg.send_document(admin, "rainbow.md", broken.encode("utf-8"))
    assert out[0].startswith("文章没有入库（rainbow.md）：第 ")
    assert "unknown category 'magic'" in out[0]
    overlay = services.corpus_overlay
    assert not overlay.exists() or not any(overlay.iterdir())
    out = await tg.send_document(admin, "notes.txt", b"hello")
    assert "Markdown" in out[0]
    out = await tg.send_document(admin, "latin1.md", "---\nid: café\n".encode("latin-1"))
    assert "UTF-8" in out[0]
    # a bundled id cannot be shadowed
    services.knowledge.sync([article_document(read_article_file(CORPUS_DIR / "sci-rainbow.md"))])
    out = await tg.send_document(admin, "rainbow.md", (CORPUS_DIR / "sci-rainbow.md").read_bytes())
    assert "already used by a bundled article, 《彩虹是怎么形成的》" in out[0]
    assert "/" not in out[0].replace("rainbow.md", "")  # no server path


async def test_documents_from_others_are_not_articles(engine, tmp_path):
    tg, _ = admin_bot(engine, tmp_path)
    out = await tg.send_document(tg.user(STRANGER, "路人"), "x.md", b"---\n")
    assert "只能看懂文字" in out[0]
