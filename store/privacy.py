"""A person's own data: everything stored about them (/mydata), its irreversible removal
(/delete_me), and the retention of raw question texts.

Deleting keeps what the regional indicators count and nothing that names the person (needs
nobody has taken yet are expired first, which leaves them unmet as before): the
user row stays as an anonymous placeholder (roles, region and sign-up time only; no name,
phone or channel id), so needs and orders still count for their region, crop, category,
times, status and rating. Everything the person wrote or chose (need texts, questions,
feedback, subscriptions, interests, conversation state, messages) is deleted or emptied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from store import rollup_gaps
from store.achievements import export_achievements, forget_achievements
from store.cases import CaseStatus, KnowledgeCase
from store.clock import utcnow
from store.conversations import ConversationState
from store.enterprises import export_enterprise, forget_enterprise
from store.errors import StoreError
from store.experts import ExpertProfile
from store.feedback import ArticleFeedback
from store.interests import Interest
from store.lifecycle import OrderStatus
from store.links import LinkCode, LinkFailure
from store.media import MediaFile, MediaStorage, delete_rows_of, media_of_user, remove_files
from store.needs import Need
from store.notifications import OrderNotification
from store.order_tables import Order, OrderEvent, Rating
from store.orders import expire
from store.outbox import BlockedChat, OutboxMessage
from store.push import ProjectSubscription, PushLog, is_project_subscriber
from store.questions import QuestionLog
from store.subscriptions import Subscription
from store.teams import export_teams, forget_member
from store.trust import ContactView, ExpertReview, Report, Suspension
from store.updates import HandledUpdate, forget_chat_updates
from store.users import Identity, User, identities
from store.wechat import CHANNEL as WECHAT
from store.wechat import export_peer, forget_peer

log = logging.getLogger(__name__)

# the channel of a person who asked to be forgotten: no transport ever addresses it
FORGOTTEN_CHANNEL = "deleted"


def is_forgotten(user: User) -> bool:
    """True for the anonymous placeholder left by :func:`forget_person`."""
    return user.channel == FORGOTTEN_CHANNEL


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return str(value)
    return value


def _rows(rows: Any) -> list[dict[str, Any]]:
    """Table rows as dicts of their columns (as stored: no model validation on the way)."""
    return [{c.name: _plain(getattr(row, c.name)) for c in row.__table__.columns} for row in rows]


def export_person(
    *, session: Session, user_id: int, media: MediaStorage | None = None
) -> dict[str, Any]:
    """Everything stored about one person, as JSON-ready data (the /mydata export).

    Keys: user, needs, orders_as_requester, orders_as_expert, ratings, expert_profile,
    subscriptions, interests, questions, feedback, pushes, notified_of_orders,
    conversation_state, media (their photos and voice messages, with where each is served
    when *media* says), knowledge_cases; enterprise, teams, achievements, project_digest.
    """
    user = session.get(User, user_id)
    if user is None:
        return {}
    uid = user_id
    orders_req = session.exec(select(Order).where(Order.requester_id == uid)).all()
    orders_exp = session.exec(select(Order).where(Order.expert_id == uid)).all()
    profile = session.exec(select(ExpertProfile).where(ExpertProfile.user_id == uid)).first()
    state = session.exec(
        select(ConversationState).where(
            ConversationState.channel == user.channel,
            ConversationState.external_id == user.external_id,
        )
    ).first()
    ratings = session.exec(
        select(Rating).where(or_(col(Rating.requester_id) == uid, col(Rating.expert_id) == uid))
    ).all()
    files = media_of_user(session=session, user_id=uid)
    return {
        "exported_at": utcnow().isoformat(),
        "user": _rows([user])[0],
        "needs": _rows(session.exec(select(Need).where(Need.requester_id == uid)).all()),
        "orders_as_requester": _rows(orders_req),
        "orders_as_expert": _rows(orders_exp),
        "ratings": _rows(ratings),
        "expert_profile": _rows([profile])[0] if profile is not None else None,
        "subscriptions": _rows(
            session.exec(select(Subscription).where(Subscription.user_id == uid)).all()
        ),
        "interests": _rows(session.exec(select(Interest).where(Interest.user_id == uid)).all()),
        "questions": _rows(
            session.exec(
                select(QuestionLog)
                .where(QuestionLog.user_id == uid)
                .order_by(col(QuestionLog.created_at))
            ).all()
        ),
        "feedback": _rows(
            session.exec(select(ArticleFeedback).where(ArticleFeedback.user_id == uid)).all()
        ),
        "pushes": _rows(session.exec(select(PushLog).where(PushLog.user_id == uid)).all()),
        "notified_of_orders": _rows(
            session.exec(select(OrderNotification).where(OrderNotification.expert_id == uid)).all()
        ),
        "conversation_state": dict(state.data) if state is not None else None,
        # photos and voice (issue 16): the files' records; the files are theirs to fetch
        "media": [
            {**row, "url": media.url_of(m)} if media is not None else row
            for m, row in zip(files, _rows(files), strict=True)
        ],
        "linked_identities": [
            {"channel": c, "external_id": e} for c, e in identities(session=session, user_id=uid)
        ][1:],
        # issue 16: what the WeChat channel keeps to deliver to them (window, choices)
        "wechat": next(
            (
                export_peer(session=session, openid=ext)
                for ch, ext in identities(session=session, user_id=uid)
                if ch == WECHAT
            ),
            None,
        ),
        # issue 19: solutions shared from the person's orders (as expert or requester)
        "knowledge_cases": _rows(
            session.exec(
                select(KnowledgeCase).where(
                    col(KnowledgeCase.order_id).in_(
                        [o.id for o in (*orders_req, *orders_exp) if o.id is not None]
                    )
                )
            ).all()
        ),
        # issue 18: the enterprise they speak for, their teams, their achievements
        "enterprise": export_enterprise(session=session, user_id=uid),
        "teams": export_teams(session=session, user_id=uid),
        "achievements": export_achievements(session=session, user_id=uid),
        "project_digest": is_project_subscriber(session=session, user_id=uid),
    }


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What :func:`forget_person` removed or emptied, by kind (for the log and the reply)."""

    needs: int = 0
    orders: int = 0
    questions: int = 0
    feedback: int = 0
    subscriptions: int = 0
    interests: int = 0
    messages: int = 0
    media: int = 0  # photo and voice files removed from disk


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


def forget_person(
    *, session: Session, user_id: int, media: MediaStorage | None = None
) -> Forgotten:
    """Irreversibly remove one person's personal data in one transaction.

    Kept, without the person: their needs' and orders' region, crop, category, urgency,
    budget, status, times and rating (the indicators); the user row as an anonymous
    placeholder with roles, region and creation time (so requesters and experts still count
    where they were); anonymous question-log rows (answered flag, top hit, region, time).

    Their photos and voice messages go too: rows in the transaction, files from *media*'s
    root once it committed.

    Raises nothing for an unknown or already forgotten id (returns zero counts).
    """
    user = session.get(User, user_id)
    if user is None or is_forgotten(user):
        return Forgotten()
    uid = user_id
    addresses = identities(session=session, user_id=uid)  # the home first, then linked ones
    channel, external_id = addresses[0]
    # needs nobody took are withdrawn from matching (expired: still unmet in the indicators),
    # so no expert is offered a need without a text or a contact
    for order_id in session.exec(
        select(Order.id).where(
            col(Order.requester_id) == uid,
            col(Order.status).in_([OrderStatus.POSTED, OrderStatus.MATCHED]),
        )
    ).all():
        try:
            expire(session=session, order_id=order_id or 0)
        except StoreError:
            session.rollback()  # taken in the meantime: it stays with its expert
    secrets = [s for s in (user.phone or "", user.display_name) if len(s) >= 2]
    try:
        needs = session.execute(
            update(Need)
            .where(col(Need.requester_id) == uid)
            .values(text="", problem="", contact_phone="")
        )
        mine = or_(col(Order.requester_id) == uid, col(Order.expert_id) == uid)
        order_ids = list(session.exec(select(Order.id).where(mine)).all())
        orders = session.execute(update(Order).where(mine).values(resolution_note=""))
        if order_ids:
            session.execute(
                update(OrderEvent).where(col(OrderEvent.order_id).in_(order_ids)).values(note="")
            )
            session.execute(
                update(Rating).where(col(Rating.order_id).in_(order_ids)).values(comment="")
            )
            session.execute(
                update(OrderNotification)
                .where(col(OrderNotification.order_id).in_(order_ids))
                .values(reason="")
            )
            # issue 19: shared solutions not yet published go; a published article names
            # nobody and stays, without the note or the link to the expert
            cases = col(KnowledgeCase.order_id).in_(order_ids)
            session.execute(
                delete(KnowledgeCase).where(
                    cases, col(KnowledgeCase.status) != CaseStatus.PUBLISHED.value
                )
            )
            session.execute(update(KnowledgeCase).where(cases).values(note="", expert_id=None))
        gapped = rollup_gaps.rows_where(session, col(QuestionLog.user_id) == uid)
        questions = session.execute(
            update(QuestionLog)
            .where(col(QuestionLog.user_id) == uid)
            .values(question="", user_id=None, feedback=0)
        )
        rollup_gaps.remove(session, rollup_gaps.facts_of(gapped))
        feedback = session.execute(
            delete(ArticleFeedback).where(col(ArticleFeedback.user_id) == uid)
        )
        # the marketplace's records about the person: who saw whose phone goes; reports,
        # reviews and suspensions keep only that they happened, not what was said
        session.execute(
            delete(ContactView).where(
                (col(ContactView.viewer_id) == uid) | (col(ContactView.subject_id) == uid)
            )
        )
        session.execute(
            update(Report)
            .where((col(Report.reporter_id) == uid) | (col(Report.reported_id) == uid))
            .values(reason="")
        )
        session.execute(
            update(ExpertReview).where(col(ExpertReview.expert_id) == uid).values(reason="")
        )
        session.execute(update(Suspension).where(col(Suspension.user_id) == uid).values(reason=""))
        subs = session.execute(delete(Subscription).where(col(Subscription.user_id) == uid))
        interests = session.execute(delete(Interest).where(col(Interest.user_id) == uid))
        session.execute(delete(PushLog).where(col(PushLog.user_id) == uid))
        # photos and voice (issue 16): rows now, files after the commit
        files = delete_rows_of(session=session, storage=media, user_id=uid) if media else []
        if media is None:
            session.execute(delete(MediaFile).where(col(MediaFile.owner_user_id) == uid))
        # issue 18: the enterprise record goes, they leave their teams (a led team passes to
        # the next member), their achievements are withdrawn and emptied, no more digests
        forget_enterprise(session=session, user_id=uid)
        forget_member(session=session, user_id=uid)
        forget_achievements(session=session, user_id=uid)
        session.execute(delete(ProjectSubscription).where(col(ProjectSubscription.user_id) == uid))
        # messages to the person (on every linked channel), and any message to others that
        # carries their phone or name
        to_them = [
            (col(OutboxMessage.channel) == ch) & (col(OutboxMessage.external_id) == ext)
            for ch, ext in addresses
        ]
        naming = [col(OutboxMessage.text).contains(s, autoescape=True) for s in secrets]
        messages = session.execute(delete(OutboxMessage).where(or_(*to_them, *naming)))
        for ch, ext in addresses:
            session.execute(
                delete(BlockedChat).where(
                    col(BlockedChat.channel) == ch, col(BlockedChat.external_id) == ext
                )
            )
            # handled updates keep their ids (a late redelivery stays a no-op), not the chat
            session.execute(
                update(HandledUpdate)
                .where(col(HandledUpdate.channel) == ch, col(HandledUpdate.chat_id) == ext)
                .values(chat_id="")
            )
            session.execute(
                delete(ConversationState).where(
                    col(ConversationState.channel) == ch,
                    col(ConversationState.external_id) == ext,
                )
            )
        session.execute(delete(Identity).where(col(Identity.user_id) == uid))
        session.execute(delete(LinkCode).where(col(LinkCode.user_id) == uid))
        session.execute(delete(LinkFailure).where(col(LinkFailure.user_id) == uid))
        for ch, ext in addresses:
            if ch == WECHAT:  # issue 16: delivery record and answers kept for retries
                forget_peer(session=session, openid=ext)
                forget_chat_updates(session=session, channel=WECHAT, chat_id=ext)
        session.execute(
            update(ExpertProfile)
            .where(col(ExpertProfile.user_id) == uid)
            .values(
                organisation="",
                title="",
                bio="",
                available=False,
                fields=[],
                skills=[],
                crops=[],
                service_regions=[],
                updated_at=utcnow(),
            )
        )
        user.channel = FORGOTTEN_CHANNEL
        user.external_id = f"user-{uid}"
        user.display_name = ""
        user.phone = None
        session.add(user)
        session.commit()
    except Exception:
        session.rollback()
        raise
    session.refresh(user)
    removed = remove_files(files)
    done = Forgotten(
        needs=_count(needs),
        orders=_count(orders),
        questions=_count(questions),
        feedback=_count(feedback),
        subscriptions=_count(subs),
        interests=_count(interests),
        messages=_count(messages),
        media=removed,
    )
    log.info("forgot user %d: %s", uid, done)
    return done


def clear_old_questions(*, session: Session, before: datetime, limit: int = 5000) -> int:
    """Empty the text of logged questions asked before *before* (retention); the row keeps
    its aggregates (answered, top hit, region, time, vote). Returns how many were cleared.

    At most *limit* rows per call, so one scheduler round stays short; the next round goes on.
    """
    ids = list(
        session.exec(
            select(QuestionLog.id)
            .where(col(QuestionLog.created_at) < before, col(QuestionLog.question) != "")
            .order_by(col(QuestionLog.id))
            .limit(limit)
        ).all()
    )
    if not ids:
        return 0
    gapped = rollup_gaps.rows_where(session, col(QuestionLog.id).in_(ids))
    session.execute(update(QuestionLog).where(col(QuestionLog.id).in_(ids)).values(question=""))
    rollup_gaps.remove(session, rollup_gaps.facts_of(gapped))
    session.commit()
    return len(ids)


def clear_stale_states(*, session: Session, before: datetime) -> int:
    """Delete conversation states untouched since *before*: an unfinished form and the
    follow-up memory (recent questions as typed) are not kept longer than the question log.
    Returns how many were deleted."""
    result = session.execute(
        delete(ConversationState).where(col(ConversationState.updated_at) < before)
    )
    session.commit()
    return _count(result)
