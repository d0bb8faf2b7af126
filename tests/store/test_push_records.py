"""Interest profiles, push history, feedback, the knowledge gap, the outbox additions and the
schema migration to version 2, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, inspect
from sqlmodel import Session, select

from store import db
from store.clock import utcnow
from store.db import init_db
from store.feedback import FeedbackSource, article_votes, knowledge_gaps, record_feedback
from store.interests import clear_profile, note_interests, profile_of, profiles_of
from store.outbox import OutboxMessage, block, drop_pending, enqueue_many
from store.push import histories, record_pushes, still_wanted
from store.questions import QuestionLog, log_question
from store.subscriptions import subscribe, unsubscribe
from store.users import get_or_create_user
from store.validation import Region


def _user(session: Session, ext: str = "u1") -> int:
    return get_or_create_user(session=session, channel="telegram", external_id=ext).id or 0


def test_profile_grows_keeps_one_place_and_clears(session: Session):
    uid = _user(session)
    note_interests(session=session, user_id=uid, crops=["李", "柑橘"], categories=["disease"])
    note_interests(
        session=session,
        user_id=uid,
        crops=["李"],
        categories=["other", ""],
        region=Region("四川省", "宜宾市", "翠屏区"),
    )
    note_interests(session=session, user_id=uid, region=Region("四川省", "泸州市", "合江县"))
    profile = profile_of(session=session, user_id=uid)
    assert list(profile.crops) == ["李", "柑橘"] and profile.crops["李"] == 2
    assert profile.categories == {"disease": 1}  # "other" says nothing about a person
    assert profile.region == Region("四川省", "泸州市", "合江县")
    other = _user(session, "u2")
    assert set(profiles_of(session=session, user_ids=[uid, other])) == {uid}
    assert clear_profile(session=session, user_id=uid) == 4
    assert not profile_of(session=session, user_id=uid)


def test_history_counts_recent_pushes_and_answers_seen(session: Session):
    uid = _user(session)
    now = utcnow()
    record_pushes(session=session, pushes=[(uid, "old-article", "")], at=now - timedelta(days=9))
    ids = record_pushes(
        session=session, pushes=[(uid, "new-article", "水稻"), (uid, "x", "")], at=now
    )
    assert len(ids) == 2 and ids[0] < ids[1]
    log_question(
        session=session,
        question="稻瘟病怎么防治",
        answered=True,
        user_id=uid,
        top_hit="grain-rice-blast",
    )
    log_question(
        session=session,
        question="火星上有水吗",
        answered=False,
        user_id=uid,
        top_hit="sci-rainbow",
    )
    hist = histories(session=session, user_ids=[uid], since=now - timedelta(days=7))[uid]
    assert hist.recent == 2
    assert hist.seen == {"old-article", "new-article", "x", "grain-rice-blast"}
    assert abs((hist.last_at - now).total_seconds()) < 1


def test_an_article_is_recorded_for_a_person_once(session: Session):
    uid = _user(session)
    now = utcnow()
    assert len(record_pushes(session=session, pushes=[(uid, "a", "")], at=now)) == 1
    # a concurrent round with the same article: nothing of it is written
    assert record_pushes(session=session, pushes=[(uid, "b", ""), (uid, "a", "")], at=now) == []
    assert histories(session=session, user_ids=[uid], since=now)[uid].seen == {"a"}


def test_queued_push_is_wanted_only_while_its_topic_is_followed(session: Session):
    uid = _user(session)
    subscribe(session=session, user_id=uid, topics=["柑橘", "地震"])
    citrus, general = record_pushes(
        session=session, pushes=[(uid, "hort-citrus-canker", "柑橘"), (uid, "a", "")], at=utcnow()
    )
    wanted = lambda ref: still_wanted(  # noqa: E731
        session=session, channel="telegram", external_id="u1", ref=ref
    )
    assert wanted(f"push:{citrus}") and wanted(f"push:{general}")
    unsubscribe(session=session, user_id=uid, topics=["柑橘"])
    assert not wanted(f"push:{citrus}") and wanted(f"push:{general}")
    unsubscribe(session=session, user_id=uid)
    assert not wanted(f"push:{general}")
    assert not still_wanted(session=session, channel="telegram", external_id="nobody", ref="")


def test_enqueue_many_respects_blocked_chats_and_drop_pending(session: Session):
    block(session=session, channel="telegram", external_id="9")
    n = enqueue_many(
        session=session,
        messages=[
            {"channel": "telegram", "external_id": "8", "text": "推送", "kind": "push"},
            {"channel": "telegram", "external_id": "8", "text": "通知"},
            {"channel": "telegram", "external_id": "9", "text": "推送", "kind": "push"},
        ],
    )
    assert n == 3
    assert (
        drop_pending(
            session=session, channel="telegram", external_id="8", kind="push", reason="stopped"
        )
        == 1
    )
    rows = {(r.external_id, r.kind): r.status for r in session.exec(select(OutboxMessage))}
    assert rows == {
        ("8", "push"): "dropped",
        ("8", "notice"): "pending",
        ("9", "push"): "blocked",
    }


def test_feedback_per_article_and_question_feeds_the_gap_list(session: Session):
    a, b = _user(session, "a"), _user(session, "b")
    for _ in range(2):
        log_question(session=session, question="火星上能种土豆吗", answered=False, user_id=a)
    asked = log_question(
        session=session,
        question="李子树流胶怎么办",
        answered=True,
        user_id=a,
        top_hit="hort-plum-gummosis",
        top_title="李树流胶病的成因与防治",
    )
    record_feedback(
        session=session,
        user_id=a,
        article_id="hort-plum-gummosis",
        source=FeedbackSource.ANSWER,
        ref_id=asked.id,
        useful=True,
    )
    # a second vote on the same answer replaces the first
    record_feedback(
        session=session,
        user_id=a,
        article_id="hort-plum-gummosis",
        source=FeedbackSource.ANSWER,
        ref_id=asked.id,
        useful=False,
    )
    record_feedback(
        session=session,
        user_id=b,
        article_id="sci-rainbow",
        source=FeedbackSource.PUSH,
        ref_id=7,
        useful=True,
    )
    session.refresh(asked)
    assert asked.feedback == -1
    votes = {v.article_id: (v.useful, v.useless) for v in article_votes(session=session)}
    assert votes == {"hort-plum-gummosis": (0, 1), "sci-rainbow": (1, 0)}
    gaps = knowledge_gaps(session=session)
    assert [(g.kind, g.text, g.count) for g in gaps] == [
        ("unanswered", "火星上能种土豆吗", 2),
        ("article", "李树流胶病的成因与防治", 1),
        ("unhelpful", "李子树流胶怎么办", 1),
    ]  # most frequent first, then the most recent
    kinds = {g.kind: g for g in gaps}
    assert kinds["article"].article_id == "hort-plum-gummosis" and kinds["article"].useless == 1
    assert kinds["unhelpful"].article_id == "hort-plum-gummosis"
    assert "sci-rainbow" not in {g.article_id for g in gaps}  # rated useful
    assert knowledge_gaps(session=session, limit=1)[0].text == "火星上能种土豆吗"
    assert knowledge_gaps(session=session, since=utcnow() + timedelta(minutes=1)) == []


def test_feedback_needs_an_article(session: Session):
    from store.errors import InvalidInput

    with pytest.raises(InvalidInput, match="article_id"):
        record_feedback(
            session=session,
            user_id=_user(session),
            article_id="",
            source=FeedbackSource.PUSH,
            ref_id=1,
            useful=True,
        )


def test_migration_3_adds_the_feedback_column(engine: Engine):
    from tests.factories import downgrade, fresh_connections

    downgrade(engine, 2)
    assert "feedback" not in {c["name"] for c in inspect(engine).get_columns("question_log")}
    assert init_db(engine) == db.SCHEMA_VERSION
    fresh_connections(engine)
    assert "feedback" in {c["name"] for c in inspect(engine).get_columns("question_log")}
    with Session(engine) as s:
        row = log_question(session=s, question="还能记录吗", answered=False)
        assert s.get(QuestionLog, row.id).feedback == 0
