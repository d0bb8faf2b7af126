"""Hygiene of what administrators see and keep: old question texts cleared by the scheduler
round, phones masked in the gap list of `tianfu kb gaps` and of the dashboard."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from bot.web.dashboard import report_json
from store.clock import utcnow
from store.conversations import ConversationState, save_state
from store.metrics import region_report
from store.questions import QuestionLog, log_question
from store.validation import Region
from tests.bot.wiring import make_services
from tests.store.test_phone import WRITTEN_MOBILE, longest_digit_run


def test_the_scheduler_round_clears_old_question_texts(engine: Engine, tmp_path: Path):
    services = make_services(engine, tmp_path, question_log_days=30)
    with Session(engine, expire_on_commit=False) as s:
        old = log_question(session=s, question="旧问题：火星能种土豆吗", answered=False)
        new = log_question(session=s, question="新问题：月球能种土豆吗", answered=True)
        s.execute(
            update(QuestionLog)
            .where(QuestionLog.id == old.id)  # type: ignore[arg-type]
            .values(created_at=utcnow() - timedelta(days=31))
        )
        s.commit()
    for who, idle in (("idle", 31), ("active", 1)):
        with Session(engine) as s:
            save_state(session=s, channel="test", external_id=who, data={"v": 2})
            s.execute(
                update(ConversationState)
                .where(ConversationState.external_id == who)  # type: ignore[arg-type]
                .values(updated_at=utcnow() - timedelta(days=idle))
            )
            s.commit()
    services.run_due()
    with Session(engine) as s:
        left = [c.external_id for c in s.exec(select(ConversationState)).all()]
    assert left == ["active"]
    with Session(engine) as s:
        kept_old, kept_new = s.get(QuestionLog, old.id), s.get(QuestionLog, new.id)
        assert kept_old is not None and kept_new is not None
        assert kept_old.question == "" and kept_old.answered is False
        assert kept_new.question.startswith("新问题")


def _log_phones(engine: Engine) -> None:
    with Session(engine) as s:
        for text in WRITTEN_MOBILE:
            log_question(
                session=s,
                question=f"火星能种土豆吗 {text}",
                answered=False,
                region=("四川省", "宜宾市", "翠屏区"),
            )


def test_kb_gaps_shows_masked_questions(tianfu, tmp_path: Path):  # type: ignore[no-untyped-def]
    from store.db import init_db, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'tianfu.db'}")
    init_db(engine)
    _log_phones(engine)
    engine.dispose()
    out = tianfu("kb", "gaps", cwd=tmp_path)
    assert out.returncode == 0 and "火星能种土豆吗" in out.stdout
    questions = [ln.split("no answer", 1)[1] for ln in out.stdout.splitlines()[1:]]
    assert questions and all(longest_digit_run(q) < 7 for q in questions)
    assert "138******34" in out.stdout


def test_dashboard_gap_table_shows_masked_questions(engine: Engine):
    _log_phones(engine)
    with Session(engine) as s:
        report = region_report(session=s, region=Region("四川省"))
    gaps = [g["text"] for g in report_json(report)["gaps"]]
    assert len(gaps) == len(set(gaps)) and any("138******34" in g for g in gaps)
    assert all(longest_digit_run(g) < 7 for g in gaps)
