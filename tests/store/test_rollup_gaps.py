"""The knowledge gap's rollup: exact through every write that changes it (a question without
an answer, a 没用 vote and a change of mind, a person forgotten, texts past retention), the
same ranked gap as the question log, and counted for a database migrated from before it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session

from store.feedback import FeedbackSource, knowledge_gaps, record_feedback
from store.metrics import region_report
from store.privacy import clear_old_questions, forget_person
from store.questions import QuestionLog, log_question
from store.rollup_check import check
from store.rollup_reads import usable_days
from store.rollup_tables import GAP_DAYS, midnight, utc_day
from store.users import User
from store.validation import Region
from tests.store.test_metrics import LUZHOU, SICHUAN, T0, person

CUIPING = Region("四川省", "宜宾市", "翠屏区")
HEJIANG = Region("四川省", "泸州市", "合江县")
DAY0 = midnight(utc_day(T0))


def _ask(session: Session, who: User, region: Region, text: str, answered: bool) -> QuestionLog:
    return log_question(
        session=session,
        question=text,
        answered=answered,
        user_id=who.id,
        top_hit="a-zhongzhi" if answered else "",
        region=(region.province, region.city, region.county),
    )


def _gaps(session: Session, region: Region) -> tuple[list, list]:  # type: ignore[type-arg]
    """The view's gap from the rollup and from the question log, over four weeks from DAY0."""
    since, until = DAY0, DAY0 + timedelta(weeks=4)
    days = usable_days(session, region, since, until)
    assert days is not None
    fast = knowledge_gaps(session=session, since=since, until=until, region=region, days=days)
    slow = knowledge_gaps(session=session, since=since, until=until, region=region)
    return fast, slow


def _date_all(session: Session) -> None:
    """Questions dated into the period (as the metrics fixture does), rollups recounted."""
    session.execute(update(QuestionLog).values(created_at=T0 + timedelta(hours=10)))
    session.commit()
    check(session, repair=True)


def _gap_differences(session: Session) -> list:  # type: ignore[type-arg]
    return [d for d in check(session) if d.table == GAP_DAYS.name]


def test_every_write_keeps_the_gap_rollup_exact(session: Session) -> None:
    a = person(session, CUIPING, "农户甲")
    b = person(session, HEJIANG, "农户乙")
    _ask(session, a, CUIPING, "无人机飞防要备案吗", False)
    _ask(session, b, HEJIANG, "无人机飞防要备案吗", False)
    _ask(session, b, HEJIANG, "猕猴桃溃疡病咋个治", False)
    asked = _ask(session, a, CUIPING, "李子树流胶怎么办", True)
    assert _gap_differences(session) == []
    record_feedback(
        session=session,
        user_id=a.id or 0,
        article_id="a-zhongzhi",
        source=FeedbackSource.ANSWER,
        ref_id=asked.id or 0,
        useful=False,
    )
    assert _gap_differences(session) == []
    unhelpful = session.execute(
        select(func.sum(GAP_DAYS.c.asked)).where(GAP_DAYS.c.kind == "unhelpful")
    ).scalar()
    assert unhelpful == 4  # one question at each of the four levels
    record_feedback(  # a change of mind: out of the gap
        session=session,
        user_id=a.id or 0,
        article_id="a-zhongzhi",
        source=FeedbackSource.ANSWER,
        ref_id=asked.id or 0,
        useful=True,
    )
    assert _gap_differences(session) == []
    forget_person(session=session, user_id=b.id or 0)
    assert _gap_differences(session) == []
    left = session.execute(select(GAP_DAYS.c.question).distinct()).scalars().all()
    assert left == ["无人机飞防要备案吗"]  # only a's question is left in the gap
    clear_old_questions(session=session, before=T0 + timedelta(days=3650))
    assert _gap_differences(session) == []
    assert session.execute(select(func.count()).select_from(GAP_DAYS)).scalar() == 0


def test_the_view_ranks_the_gap_from_the_rollup_as_from_the_log(session: Session) -> None:
    a = person(session, CUIPING, "农户丙")
    b = person(session, HEJIANG, "农户丁")
    for who, region, text, n in [
        (a, CUIPING, "无人机飞防要备案吗", 3),
        (b, HEJIANG, "无人机飞防要备案吗", 1),
        (b, HEJIANG, "猕猴桃溃疡病咋个治", 2),
        (a, CUIPING, "茶树叶子发红咋整", 2),
    ]:
        for _ in range(n):
            _ask(session, who, region, text, False)
    _date_all(session)
    for region in (SICHUAN, LUZHOU, CUIPING):
        fast, slow = _gaps(session, region)
        assert fast == slow, region
    fast, _ = _gaps(session, SICHUAN)
    assert [(g.text, g.count) for g in fast][:1] == [("无人机飞防要备案吗", 4)]
    report = region_report(
        session=session, region=LUZHOU, since=DAY0, until=DAY0 + timedelta(weeks=4)
    )
    assert [(g.text, g.count) for g in report.gaps] == [
        ("猕猴桃溃疡病咋个治", 2),
        ("无人机飞防要备案吗", 1),
    ]


def test_a_database_from_before_the_gap_rollup_gets_it_counted(session: Session) -> None:
    from store import db
    from tests.factories import downgrade

    a = person(session, CUIPING, "农户戊")
    _ask(session, a, CUIPING, "无人机飞防要备案吗", False)
    engine = session.get_bind()
    session.close()
    downgrade(engine, 12)  # type: ignore[arg-type]
    assert db.init_db(engine) == db.SCHEMA_VERSION  # type: ignore[arg-type]
    with Session(engine) as fresh:
        assert fresh.execute(select(func.sum(GAP_DAYS.c.asked))).scalar() == 4
        assert _gap_differences(fresh) == []
