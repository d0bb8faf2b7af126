"""Science questions: answer from the knowledge base and log every question asked."""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlmodel import Session

from dialogs.llm.client import ChatModel
from dialogs.llm.grounded import grounded_answer
from retrieval.answer import Answer, answer
from retrieval.index import HybridIndex
from retrieval.tokenizer import Tokenize
from store.questions import log_question
from store.validation import Region

log = logging.getLogger(__name__)


def ask(
    *,
    session: Session,
    index: HybridIndex,
    tokenize: Tokenize,
    question: str,
    user_id: int | None = None,
    region: Region | None = None,
    crops: set[str] | None = None,
    model: ChatModel | None = None,
    locale: str = "zh",
) -> Answer:
    """Answer *question* and write it to the question log (answered or not).

    With a *model* in answer mode the reply is written by the model from the retrieved
    chunks (checked citations), else - and whenever the model fails - it is the extract.
    """
    result = answer(index, question, tokenize, crops=crops)
    if model is not None and model.answers:
        result = grounded_answer(model, result, locale=locale)
    top = result.top
    region = region or Region()
    try:
        row = log_question(
            session=session,
            question=question,
            answered=result.answered,
            user_id=user_id,
            top_hit=top.doc_id if top else "",
            top_title=top.title if top else "",
            score=top.confidence if top else 0.0,
            region=(region.province, region.city, region.county),
        )
    except ValueError:
        # an empty question is not worth a row; the caller still gets the honest no-answer
        log.debug("question not logged: %r", question[:40])
        return result
    return replace(result, log_id=row.id)


def render_answer(result: Answer, locale: str = "zh", *, followups: bool = True) -> str:
    """The reply text: extract, sources, follow-ups; or the honest no-answer."""
    if not result.answered:
        if locale == "en":
            return (
                "I could not find a reliable answer in our knowledge base. "
                "Shall I ask an expert for you?"
            )
        return "这个问题我在知识库里没有找到可靠的答案。要我帮您问问专家吗？"
    sources = "；".join(f"《{c.title}》" for c in result.citations)
    lines = [result.text, ""]
    lines.append(f"Source: {sources}" if locale == "en" else f"来源：{sources}")
    if followups and result.followups:
        lines.append("You may also ask:" if locale == "en" else "您可能还想问：")
        lines.extend(f"· {q}" for q in result.followups)
    return "\n".join(lines)
