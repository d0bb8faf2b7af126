"""有用 / 没用 on answers and pushes: the buttons, and what a vote does."""

from __future__ import annotations

import logging

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.i18n import t
from dialogs.types import Button
from store.feedback import FeedbackSource, record_feedback
from store.push import get_push
from store.questions import get_question

log = logging.getLogger(__name__)


def feedback_buttons(
    locale: str, source: FeedbackSource, ref_id: int | None
) -> list[list[Button]]:
    """One row of 有用 / 没用 for an answer (question-log id) or a push (push-log id)."""
    if not ref_id:
        return []
    return [
        [
            Button(t("btn_useful", locale), Action(Act.USEFUL, n=ref_id, arg=source.value)),
            Button(t("btn_useless", locale), Action(Act.USELESS, n=ref_id, arg=source.value)),
        ]
    ]


def on_vote(turn: Turn, action: Action) -> None:
    """Record a 有用 / 没用 vote on an answer or a push of this person's."""
    useful = action.kind is Act.USEFUL
    source = FeedbackSource(action.arg)
    ref_id = action.n or 0
    uid = turn.user.id or 0
    question = ""
    if source is FeedbackSource.ANSWER:
        row = get_question(session=turn.session, question_id=ref_id)
        article = row.top_hit if row is not None and row.user_id == uid else ""
        question = row.question if row is not None else ""
    else:
        push = get_push(session=turn.session, push_id=ref_id)
        article = push.article_id if push is not None and push.user_id == uid else ""
    if not article:
        log.info("vote %s from user %s refers to nothing of theirs", action, uid)
        turn.say(turn.t("feedback_unknown"))
        return
    record_feedback(
        session=turn.session,
        user_id=uid,
        article_id=article,
        source=source,
        ref_id=ref_id,
        useful=useful,
    )
    if useful:
        turn.say(turn.t("feedback_thanks"))
    elif source is FeedbackSource.ANSWER and question and turn.state.form is None:
        # the existing expert offer: 找专家 starts the need form with the question filled in
        turn.state.offer = question
        turn.say(
            turn.t("feedback_offer_expert"),
            [
                [
                    Button(turn.t("btn_find_expert"), Action(Act.FIND_EXPERT)),
                    Button(turn.t("btn_no_thanks"), Action(Act.NO_THANKS)),
                ]
            ],
        )
    else:
        turn.say(turn.t("feedback_noted"))
