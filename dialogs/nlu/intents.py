"""Intents: rules for exact commands and control words, a trained classifier for the rest.

Commands ("/stats", "接单 12", "评价 12 5") and control words ("好的", "跳过") are exact, so
rules read them. Everything a person phrases freely goes to the classifier of
:mod:`dialogs.nlu.model`; when it cannot tell a request for an expert from a question it says
so (``Parse.unsure``) and the assistant asks instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache

from dialogs.nlu.commands import OrderCommand, OrderVerb, is_order_text, order_command
from dialogs.nlu.model import IntentModel, Ranked, asks, default_model
from dialogs.nlu.normalise import normalise
from dialogs.nlu.slots import Slots, extract


class Intent(StrEnum):
    NEED = "need"
    CAPABILITY = "capability"
    QUESTION = "question"
    ORDER = "order"
    STATS = "stats"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    PROFILE = "profile"
    HELP = "help"
    SMALLTALK = "smalltalk"
    OTHER = "other"
    # ---- enterprises, teams and achievements (issue 18) ----
    FIND_ACHIEVEMENT = "find_achievement"  # 找成果: search the achievements catalogue
    FIND_TALENT = "find_talent"  # 找人才: experts and teams for a field
    ENTERPRISE = "enterprise"  # an enterprise registers
    TEAM = "team"  # form, join or look at a team
    ACHIEVEMENT = "achievement"  # an expert registers an achievement
    PROJECTS = "projects"  # 找项目: an expert browses or subscribes to open needs


# Below this probability, with need or question the likeliest intent and the other one among
# the three likeliest, the assistant asks which one the person means. Chosen on
# cross-validated probabilities of the tune split (bench/nlu.py's threshold sweep: the
# highest threshold at which no message the model had right is asked about).
UNSURE_BELOW = 0.9
TORN = frozenset({Intent.NEED.value, Intent.QUESTION.value})
# ... and only when the other one is a contender: with calibrated probabilities, a question
# at 3 % beside a need at 84 % ("玉米遭虫吃了 我在三台 电话150…", a phone and a place given)
# is no doubt worth a question back; "想问问专家，草莓叶子发红" (question 6 %) still is
TORN_FLOOR = 0.05

_SLASH = re.compile(r"^\s*/([a-z]+)\b", re.IGNORECASE)
_SLASH_INTENTS = {
    "start": Intent.HELP,
    "help": Intent.HELP,
    "stats": Intent.STATS,
    "subscribe": Intent.SUBSCRIBE,
    "unsubscribe": Intent.UNSUBSCRIBE,
    "stop": Intent.UNSUBSCRIBE,
    "profile": Intent.PROFILE,
    "order": Intent.ORDER,
    "orders": Intent.ORDER,
    "needs": Intent.ORDER,
    # issue 18
    "enterprise": Intent.ENTERPRISE,
    "team": Intent.TEAM,
    "achievement": Intent.ACHIEVEMENT,
    "achievements": Intent.FIND_ACHIEVEMENT,
    "talent": Intent.FIND_TALENT,
    "projects": Intent.PROJECTS,
}
# issue 18: "加入团队 123456", "订阅项目": exact commands
_JOIN_TEAM = re.compile(r"^\s*加入.{0,10}团队.{0,8}\d{6}\s*$")
_PROJECT_WORD = re.compile(r"^\s*(?:订阅|退订|取消订阅)\s*(?:项目|需求|项目周报)")
_HELP_WORD = re.compile(r"^\s*(?:帮助|help|菜单)\s*[。!！?？]?\s*$", re.IGNORECASE)
# confirm / acknowledge and skip / edit words: answers to the assistant's own questions
_ACK_WORD = re.compile(
    r"^\s*(?:确认|确定|对|对的|是的|没问题|可以|好|好的|行|要得|嗯+|收到|ok|yes)\s*[。!！~]?\s*$",
    re.IGNORECASE,
)
_SKIP_WORD = re.compile(
    r"^\s*(?:跳过|不填|修改|改一下|我要改|skip|pass|edit)\s*[。!！]?\s*$", re.IGNORECASE
)
# "订阅 柑橘" / "退订 柑橘": the subscription commands the welcome message teaches
_SUBSCRIBE_WORD = re.compile(r"^\s*(?:订阅(?!了|的|过)|subscribe\b)", re.IGNORECASE)
# "TD": the reply that unsubscribes from text messages everywhere in China
_UNSUBSCRIBE_WORD = re.compile(r"^\s*(?:退订|取消订阅|unsubscribe\b|td\s*$)", re.IGNORECASE)
_SHORT_COMMAND = 6  # "我的订单", "找项目": an order phrase this short is the whole command


@dataclass(frozen=True, slots=True)
class Parse:
    intent: Intent
    slots: Slots
    text: str  # as the person wrote it (the question log keeps this)
    command: OrderCommand | None = None  # the order command, for Intent.ORDER
    clean: str = ""  # simplified, half-width, domain typos corrected (default: the text)
    unsure: bool = False  # need or question, the model cannot tell: ask
    confidence: float = 1.0  # the model's probability of *intent* (1.0 for a rule)

    def __post_init__(self) -> None:
        if not self.clean:
            object.__setattr__(self, "clean", self.text)


def rule_intent(text: str) -> Intent | None:
    """The intent of an exact command or control word, else None (the model decides)."""
    t = text.strip()
    if not t:
        return Intent.OTHER
    if m := _SLASH.match(t):
        return _SLASH_INTENTS.get(m.group(1).lower(), Intent.OTHER)
    if _HELP_WORD.match(t):
        return Intent.HELP
    if _ACK_WORD.match(t):
        return Intent.SMALLTALK
    if _SKIP_WORD.match(t):
        return Intent.OTHER
    if _JOIN_TEAM.match(t):
        return Intent.TEAM
    if _PROJECT_WORD.match(t):
        return Intent.PROJECTS
    if _UNSUBSCRIBE_WORD.match(t):
        return Intent.UNSUBSCRIBE
    if _SUBSCRIBE_WORD.match(t):
        return Intent.SUBSCRIBE
    if is_order_text(t):
        command = order_command(t)
        exact = command is not None and (
            command.order_id is not None
            or (command.verb is OrderVerb.RATE and command.score is not None)
        )
        if len(t) <= _SHORT_COMMAND or exact:
            return Intent.ORDER
    return None


def is_unsure(ranked: Ranked, below: float = UNSURE_BELOW) -> bool:
    """Need or question is the likeliest intent, not clearly ahead, and the other one is
    among the three likeliest ("想问问专家，葡萄叶子发红")."""
    if ranked.top not in TORN or ranked.confidence >= below:
        return False
    other = next(iter(TORN - {ranked.top}))
    ranks = ranked.labels[:3]
    return other in ranks and ranked.probabilities[ranks.index(other)] >= TORN_FLOOR


def classify(
    text: str, slots: Slots, model: IntentModel | None = None
) -> tuple[Intent, bool, float]:
    """(intent, unsure, probability) of *text* with its *slots*: the rules first (sure),
    then *model*."""
    ruled = rule_intent(text)
    if ruled is not None:
        return ruled, False, 1.0
    ranked = (model or default_model()).rank(text, slots)
    return Intent(ranked.top), is_unsure(ranked), ranked.confidence


MEMO_SIZE = 4096  # parses remembered: control words, commands and repeated questions
_MEMO_MAX_CHARS = 500  # longer messages rarely repeat; they are parsed every time


def understand(text: str, model: IntentModel | None = None) -> Parse:
    """Intent and slots of one message (offline), read from its normalised form. *model*
    defaults to the bundled one, whose parses of texts met before are remembered (a bounded
    memo; each caller gets its own copy of the slots, free to change them)."""
    if model is not None or len(text) > _MEMO_MAX_CHARS:
        return parse_message(text, model)
    parse = _remembered(text)
    return replace(parse, slots=parse.slots.copy())


@lru_cache(maxsize=MEMO_SIZE)
def _remembered(text: str) -> Parse:
    return parse_message(text)


def forget_parses() -> None:
    """Empty :func:`understand`'s memo (a benchmark that times real parses)."""
    _remembered.cache_clear()


def parse_message(text: str, model: IntentModel | None = None) -> Parse:
    """What :func:`understand` returns, always computed (no memo)."""
    raw = text
    text = normalise(raw).text  # 請問 -> 请问, １３９ -> 139, 稻温病 -> 稻瘟病
    slots = extract(text)
    intent, unsure, confidence = classify(text, slots, model)
    if intent not in (Intent.NEED, Intent.QUESTION, Intent.FIND_TALENT):
        slots.category = ""  # a problem category only belongs to a problem
    if intent in (Intent.CAPABILITY, Intent.SUBSCRIBE) and len(slots.crops) > 1:
        slots.crop = ""  # several crops: no single focus
    command = None
    if intent == Intent.ORDER:
        # about orders in words the command reader does not know: show them their orders
        command = order_command(text) or OrderCommand(OrderVerb.LIST)
    return Parse(intent, slots, raw, command, text, unsure, confidence)


# Sichuan ways of asking that the intent cues above do not need (好久 = how long / when)
_ASKS_TOO = re.compile(r"好久|啷个|哪阵|啥时候|几时|问一哈|问一下|请问|想问")


# "没有", "不": a bare no answers something; it asks nothing
_BARE_NO = re.compile(r"^\s*(?:没有|没得|莫得|没|不|不是|不要|不用|无)\s*[。!！~.]*\s*$")


def is_question_shaped(text: str) -> bool:
    """The message asks something (a question word or mark), whatever else it says."""
    if _BARE_NO.match(text):
        return False
    return asks(text) or bool(_ASKS_TOO.search(text))
