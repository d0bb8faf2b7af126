"""The science desk: questions answered from the knowledge base (follow-ups resolved against
the last turns), every question logged, an expert offered when the answer is not enough."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from sqlmodel import Session

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.feedback import feedback_buttons
from dialogs.followup import elliptical, is_follow_up, refers_back, remember, rewrite
from dialogs.llm.client import ChatModel
from dialogs.llm.grounded import grounded_answer
from dialogs.nlu.intents import Parse
from dialogs.types import Button
from retrieval.answer import Answer, answer, as_list
from retrieval.decision import covered
from retrieval.index import HybridIndex
from retrieval.safety import PesticideGuard
from retrieval.tokenizer import Tokenize
from store.feedback import FeedbackSource
from store.interests import note_interests
from store.qa import is_qa_doc
from store.questions import add_question
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
    guard: PesticideGuard | None = None,
) -> Answer:
    """Answer *question* and write it to the question log (answered or not).

    With a *model* in answer mode the reply is written by the model from the retrieved
    chunks (checked citations), else - and whenever the model fails - it is the extract.
    """
    result = answer(index, question, tokenize, crops=crops, guard=guard)
    return log_answer(
        session=session,
        result=result,
        user_id=user_id,
        region=region,
        model=model,
        locale=locale,
        guard=guard,
    )


def log_answer(
    *,
    session: Session,
    result: Answer,
    user_id: int | None = None,
    region: Region | None = None,
    model: ChatModel | None = None,
    locale: str = "zh",
    asked: str = "",
    guard: PesticideGuard | None = None,
    commit: bool = True,
) -> Answer:
    """Write the model's grounded answer (in answer mode) and log the question.

    *asked* is what the person wrote when the search used a normalised form of it (the log
    keeps their words); by default the answer's own question is logged. *commit* False: a
    conversation turn commits it with everything else it wrote.
    """
    question = asked or result.question
    if model is not None and model.answers:
        result = grounded_answer(model, result, locale=locale, guard=guard)
    top = result.top
    region = region or Region()
    try:
        log_id = add_question(
            session=session,
            question=question,
            answered=result.answered,
            user_id=user_id,
            top_hit=top.doc_id if top else "",
            top_title=top.title if top else "",
            score=top.confidence if top else 0.0,
            region=(region.province, region.city, region.county),
            commit=commit,
        )
    except ValueError:
        # an empty question is not worth a row; the caller still gets the honest no-answer
        log.debug("question not logged: %r", question[:40])
        return result
    return replace(result, log_id=log_id)


def render_answer(result: Answer, locale: str = "zh", *, followups: bool = True) -> str:
    """The reply text: extract, sources, follow-ups; or the honest no-answer."""
    if not result.answered:
        if locale == "en":
            return (
                "I could not find a reliable answer in our knowledge base. "
                "Shall I ask an expert for you?"
            )
        return "这个问题我在知识库里没有找到可靠的答案。要我帮您问问专家吗？"
    # an imported Q&A item names the archive it came from after its question
    sources = "；".join(
        f"《{c.title}》（{c.source}）" if is_qa_doc(c.doc_id) and c.source else f"《{c.title}》"
        for c in result.citations
    )
    lines = [result.text, ""]
    lines.append(f"Source: {sources}" if locale == "en" else f"来源：{sources}")
    if followups and result.followups:
        lines.append("You may also ask:" if locale == "en" else "您可能还想问：")
        lines.extend(f"· {q}" for q in result.followups)
    return "\n".join(lines)


def _last_title(turn: Turn) -> str:
    """The article that answered the person's last question ("" if none did)."""
    memory = turn.state.memory
    return str(memory.turns[-1].get("title", "")) if memory and memory.turns else ""


# "对了问一哈", "顺便问下", "老师你好": how a question is brought up, not what it asks
_ASIDE_LEAD = re.compile(
    r"^(?:\s*(?:哦|噢|诶|欸)?\s*(?:对了|还有个?事|顺便|先|再|另外|老师|你好|您好|我想|想|请)*\s*"
    r"(?:问一?[哈下]|请教一?下|打听一?下)?(?:哈|嘛|哦)?[，,。!！\s]+)+"
)


def _confidence(result: Answer) -> float:
    """How likely the answer is right: the calibrated probability of the answer decision."""
    return result.score


@dataclass(slots=True)
class ScienceDesk:
    """Answers science questions for the assistant.

    Args:
        knowledge: the 科普 index (None: every question gets the honest no-answer).
        tokenize: the retrieval tokenizer.
        llm: the chat model of LLM mode (None: offline).
        guard: the banned-pesticide guard every answer passes (None: no list loaded).
    """

    knowledge: HybridIndex | None
    tokenize: Tokenize
    llm: ChatModel | None = None
    guard: PesticideGuard | None = None

    def answer_if_sure(self, turn: Turn, text: str, parse: Parse) -> bool:
        """Answer (with the expert offer) only when the knowledge base answers confidently;
        say nothing otherwise. Retrieval, not the intent, decides what is answerable."""
        result = self._retrieve(turn, text, parse)
        if not result[0].answered:
            return False
        self._reply(turn, self._log(turn, result[0], grounded=True, asked=result[1]), parse, True)
        return True

    def answer_question(
        self, turn: Turn, text: str, parse: Parse, *, offer: bool, about: str = ""
    ) -> bool:
        """Answer from the knowledge base; offer an expert for problems and for no-answers.

        *about* is the crop the conversation is about (a question asked inside a need form
        about 李 that names no crop of its own is about 李)."""
        result, asked = self._retrieve(turn, text, parse, about)
        result = self._log(turn, result, grounded=True, asked=asked)
        return self._reply(turn, result, parse, offer)

    def _reply(self, turn: Turn, result: Answer, parse: Parse, offer: bool) -> bool:
        title = result.top.title if result.answered and result.top else ""
        turn.state.memory = remember(turn.state.memory, result.question, result.text, title)
        turn.say(render_answer(result, turn.locale))
        if result.answered:
            turn.out.replies[-1].buttons = feedback_buttons(
                turn.locale, FeedbackSource.ANSWER, result.log_id
            )
        s = parse.slots
        place = s.place
        note_interests(
            session=turn.session,
            user_id=turn.user.id or 0,
            crops=s.crops,
            categories=[s.category] if s.category else [],
            region=Region(place.province, place.city, place.county) if place else None,
            commit=False,  # the turn commits once, with its conversation state
        )
        problem = bool(s.crop or s.pests or s.category)
        care = care_note(result)
        if care is not None:
            # about health, safety or a disaster: the platform's experts are agricultural
            if care:  # under the answer, in the same message (one send, read together)
                answer = turn.out.replies[-1]
                answer.text = f"{answer.text}\n\n{turn.t(care)}"
            return True
        if offer and (problem or not result.answered):
            turn.state.offer = result.question
            buttons = [offer_buttons(turn)]
            if result.answered:
                turn.say(turn.t("offer_expert"), buttons)
            else:
                turn.out.replies[-1].buttons = buttons
        return result.answered

    def forecast(self, turn: Turn, text: str, parse: Parse) -> bool:
        """A weather forecast asked for: an honest no with where forecasts are found, then the
        article that fits when there is one (how to read 降水概率 …); never a need. False when
        *text* asks no forecast."""
        if not asks_forecast(text):
            return False
        turn.say(turn.t("no_forecast"))
        self.answer_if_sure(turn, text, parse)
        return True

    def answer_quietly(self, turn: Turn, text: str, crops: set[str]) -> None:
        """Self-help at once for a posted problem: only when the knowledge base is sure."""
        if self.knowledge is None:
            return
        result = answer(
            self.knowledge, text[:500], self.tokenize, crops=crops or None, guard=self.guard
        )
        # shown unasked, so it must be about the problem named, not only its crop: "辣椒
        # 小白虫" is not answered by an article on drying chillies
        problem = text
        for crop in crops:
            problem = problem.replace(crop, " ")
        if result.answered and not self._still_about(problem, result, 0.5):
            result = replace(result, answered=False)
        result = self._log(turn, result, grounded=False)
        if result.answered:
            prefix = "先看看这条资料：\n" if turn.locale == "zh" else "Meanwhile, this may help:\n"
            turn.say(
                prefix + render_answer(result, turn.locale, followups=False),
                feedback_buttons(turn.locale, FeedbackSource.ANSWER, result.log_id),
            )

    def _retrieve(
        self, turn: Turn, text: str, parse: Parse, about: str = ""
    ) -> tuple[Answer, str]:
        """The message alone, or its follow-up rewrite when that retrieves better; and what
        to log as asked ("" for the rewrite itself).

        Both search with the normalised text (稻温病 -> 稻瘟病).
        """
        if self.knowledge is None:
            return Answer(text, False), text
        query = _ASIDE_LEAD.sub("", parse.clean if parse.text == text else text) or text
        crops = {about} if about and not parse.slots.crops else None
        alone = answer(self.knowledge, query[:500], self.tokenize, crops=crops, guard=self.guard)
        candidate = rewrite(query, parse.slots, turn.state.memory, self.llm)
        if candidate:
            leaned = answer(
                self.knowledge,
                candidate.question[:500],
                self.tokenize,
                guard=self.guard,
                asking=query[:500],
            )
            # the model read the history and judged it a follow-up; the offline rule only
            # guesses, so its rewrite must also retrieve better than the message alone
            # the offline rule only guesses: its rewrite must retrieve better than the message
            # alone and cover what was typed; a message that says it follows up ("那用啥子
            # 药", "那疫苗要打几针") and lands on the article just given is taken as is
            better = _confidence(leaned) > _confidence(alone) and self._still_about(text, leaned)
            # ... unless the message alone is answered by another article and names things
            # the last one hardly mentions: "那电动车电池充一晚上会不会炸" after a lightning
            # answer has its own subject, "那疫苗要打几针" after a dog bite has not
            leans = is_follow_up(query) and (
                not _answers_alone(alone, turn)
                or refers_back(query)
                or self._still_about(text, leaned, 0.5)
            )
            # "那小孩子呢", "在高楼上呢": the same question again about someone or somewhere
            # else, so about the last subject even when another article mentions them
            leans = leans or elliptical(query)
            # "好久打最合适" after a wheat-rust answer names nothing: an answer about some
            # crop it never named (花椒蚜虫) is a guess, the article just given is what it means
            # ... but "农村建房审批要啥手续" after a bee answer names things of its own
            strays = (
                alone.top is not None
                and not parse.slots.crops
                and bool(as_list(alone.top.metadata.get("crops")))
                and self._still_about(text, leaned)
            )
            # a question answered on its own that says nothing of following up ("蛇缠腰咋治"
            # after a rice answer) is judged on its own, as a fresh asker's would be
            alone_enough = alone.answered and not (leans or refers_back(query) or strays)
            if alone_enough and not candidate.by_model:
                return alone, text
            if (leans or strays) and leaned.top is not None:
                better = better or leaned.top.title == _last_title(turn)
            # the rule's rewrite found the article the message found alone, and not the one
            # just given: it is surer only by the last question's words ("身份证丢了咋个补办"
            # after an unanswered question about a phone screen), which is no follow-up
            borrowed = (
                alone.top is not None
                and leaned.top is not None
                and alone.top.doc_id == leaned.top.doc_id
                and leaned.top.title != _last_title(turn)
            )
            if borrowed and not candidate.by_model:
                better = False
            if leaned.answered and (candidate.by_model or better):
                return leaned, ""
        return alone, text

    def _still_about(self, text: str, leaned: Answer, at_least: float = 1.0) -> bool:
        """The rewrite's article covers the words the person typed, if any: a follow-up adds
        a subject to what was typed, it does not replace it ("身份证掉了咋个补办" after a
        citrus question must not lean on citrus)."""
        if self.knowledge is None or leaned.top is None:
            return False
        share = covered(text, leaned.top, self.knowledge, self.tokenize)
        return share is None or share >= at_least

    def _log(self, turn: Turn, result: Answer, *, grounded: bool, asked: str = "") -> Answer:
        u = turn.user
        return log_answer(
            session=turn.session,
            result=result,
            user_id=u.id,
            region=Region(u.province, u.city, u.county),
            model=self.llm if grounded else None,
            locale=turn.locale,
            asked=asked,
            guard=self.guard,
            commit=False,  # the turn commits once, with its conversation state
        )


# "明天成都下不下雨", "这几天天气咋样", "后天会不会降温": a forecast asked for (a time to come
# and a question about the weather itself; "明天下雨 今天能打药不" asks about spraying)
_COMING = re.compile(
    r"今天|明天|后天|大后天|明后天|今晚|明早|明晚|这几天|这两天|近几天|最近几天|未来|过几天|"
    r"周末|下周|这周|本周|下个?月|国庆|春节|五一"
)
_ASKS_WEATHER = re.compile(
    r"(?:下不下|会不会下?|有没有|要不要下|会下)(?:雨|雪|冰雹|霜)|[下有](?:雨|雪|霜)(?:吗|不|没|嘛|哇|哦)|"
    r"天气(?:怎么样|咋样|如何|好不好|预报|情况|咋个样)|(?:多少|几)度|"
    r"(?:会不会|要不要)(?:降温|升温|刮风|起风|变天|晴)|(?:降温|升温|变天)(?:吗|不|没)|晴不晴|冷不冷|热不热"
)


def asks_forecast(text: str) -> bool:
    """*text* asks what the weather will be: a forecast, which the knowledge base cannot give."""
    return bool(_COMING.search(text) and _ASKS_WEATHER.search(text))


def _answers_alone(alone: Answer, turn: Turn) -> bool:
    """The message alone is answered, by an article other than the one just given."""
    return alone.answered and alone.top is not None and alone.top.title != _last_title(turn)


def offer_buttons(turn: Turn) -> list[Button]:
    """找专家 / 不用了 under an answer."""
    return [
        Button(turn.t("btn_find_expert"), Action(Act.FIND_EXPERT)),
        Button(turn.t("btn_no_thanks"), Action(Act.NO_THANKS)),
    ]


# an answered article's category -> what to point to instead of an expert ("" nothing): the
# platform's experts serve growers, so articles for citizens offer none (a frost or heat
# article about a crop is a disaster the growers' experts do serve)
_CARE = {"health": "care_health", "disaster": "care_emergency", "science": ""}


def care_note(result: Answer) -> str | None:
    """The note key for an answer from an article for citizens ("" for none), or None when
    it is one an expert can follow up (or nothing was answered)."""
    if not result.answered or result.top is None:
        return None
    meta = result.top.metadata
    category = str(meta.get("category") or "")
    if category not in _CARE or (category != "health" and as_list(meta.get("crops"))):
        return None
    return _CARE[category]
