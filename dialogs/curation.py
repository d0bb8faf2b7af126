"""Expert answers become knowledge: the sharing question after 已解决, and the curation queue
administrators work through with `/kb review` (起草 / 发布 / 驳回; a reply to a draft edits it).

Publishing writes the article to the folder of added articles and indexes it at once, so the
next question finds it; it names the case it came from and nobody in it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dialogs.actions import Act, Action
from dialogs.casedraft import Draft, article_markdown, llm_draft, offline_draft
from dialogs.context import Turn
from dialogs.notices import tell
from dialogs.science import ScienceDesk
from dialogs.types import Button
from knowledge.anonymise import mask_personal
from knowledge.ingest import add_article
from knowledge.loader import ArticleError
from retrieval.index import HybridIndex
from retrieval.tokenizer import Tokenizer
from store.cases import (
    CaseStatus,
    KnowledgeCase,
    answer_offer,
    edit_draft,
    get_case,
    mark_published,
    offer_case,
    open_cases,
    reject_case,
    save_draft,
)
from store.clock import utcnow
from store.errors import NotFound
from store.needs import get_need
from store.order_tables import Order
from store.phone import mask_then_truncate
from store.trust import is_verified
from store.users import User

log = logging.getLogger(__name__)

_REVIEW = re.compile(r"^\s*/kb(?:@\w+)?\s+review\s*$", re.IGNORECASE)
_TITLE = re.compile(r"^\s*标题\s*[:：]\s*(.+)$", re.S)
CASE_REF = "case"
SHOWN = 5  # cases listed per /kb review


def is_review_command(text: str) -> bool:
    return bool(_REVIEW.match(text))


def case_ref(ref: str) -> int | None:
    """The case a reply refers to ("case:5" -> 5), None for anything else."""
    kind, _, tail = ref.partition(":")
    return int(tail) if kind == CASE_REF and tail.isdigit() and len(tail) <= 18 else None


@dataclass(frozen=True, slots=True)
class Shelf:
    """Where published articles go: the live knowledge index and the folder of added articles."""

    index: HybridIndex
    overlay: Path


@dataclass(slots=True)
class CurationDesk:
    """The sharing question and the administrators' curation queue.

    Args:
        is_admin: who may review, edit, publish and reject.
        science: the science desk (its guard checks drafts; it answers from the shelf's
            index once something is published there).
        shelf: where publishing writes (None: the queue works, publishing is refused).
    """

    is_admin: Callable[[User], bool]
    science: ScienceDesk
    shelf: Shelf | None = None

    # ---- the expert ------------------------------------------------------------------------
    def offer(self, turn: Turn, order: Order, note: str) -> None:
        """After 已解决 with a note: may the solution be shared, anonymised?"""
        if not note.strip() or order.id is None:
            return
        offer_case(
            session=turn.session,
            order_id=order.id,
            need_id=order.need_id,
            expert_id=turn.user.id or 0,
            note=mask_personal(note)[:2000],
        )
        turn.say(
            turn.t("case_ask_share", id=order.id),
            [
                [
                    Button(turn.t("btn_share_case"), Action(Act.SHARE_CASE, order_id=order.id)),
                    Button(turn.t("btn_keep_case"), Action(Act.KEEP_CASE, order_id=order.id)),
                ]
            ],
        )

    def on_share(self, turn: Turn, order_id: int | None, share: bool) -> None:
        done = order_id is not None and answer_offer(
            session=turn.session, order_id=order_id, expert_id=turn.user.id or 0, share=share
        )
        if not done:
            turn.say(turn.t("case_nothing"))
            return
        turn.say(turn.t("case_shared" if share else "case_kept"))

    # ---- administrators --------------------------------------------------------------------
    def review(self, turn: Turn) -> None:
        """`/kb review`: the shared solutions waiting, each with 起草 / 发布 / 驳回."""
        if not self.is_admin(turn.user):
            turn.say(turn.t("admin_denied"))
            return
        cases = open_cases(session=turn.session, limit=SHOWN)
        if not cases:
            turn.say(turn.t("kb_review_none"))
            return
        turn.say(turn.t("kb_review_head", n=len(cases)))
        for case in cases:
            self._card(turn, case)

    def on_action(self, turn: Turn, action: Action) -> None:
        if not self.is_admin(turn.user):
            turn.say(turn.t("admin_denied"))
            return
        case_id = action.n or 0
        try:
            case = get_case(session=turn.session, case_id=case_id)
        except NotFound:
            turn.say(turn.t("kb_no_case", id=case_id))
            return
        match action.kind:
            case Act.KB_DRAFT:
                self.draft(turn, case)
            case Act.KB_PUBLISH:
                self.publish(turn, case)
            case Act.KB_REJECT:
                if reject_case(
                    session=turn.session, case_id=case_id, reviewer_id=turn.user.id or 0
                ):
                    turn.say(turn.t("kb_rejected", id=case_id))
                else:
                    turn.say(turn.t("kb_not_open", id=case_id))

    def edit(self, turn: Turn, case_id: int, text: str) -> None:
        """A reply to a draft: "标题：…" changes the title, anything else replaces the body."""
        if not self.is_admin(turn.user):
            turn.say(turn.t("admin_denied"))
            return
        m = _TITLE.match(text)
        title, body = (m.group(1).strip(), None) if m else (None, text.strip())
        if not edit_draft(session=turn.session, case_id=case_id, title=title, body=body):
            turn.say(turn.t("kb_not_draft", id=case_id))
            return
        self._show_draft(turn, get_case(session=turn.session, case_id=case_id))

    def draft(self, turn: Turn, case: KnowledgeCase) -> KnowledgeCase | None:
        """Fill a draft article for an open case and show it."""
        if case.status not in (CaseStatus.QUEUED, CaseStatus.DRAFTED) or case.id is None:
            turn.say(turn.t("kb_not_open", id=case.id))
            return None
        draft = self._make_draft(turn, case)
        save_draft(
            session=turn.session,
            case_id=case.id,
            title=draft.title,
            body=draft.body,
            crops=list(draft.crops),
            region=draft.region,
            questions=list(draft.questions),
        )
        case = get_case(session=turn.session, case_id=case.id)
        self._show_draft(turn, case)
        return case

    def publish(self, turn: Turn, case: KnowledgeCase) -> None:
        """Write the draft to the corpus overlay, index it, and thank the expert."""
        if case.status == CaseStatus.QUEUED:
            drafted = self.draft(turn, case)
            if drafted is None:
                return
            case = drafted
        if case.status != CaseStatus.DRAFTED or case.id is None:
            turn.say(turn.t("kb_not_open", id=case.id))
            return
        if self.shelf is None:
            turn.say(turn.t("kb_no_shelf"))
            return
        need = get_need(session=turn.session, need_id=case.need_id)
        raw = article_markdown(
            article_id=f"case-{case.order_id}",
            draft=_stored_draft(case),
            category=str(need.category),
            verified=self._verified(turn, case),
            today=utcnow().date(),
        )
        try:
            article = add_article(
                self.shelf.index, raw, overlay=self.shelf.overlay, guard=self.science.guard
            )
        except ArticleError as err:
            turn.say(turn.t("kb_publish_refused", id=case.id, reason=err.reason))
            return
        if not mark_published(
            session=turn.session,
            case_id=case.id,
            article_id=article.id,
            reviewer_id=turn.user.id or 0,
        ):
            turn.say(turn.t("kb_not_draft", id=case.id))
            return
        if self.science.knowledge is None:
            self.science.knowledge = self.shelf.index
        log.info("case %s published as article %s", case.id, article.id)
        turn.say(turn.t("kb_published", id=case.id, title=article.title))
        tell(
            turn.out,
            turn.session,
            case.expert_id,
            "case_published_expert",
            kind="case",
            title=article.title,
        )

    # ---- helpers -----------------------------------------------------------------------
    def _make_draft(self, turn: Turn, case: KnowledgeCase) -> Draft:
        need = get_need(session=turn.session, need_id=case.need_id)
        tokenize = self.science.tokenize
        found = (
            tokenize.crops_in(f"{need.text}\n{case.note}")
            if isinstance(tokenize, Tokenizer)
            else set()
        )
        crops = tuple(dict.fromkeys([c for c in (need.crop,) if c] + sorted(found)))
        draft = offline_draft(need, case.note, crops, order_id=case.order_id)
        model = self.science.llm
        if model is not None and model.answers:
            draft = llm_draft(model, draft, need, case.note, self.science.guard)
        return draft

    def _verified(self, turn: Turn, case: KnowledgeCase) -> bool:
        return bool(case.expert_id) and is_verified(
            session=turn.session, expert_id=case.expert_id or 0
        )

    def _card(self, turn: Turn, case: KnowledgeCase) -> None:
        need = get_need(session=turn.session, need_id=case.need_id)
        text = turn.t(
            "kb_case_card",
            id=case.id,
            order=case.order_id,
            status=turn.t(f"case_status_{case.status}"),
            problem=mask_then_truncate(mask_personal(need.text), 80),
            note=mask_then_truncate(case.note, 200),
        )
        turn.say(text, _case_buttons(turn, case.id or 0, drafted=False))

    def _show_draft(self, turn: Turn, case: KnowledgeCase) -> None:
        reply = turn.out.say(
            turn.t(
                "kb_draft",
                id=case.id,
                title=case.title,
                crops=case.crops or "-",
                region=case.region or "-",
                questions="；".join(case.questions.splitlines()),
                body=case.body,
            ),
            _case_buttons(turn, case.id or 0, drafted=True),
        )
        reply.ref = f"{CASE_REF}:{case.id}"


def _case_buttons(turn: Turn, case_id: int, *, drafted: bool) -> list[list[Button]]:
    row = [] if drafted else [Button(turn.t("btn_kb_draft"), Action(Act.KB_DRAFT, n=case_id))]
    row += [
        Button(turn.t("btn_kb_publish"), Action(Act.KB_PUBLISH, n=case_id)),
        Button(turn.t("btn_kb_reject"), Action(Act.KB_REJECT, n=case_id)),
    ]
    return [row]


def _stored_draft(case: KnowledgeCase) -> Draft:
    return Draft(
        title=case.title,
        body=case.body,
        crops=tuple(c for c in case.crops.split(",") if c),
        region=case.region,
        questions=tuple(q for q in case.questions.splitlines() if q),
    )
