"""有用 / 没用 on answers and pushes: the buttons, and what a vote does."""

from __future__ import annotations

import logging
import re

from dialogs.context import Turn
from dialogs.i18n import t
from dialogs.types import Button
from store.feedback import FeedbackSource, record_feedback
from store.push import get_push
from store.questions import QuestionLog

log = logging.getLogger(__name__)

# "useful:q:12" / "useless:p:7": the vote, what was rated (answer or push) and its record id
ACTION = re.compile(r"^(useful|useless):([qp]):(\d{1,12})$")


def feedback_buttons(
    locale: str, source: FeedbackSource, ref_id: int | None
) -> list[list[Button]]:
    """One row of 有用 / 没用 for an answer (question-log id) or a push (push-log id)."""
    if not ref_id:
        return []
    return [
        [
            Button(t("btn_useful", locale), f"useful:{source.value}:{ref_id}"),
            Button(t("btn_useless", locale), f"useless:{source.value}:{ref_id}"),
        ]
    ]


def on_vote(turn: Turn, action: str) -> bool:
    """Record a vote from a button; True when *action* was a vote (handled or refused)."""
    m = ACTION.match(action)
    if m is None:
        return False
    useful = m.group(1) == "useful"
    source = FeedbackSource(m.group(2))
    ref_id = int(m.group(3))
    uid = turn.user.id or 0
    question = ""
    if source is FeedbackSource.ANSWER:
        row = turn.session.get(QuestionLog, ref_id)
        article = row.top_hit if row is not None and row.user_id == uid else ""
        question = row.question if row is not None else ""
    else:
        push = get_push(session=turn.session, push_id=ref_id)
        article = push.article_id if push is not None and push.user_id == uid else ""
    if not article:
        log.info("vote %s from user %s refers to nothing of theirs", action, uid)
        turn.say(turn.t("feedback_unknown"))
        return True
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
    elif source is FeedbackSource.ANSWER and question and not turn.state.get("form"):
        # the existing expert offer: 找专家 starts the need form with the question filled in
        turn.state["offer"] = {"text": question}
        turn.say(
            turn.t("feedback_offer_expert"),
            [
                [
                    turn.button("btn_find_expert", "find_expert"),
                    turn.button("btn_no_thanks", "no_thanks"),
                ]
            ],
        )
    else:
        turn.say(turn.t("feedback_noted"))
    return True
