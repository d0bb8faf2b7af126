"""Forms: which slots a task needs, what to ask next, and how a message fills them.

Deciding what to ask is a pure function of the slots (the first required slot still empty,
then each optional slot once); validators return slot updates and never send anything.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, replace
from typing import Any

from dialogs.answers import (
    NAME_FIX,
    NOT_A_NAME,
    ROLE_WORD,
    answer,
    cued_skills,
    name_answer,
    own_skill,
    says_none,
    terms,
    unplaced,
)
from dialogs.nlu import enterprise as ent
from dialogs.nlu.commands import order_command
from dialogs.nlu.intents import is_question_shaped
from dialogs.nlu.numbers import find_budget, find_budgets
from dialogs.nlu.people import lone_name, looks_like_name
from dialogs.nlu.regions import resolve
from dialogs.nlu.slots import Slots, extract
from dialogs.nlu.terms import mask_terms
from dialogs.state import FormState
from dialogs.topics import edit_topics, topics_from
from store import phone as phones
from store.validation import Region

SKIPPED = "__skipped__"


@dataclass(frozen=True, slots=True)
class Form:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    questions: dict[str, str]  # slot -> i18n key of its question


NEED = Form(
    "need",
    required=("problem", "region", "phone"),
    optional=("crop", "budget"),
    questions={
        "problem": "ask_problem",
        "crop": "ask_crop",
        "region": "ask_region",
        "phone": "ask_phone",
        "budget": "ask_budget",
    },
)
EXPERT = Form(
    "expert",
    required=("fields", "service_regions", "name", "phone"),
    optional=("organisation", "title"),
    questions={
        "fields": "ask_fields",
        "service_regions": "ask_service_regions",
        "name": "ask_name",
        "phone": "ask_expert_phone",
        "organisation": "ask_organisation",
        "title": "ask_title",
    },
)
SUBSCRIBE = Form(
    "subscribe", required=("topics",), optional=(), questions={"topics": "ask_topics"}
)
# ---- enterprises, teams and achievements (issue 18) ----
# an enterprise's technical need (找技术): a need with its company, budget, deadline, contract
TECH = Form(
    "tech",
    required=("problem", "region", "phone"),
    optional=("company", "budget", "deadline", "contract"),
    questions={
        "problem": "ask_tech_problem",
        "region": "ask_region",
        "phone": "ask_phone",
        "company": "ask_company",
        "budget": "ask_budget",
        "deadline": "ask_deadline",
        "contract": "ask_contract",
    },
)
# a 对接 request on an achievement: a need for its owner only (slot "achievement" is set)
DOCKING = Form(
    "docking",
    required=("problem", "region", "phone"),
    optional=(),
    questions={"problem": "ask_dock_note", "region": "ask_region", "phone": "ask_phone"},
)
ENTERPRISE = Form(
    "enterprise",
    required=("company", "industry", "region", "contact", "phone"),
    optional=("size",),
    questions={
        "company": "ask_company",
        "industry": "ask_industry",
        "region": "ask_company_region",
        "contact": "ask_contact",
        "phone": "ask_phone",
        "size": "ask_size",
    },
)
TEAM = Form(
    "team",
    required=("team_name", "fields", "service_regions"),
    optional=(),
    questions={
        "team_name": "ask_team_name",
        "fields": "ask_team_fields",
        "service_regions": "ask_service_regions",
    },
)
ACHIEVEMENT = Form(
    "achievement",
    required=("ach_title", "kind", "maturity", "mode"),
    optional=("ach_fields", "applied_in", "price"),
    questions={
        "ach_title": "ask_ach_title",
        "kind": "ask_ach_kind",
        "maturity": "ask_ach_maturity",
        "mode": "ask_ach_mode",
        "ach_fields": "ask_ach_fields",
        "applied_in": "ask_applied_in",
        "price": "ask_price",
    },
)
# forms that post a need (and open its order)
NEED_LIKE = (NEED, TECH, DOCKING)
FORMS = {
    f.name: f for f in (NEED, EXPERT, SUBSCRIBE, TECH, DOCKING, ENTERPRISE, TEAM, ACHIEVEMENT)
}


def next_slot(form: Form, slots: dict[str, Any]) -> str | None:
    """The next slot to ask for: the first empty required one, then unasked optional ones."""
    for name in form.required:
        if not slots.get(name):
            return name
    for name in form.optional:
        if name not in slots:
            return name
    return None


def place_dict(place: Region) -> dict[str, str]:
    return {"province": place.province, "city": place.city, "county": place.county}


def region_label(region: dict[str, str] | None) -> str:
    return Region(**region).label if region else ""


def updates_from(form: Form, slots: Slots, text: str, awaiting: str | None) -> dict[str, Any]:
    """Slot values this message states for *form*.

    Everything recognisable is taken, whatever was asked (people answer several things at
    once); the awaited slot may also take the plain text (a name, a problem description).
    """
    out: dict[str, Any] = {}
    if form in NEED_LIKE:
        # "不对 是南溪区旁边的江安", "不是南溪 是江安": a correction's last place is the one meant
        # "苍溪的 不对不对 我现在是在旺苍": a correction word between places, the last one too
        corrects = CORRECTION.match(text) or _CORRECTS_INSIDE.search(text)
        place = slots.places[-1] if corrects and slots.places else slots.place
        if form is TECH:
            out.update(ent.tech_updates(slots, text, awaiting))
            company = ent.company_name(text)
            if company and place:  # 眉山 in "眉山蜀香泡菜食品有限公司" is no place of the need
                rest = resolve(mask_terms(text.replace(company, " "))).places
                # but "我们是城口县做中蜂养殖的合作社", nothing else said: a county named in
                # the company's description is where it (and its need) is
                inside = place.county and awaiting != "company"
                place = rest[0] if rest else (place if inside else None)
        if slots.crop:
            out["crop"] = slots.crop
        if place:
            out["region"] = place_dict(place)
        if slots.phone:
            out["phone"] = slots.phone
        budget = slots.budget
        if budget is None and (awaiting == "budget" or _SAYS_MONEY.search(text)):
            budget = find_budget(text, expected=True)
        if budget is not None:
            out["budget"] = budget
        if slots.urgency:
            out["urgency"] = slots.urgency
        if slots.category:
            out["category"] = slots.category
        if awaiting == "problem" or (slots.problem or slots.category) and awaiting is None:
            out["problem"] = text.strip()[:500]
    elif form is EXPERT:
        # "李国强" reads 李 as a crop too: a surname-led bare name wins over a one-letter crop
        t = text.strip()
        crop_led = slots.crops and not (t[:1] in slots.crops and t[1:2] not in "子树园花")
        bare_name = looks_like_name(t) and not (crop_led or slots.pests or slots.fields)
        skills = list(slots.fields)
        # "猪病防治 母猪配种" at the service-area question: more skills, each as said
        more = awaiting == "service_regions" and bool(skills) and not slots.places
        free = (awaiting == "fields" or more) and not bare_name and not says_none(t)
        # who they are and where they work are no skill ("我叫李春华" or "四川省农业科学院植物保护
        # 研究所" at the fields question): read what is left once those are taken out
        own_words = text
        if slots.phone:  # "电话一五零零零零七三六五八": the number in words is no skill either
            found = phones.extract(text)
            own_words = text[: found.start] + " " + text[found.end :]
        for said_of_self in (slots.name, slots.organisation, slots.title):
            if said_of_self and said_of_self in own_words:
                own_words = own_words.replace(said_of_self, " ")
        if own_words != text:
            own_words = _SELF_INTRO.sub(" ", own_words)
            if slots.organisation and slots.organisation in text:
                skills = extract(own_words).fields  # 植物保护 in the institute's name is none
        if free:  # what the lexicon missed of an answer to "您擅长哪些领域"
            said = unplaced(own_words) if slots.phone or slots.places else own_words
            own = terms(said) or ([] if skills else own_skill(said))
            skills += [w for w in own if not any(w in f or f in w for f in skills)]
        elif awaiting is None and not skills:  # "我是专家 会看蔬菜病虫害"
            skills = cued_skills(unplaced(text))
        if bare_name and awaiting in ("fields", "phone", "service_regions") and not slots.places:
            out["name"] = text.strip(" 。.")  # "李国强" at another question: the name
        if skills:
            out["fields"] = skills
        # "四川农业大学" answering the unit question names a university, not a service area
        # nor does the place inside a unit's name ("四川农业大学")
        places = slots.places
        if slots.organisation and places:
            places = list(resolve(mask_terms(text.replace(slots.organisation, " "))).places)
        if places and (awaiting not in ("name", "organisation", "title") or ADDS.search(text)):
            out["service_regions"] = [place_dict(p) for p in places]
        if slots.phone:
            out["phone"] = slots.phone
        if slots.name:
            out["name"] = slots.name
        elif lone := lone_name(t):
            out["name"] = lone  # "我是宜宾学院的讲师 孙伟 做柑橘病虫害"
        elif (m := NAME_FIX.search(t)) and looks_like_name(m.group(1)):
            out["name"] = m.group(1)  # "名字写错了 应该是周永红"
        elif awaiting == "name" and not slots.places and not slots.phone:
            name = name_answer(text)
            if 1 <= len(name) <= 20 and not (ROLE_WORD.fullmatch(name) or NOT_A_NAME.search(name)):
                out["name"] = name
        # the whole answer to "您在哪个单位 / 职称是" is the value ("职称是水产工程师" ->
        # 水产工程师, not the 工程师 found inside it)
        # "单位是茂县农业农村局 职称高级农艺师" answers both: each labelled value is its own
        others = bool(slots.phone or out.get("service_regions") or out.get("name"))
        for slot, read in (("organisation", slots.organisation), ("title", slots.title)):
            said = _labelled(text, slot)
            if read and read in said:  # "职称是农艺师服务范围南溪和江安": up to the title
                said = said[: said.index(read) + len(read)]
            if awaiting == slot and not said and not others:
                said = answer(text, slot)
            said = said or read
            if said:
                out[slot] = said[: 64 if slot == "organisation" else 32]
        if slots.crops and awaiting not in ("name", "organisation", "title") and not bare_name:
            out["crops"] = slots.crops
    elif form is SUBSCRIBE:
        topics = topics_from(text, slots)
        if topics:
            out["topics"] = topics
    elif form in (ENTERPRISE, TEAM, ACHIEVEMENT):
        out.update(ent.form_updates(form.name, slots, text, awaiting))
        if (
            awaiting in out
            and slots.places
            and not re.search(r"[\u4e00-\u9fff]{2}", unplaced(text))
        ):
            # "郫都" at the industry question: a place, not the industry; kept as the place
            del out[awaiting]
            if form is ENTERPRISE and slots.place:
                out["region"] = place_dict(slots.place)
    return out


# the words around a name, unit or title said of oneself ("我叫…", "在…工作")
_SELF_INTRO = re.compile(
    r"我叫|我是|我姓|本人是?|我在|在(?=\s)|(?<=\s)的|^\s*的|工作|上班|职称是?"
)


# ---- the engine: one message in, one step out (no database, no transport) ---------------
_CONFIRM_WORD = (
    r"(?:确认|确定|对|对的|对头|没错|是的|是|(?:没|莫)(?:得|有)?(?:问题|毛病)|可以了?|好的?|好了|要得|行了?|就这样|"
    r"发布|提交|发出去|发送|发|ok|OK|yes|confirm)"
)
# "确认", "是的 提交", "对的，发布吧": confirm words only
CONFIRM = re.compile(
    rf"^\s*{_CONFIRM_WORD}(?:[，,\s]*{_CONFIRM_WORD})*\s*(?:吧|嘛|了|哈)?\s*[。!！]?\s*$"
)
_CONFIRM_LEAD = re.compile(rf"^\s*{_CONFIRM_WORD}[，,\s]+")
# "我自己解决了 不用专家来了", "不找了": the person no longer wants what the form is for
GIVE_UP = re.compile(
    r"自己解决了|已经解决了|问题解决了|自己弄好了|已经好了|不用(?:专家|麻烦|来)|不需要(?:专家|了)|"
    r"不找(?:专家|了)|不要专家|不用找了|不弄了|不搞了|不发了|不想(?:弄|发|找)了|"
    # "邻居帮我弄好了", "我在网上问到办法了": solved by someone or somewhere else
    r"(?:自己|邻居|隔壁|别人|朋友|亲戚|网上|村里|站上)\S{0,8}?"
    r"(?:解决|弄好|搞好|搞定|整好|治好|医好|处理好|问到办法|找到办法|查到办法)了(?=$|[\s，,。!！~])"
)
# "…了 但是还是不行": whatever came before, the problem is still there
_STILL = re.compile(r"但是?|可是|不过|还是不|没用|不行|没效果|又(?:犯|发)")
# "算了不订了", "我不要了", "先不弄了", "下次再说吧": the whole message is a way of stopping
_STOP_WORD = (
    r"(?:/cancel|cancel|算了|算球了?|算逑了?|罢了|(?:取消|撤销)(?:掉|了)?(?:这个|这条|我的)?(?:需求|求助)?|退出|没事了|"
    r"(?:下次|以后|改天|回头|过段时间|过两天)再说|"
    r"(?:先|暂时|还是|就)?不(?:想|要|用|消|打算|准备|需要)?再?"
    r"(?:订|订阅|要|用|需要|找|弄|搞|发|登记|注册|报|问|做|干|整|申请|发布|提交|继续|麻烦)?"
    r"(?:你们|你|您|大家|专家)?了)"
)
_STOP_LEAD = (
    r"(?:我|那|那就|那我|那我就|还是|就|这个就|那个就|哎|唉|嗯|呃|哦)?"
    # "那条需求不要了", "这个求助就不用了": what is stopped, named
    r"(?:(?:那|这)(?:条|个)?(?:需求|求助|单子)(?:就|也)?)?"
)
CANCEL = re.compile(
    rf"^\s*{_STOP_LEAD}\s*{_STOP_WORD}(?:[，,。.\s]*{_STOP_LEAD}\s*{_STOP_WORD})*"
    r"\s*[吧嘛哈啦呀啊哦]*\s*[。.!！~]*\s*$"
)


_CLAUSE = re.compile(r"[\s，,。.!！?？~；;]+")
# a clause that still asks for the service ("算了 我想找个专家来看看") or changes what it asks
# ("改成五千嘛"); a clause telling what someone already did ("邻居家请的技术员帮我看了") asks
# for nothing
_WANTS = re.compile(
    r"想|要|需要|找|(?:^|我|想|要|再)请|帮我(?!\S*了$)|麻烦|继续|还是发|\d|改成|改为|换成|"
    r"[加提涨调]到"
)


def cancels(text: str) -> bool:
    """Whether *text* stops what is in progress: a stop phrase alone ("算了不订了"), giving
    up on what the form is for ("我自己解决了 不用专家来了", "邻居帮我弄好了"), or a stop
    phrase among clauses that ask for nothing ("算了 不要了 我去问隔壁老王")."""
    if CANCEL.match(text):
        return True
    if GIVE_UP.search(text) and not _STILL.search(text):
        return True
    clauses = [c for c in _CLAUSE.split(text) if c]
    stops = [c for c in clauses if CANCEL.match(c)]
    if not stops or len(clauses) < 2:
        return False
    rest = [c for c in clauses if c not in stops]
    return len(stops) >= 2 or not any(_WANTS.search(c) for c in rest)


EDIT = re.compile(r"^\s*(?:修改|改一下|我要改|edit)\s*$")
SKIP = re.compile(
    r"^\s*(?:跳过|不填|没有|没得|莫得|无|不知道|不晓得|不清楚|暂时没有|skip|pass)\s*[。!！]?\s*$"
)
HANDOFF = re.compile(r"转人工|人工客服|找人工|直接找专家|别问了|直接发布|快点派人")
CORRECTION = re.compile(
    r"^\s*(?:不对|不是|错了|改成|改为|应该是|更正)|^.{0,8}?(?:不对|错了|写错|打错|说错|搞错|弄错|填错)了?"
    r"|^.{0,6}?(?:改成|改为|换成|应该是|应该为)"
)
# "继续", "继续登记", "接着填吧": go on with the form (the open question is asked again)
RESUME = re.compile(
    r"^\s*(?:好的?|嗯|那|那就)?[，,\s]*(?:继续|接着)(?:来|填|登记|注册|发布|弄|搞|说)?"
    r"(?:刚才的?)?(?:登记|注册|需求|发布|表格?)?(?:吧|嘛|哈|了)?\s*[。!！~]?\s*$"
)
# "预算…", "还是多给点 改成1500": a bare amount said as the money offered or changed
_SAYS_MONEY = re.compile(r"预算|多给|少给|给到|出到|加到|提到|涨到|降到|调到|调整|改成|改为|块钱")
_LABELS = {"organisation": "(?:工作)?单位", "title": "职称"}


def _labelled(text: str, slot: str) -> str:
    """ "单位是茂县农业农村局 职称高级农艺师": the value said after the slot's label."""
    m = re.search(rf"{_LABELS[slot]}(?:是|为|写)?[:：]?\s*([^\s，,。；;]+)", text)
    return "" if m is None or says_none(m.group(1)) else m.group(1)


# "再加个石棉", "还有汶川县 我两边都跑": service areas added to those already given
ADDS = re.compile(r"再加|加上|加个|加一个|还有|另外|也(?:能|可以|跑|去|服务)|两边|都跑|都去")
_CORRECTS_INSIDE = re.compile(r"不对|说错了|搞错了|写错了|错了")
# expert questions at which skills named in passing add to the ones already given (at the
# name, unit or title question a skill word is part of the answer: 高级兽医师 is no field)
_MORE_SKILLS = ("service_regions", "phone", None)
# slots whose answer is free text: a question there is the answer, not a digression
FREE_TEXT = (
    "problem",
    "name",
    "organisation",
    "title",
    "fields",
    "topics",
    # issue 18
    "company",
    "industry",
    "contact",
    "team_name",
    "ach_title",
    "ach_fields",
    "applied_in",
    "deadline",
)


# slots a person sees in a summary (and may correct)
SUMMARY_SLOTS = frozenset(
    ("crop", "region", "phone", "budget", "name", "fields", "service_regions", "organisation")
    + ("title", "company", "industry", "contact", "deadline", "team_name", "ach_title")
)
_NAMES_SLOT = re.compile(r"(单位|职称|预算|作物)")
_NAMED_SLOT = {"单位": "organisation", "职称": "title", "预算": "budget", "作物": "crop"}


def skips(state: FormState, text: str) -> bool:
    """ "跳过", "没有预算", "不晓得好多钱" at an optional question: an answer, not a question."""
    form = FORMS[state.name]
    optional = state.awaiting in form.optional
    return bool(SKIP.match(text) or (optional and says_none(text)))


def drops_optional(state: FormState, text: str) -> bool:
    """ "职称没得", "没有单位" at another question: an optional slot of the form said to be
    none (an answer, even where it reads like a question)."""
    m = _NAMES_SLOT.search(text)
    form = FORMS[state.name]
    return m is not None and _NAMED_SLOT[m.group(1)] in form.optional and says_none(text)


def is_control(text: str) -> bool:
    """A command or control word ("/needs", "确认", "接单 12"): never a slot value."""
    t = text.strip()
    if t.startswith("/") or CONFIRM.match(t) or EDIT.match(t) or SKIP.match(t) or RESUME.match(t):
        return True
    command = order_command(t)
    return command is not None and command.order_id is not None


@dataclass(frozen=True, slots=True)
class Ask:
    """Ask for *slot*; *note* (an i18n key) is said first."""

    state: FormState
    slot: str
    note: str = ""
    missing: tuple[str, ...] = ()  # for the hand-off note: what is still needed
    changed: tuple[str, ...] = ()  # slots this message corrected (said back: "已改为：…")
    noted: tuple[str, ...] = ()  # other slots this message filled (said back: "已记下：…")
    dropped: tuple[str, ...] = ()  # optional slots this message said are none ("没有职称")


@dataclass(frozen=True, slots=True)
class Confirm:
    """Show the summary for confirmation; *changed* names slots this message changed; *note*
    (an i18n key) is said first."""

    state: FormState
    changed: tuple[str, ...] = ()
    note: str = ""
    dropped: tuple[str, ...] = ()  # optional slots this message said are none ("没有职称")


@dataclass(frozen=True, slots=True)
class Clarify:
    """Ask which of several places was meant."""

    state: FormState
    options: tuple[Region, ...]
    slot: str


@dataclass(frozen=True, slots=True)
class Digress:
    """A question in the middle of the form: answer it, then ask *state*'s question again."""

    state: FormState


@dataclass(frozen=True, slots=True)
class Commit:
    """Everything is there and confirmed: save it (*said_back*: say the summary first, as
    the person confirmed before seeing it)."""

    state: FormState
    said_back: bool = False


@dataclass(frozen=True, slots=True)
class Refuse:
    """A value that cannot be used: say why (*key* with *value*), then ask *slot* again
    (None: nothing more to say)."""

    state: FormState
    key: str
    value: str = ""
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class Help:
    """Explain how forms work, then repeat the question."""

    state: FormState


Step = Ask | Confirm | Clarify | Digress | Commit | Refuse | Help


def region_slot(form: Form) -> str:
    return "region" if "region" in form.required else "service_regions"


def advance(state: FormState) -> Ask | Confirm:
    """The next question, or the summary when nothing is missing."""
    form = FORMS[state.name]
    slot = None if state.confirming else next_slot(form, state.slots)
    if slot is None:
        return Confirm(replace(state, confirming=True, awaiting=None))
    return Ask(replace(state, awaiting=slot), slot)


def begin(name: str, slots: dict[str, Any], parse: Any, text: str) -> Step:
    """Open form *name* with what is already known and what this message says."""
    form = FORMS[name]
    slots = dict(slots)
    slots.update(updates_from(form, parse.slots, text, "problem" if form in NEED_LIKE else None))
    if form in NEED_LIKE and "problem" not in slots:
        slots["problem"] = text.strip()[:500]
    state = FormState(name, slots)
    if parse.slots.ambiguous_places and not parse.slots.places:
        return _clarify(state, form, parse)
    return advance(state)


def step(state: FormState, parse: Any, text: str) -> Step:
    """One message inside a form: what happens next. *state* is not modified.

    Args:
        state: the form so far.
        parse: the message understood (``dialogs.nlu.intents.Parse``).
        text: the message, normalised.
    """
    form = FORMS[state.name]
    state = replace(state, slots=copy.deepcopy(state.slots))
    slots = state.slots
    awaiting = state.awaiting
    if state.confirming:
        if CONFIRM.match(text) or _confirms_unchanged(form, state, parse, text):
            return Commit(state)
        if EDIT.match(text):
            return Refuse(state, "edit_prompt")
        awaiting = None  # a free-text change to the summary
    if awaiting == "contract" and (yes := ent.yes_or_no(text)) is not None:
        slots["contract"] = yes  # a yes / no question: the answer
        return advance(state)
    if awaiting and CONFIRM.match(text):
        # "确认" while a question is open confirms nothing yet: only a summary seen is
        # confirmed. At a required question the question is asked again; at an optional one
        # the person is done: what is left optional is skipped and the summary shown
        if awaiting in form.required:
            return Ask(state, awaiting, "confirm_at_summary")
        # the person is done: what is left optional is skipped and the form submitted, its
        # summary said back with it (a careful clerk does not ask "sure?" a second time)
        seen = state.listed is not None and _filled(state.listed) == _filled(slots)
        for name in form.optional:
            slots.setdefault(name, SKIPPED)
        nxt = advance(state)
        if isinstance(nxt, Confirm):
            return Commit(nxt.state, said_back=not seen)
        return replace(nxt, note="confirm_at_summary")
    if awaiting and RESUME.match(text):
        return Ask(state, awaiting)  # "继续登记" after a digression: the open question
    # "没有职称" while something else is asked: that optional slot is none, the question stays
    named = _NAMED_SLOT.get(m.group(1)) if (m := _NAMES_SLOT.search(text)) else None
    # (a value already given stays unless the summary is being corrected)
    late = state.confirming or (awaiting in form.required and not slots.get(named or ""))
    # "没得预算 面议" at the (optional) company question: the budget is none, the company is
    # still asked; a none answer naming the slot asked is that slot's answer (below)
    named_all = {_NAMED_SLOT[w] for w in _NAMES_SLOT.findall(text)}
    late = late or (
        awaiting in form.optional and awaiting not in named_all and not slots.get(named or "")
    )
    if late and named in form.optional and named != awaiting and says_none(text):
        # "没得单位 也没得职称": every optional slot the none answer names is none
        said = (_NAMED_SLOT[w] for w in _NAMES_SLOT.findall(text))
        dropped = tuple(dict.fromkeys(n for n in said if n in form.optional and n != awaiting))
        for name in dropped:
            slots[name] = SKIPPED
        if awaiting is None:
            return Confirm(state, dropped=dropped)
        return Ask(state, awaiting, dropped=dropped)
    none_answer = awaiting in form.optional and says_none(text)
    if (SKIP.match(text) or none_answer) and awaiting:
        if awaiting in form.required:
            return Ask(state, awaiting, "skip_required")
        # "没有单位" said late, at the title question: the unit is none, the title still asked
        slots[named if named in form.optional else awaiting] = SKIPPED
        # "没得单位 也没有职称": every optional slot the none answer names is none
        for word in _NAMES_SLOT.findall(text):
            if _NAMED_SLOT[word] in form.optional:
                slots.setdefault(_NAMED_SLOT[word], SKIPPED)
        return replace(advance(state), note="skipped")
    if awaiting and is_control(text):
        return Ask(state, awaiting, "skip_required" if awaiting in form.required else "")
    if HANDOFF.search(text) and form in NEED_LIKE:
        return _handoff(state, form)
    if parse.intent == "help":
        return Help(state)
    if form is SUBSCRIBE:
        if is_question_shaped(text) and slots.get("topics"):
            return Digress(state)
        topics = edit_topics(slots.get("topics", []), text, parse.slots)
        if not topics:
            return Ask(state, "topics")
        slots["topics"] = topics  # the summary says the topics: no "已改为" beside it
        return Confirm(replace(state, confirming=True, awaiting=None))
    named_fix = _named_fix(form, state, text)
    if named_fix is not None:
        return named_fix
    # "不对 服务地区是江津和永川" at the unit question corrects the area; it is no unit
    # "不对 是四川农业大学" at the title question corrects the unit: a correction whose words
    # extraction reads as another slot's value is about that slot
    fixes_other = CORRECTION.match(text) and (
        parse.slots.places
        or parse.slots.phone
        or any(
            k in SUMMARY_SLOTS and k != awaiting
            for k in updates_from(form, parse.slots, text, None)
        )
    )
    reads_as = None if fixes_other and awaiting in FREE_TEXT else awaiting
    updates = updates_from(form, parse.slots, text, reads_as)
    if form in NEED_LIKE:
        _meant_values(updates, slots, parse.slots, text)
    if "phone" not in updates and (tail := phones.with_tail(slots.get("phone") or "", text)):
        updates["phone"] = tail  # "电话打错了 最后两位是七六": the number given, its end changed
    states_problem = bool(parse.slots.problem or parse.slots.pests)
    if form in NEED_LIKE and awaiting != "problem":
        # "作物不对 是脐橙" corrects the crop: the problem and its category stay as described
        if not (states_problem and CORRECTION.match(text)):
            updates.pop("problem", None)
        if not states_problem:
            updates.pop("category", None)
    # a question in passing, not an answer: question-shaped and stating nothing new
    digression = (
        is_question_shaped(text)
        and awaiting not in FREE_TEXT
        and not (set(updates) - {"category", "crop", "crops"})
    )
    if digression:
        return Digress(replace(state, awaiting=awaiting))
    # a crop or problem word in passing ("李德明" at the phone question) changes nothing
    # unless it is a correction ("不对，是柑橘") or what was asked
    if not CORRECTION.match(text):
        for key in ("crop", "crops", "category", "fields"):
            if key != awaiting and slots.get(key) and key in updates:
                if form is EXPERT and key in ("fields", "crops") and awaiting in _MORE_SKILLS:
                    # "养猪 猪病防治 搞了二十多年了" at the service-area question: more skills
                    updates[key] = list(dict.fromkeys([*slots[key], *updates[key]]))
                else:
                    updates.pop(key)
    more = updates.get("service_regions")
    if form is EXPERT and more and slots.get("service_regions") and ADDS.search(text):
        # "再加个石棉", "还有汶川 两边都跑": more areas beside the ones given
        both = [*slots["service_regions"], *more]
        updates["service_regions"] = [
            dict(t) for t in dict.fromkeys(tuple(r.items()) for r in both)
        ]
    # "不对 是泸州的" at the phone question: a correction is taken whatever was asked
    corrected = tuple(k for k, v in updates.items() if slots.get(k) not in (None, v))
    if CORRECTION.match(text) and not set(corrected) & SUMMARY_SLOTS and awaiting not in updates:
        # "作物不对 是橙子" (橙子 is 柑橘): restated as it was; said back, no refusal
        corrected = tuple(k for k in updates if k in SUMMARY_SLOTS and slots.get(k))
    if awaiting and awaiting not in updates and (corrected or _only_fills_others(updates)):
        # "张建国" or a phone at the area question: kept, said back, and the question stays
        noted = tuple(k for k in updates if k not in corrected and slots.get(k) in (None, ""))
        slots.update(updates)
        return Ask(state, awaiting, changed=corrected, noted=noted)
    refusal = _refusal(state, form, parse, awaiting, updates)
    if refusal is not None:
        return refusal
    changed = tuple(k for k, v in updates.items() if slots.get(k) != v) or corrected
    slots.update(updates)
    if state.confirming:
        return Confirm(state, changed)
    nxt = advance(state)
    return replace(nxt, changed=corrected) if isinstance(nxt, Ask) and corrected else nxt


def _meant_values(updates: dict[str, Any], slots: dict[str, Any], said: Slots, text: str) -> None:
    """A change naming the old value beside the new one ("不是苞谷 是高粱", "是富顺 荣县是我老丈人
    屋头", "两千怕请不动人 改成五千"): the value meant is the one that is not the value it
    changes, wherever it stands in the message."""
    corrects = bool(CORRECTION.match(text) or _CORRECTS_INSIDE.search(text))
    money = corrects or bool(_SAYS_MONEY.search(text))
    named: tuple[tuple[str, list[Any], bool], ...] = (
        ("crop", said.crops, corrects),
        ("region", [place_dict(p) for p in said.places], corrects),
        ("budget", find_budgets(text) if money else [], money),
    )
    for key, values, applies in named:
        if not applies or key not in updates or slots.get(key) not in values:
            continue
        others = [v for v in values if v != slots.get(key)]
        if others:
            updates[key] = others[-1]


# how people name a free-text slot when they correct it ("不对 行业是农机销售"); places,
# phones, crops and budgets are read wherever they are said and need no name
_SLOT_NAMES = {
    "行业": ("industry",),
    "单位": ("organisation", "company"),
    "职称": ("title",),
    "名字": ("name", "contact"),
    "姓名": ("name", "contact"),
    "称呼": ("name", "contact"),
    "联系人": ("contact",),
    "企业名称": ("company",),
    "企业名": ("company",),
    "公司名称": ("company",),
    "公司名字": ("company",),
    "公司名": ("company",),
    "团队名称": ("team_name",),
    "团队名": ("team_name",),
    "成果名称": ("ach_title",),
    "擅长领域": ("fields",),
    "问题": ("problem",),
    "领域": ("fields",),
    "截止时间": ("deadline",),
}
_SLOT_NAMED = re.compile(
    "(" + "|".join(sorted(_SLOT_NAMES, key=len, reverse=True)) + ")"
    r".{0,6}?(?:应该是|应该为|是|为|改成|改为|写成)\s*(\S.{0,40}?)\s*[。!！]?\s*$"
)


def _named_fix(form: Form, state: FormState, text: str) -> Step | None:
    """ "不对 行业是农机销售" at the size question, "名字写错了 应该是周永红" at the summary:
    a correction naming its slot sets that slot, and the open question stays.
    "单位改成四川农业大学" at the unit question itself: the value is what follows 改成."""
    if not (CORRECTION.match(text) or state.confirming):
        return None
    m = _SLOT_NAMED.search(text)
    if m is None:
        return None
    slots_of_form = (*form.required, *form.optional)
    slot = next((n for n in _SLOT_NAMES[m.group(1)] if n in slots_of_form), None)
    if slot is None:
        return None
    said = m.group(2)
    got = updates_from(form, extract(said), said, slot).get(slot)
    if not got or got == state.slots.get(slot):
        return None
    state.slots[slot] = got
    if state.awaiting is None:
        return Confirm(state, (slot,))
    if slot == state.awaiting:
        return replace(advance(state), changed=(slot,))
    return Ask(state, state.awaiting, changed=(slot,))


def _confirms_unchanged(form: Form, state: FormState, parse: Any, text: str) -> bool:
    """ "对 辣椒" at the summary: a confirm word and nothing that changes it."""
    lead = _CONFIRM_LEAD.match(text)
    if lead is None:
        return False
    rest = text[lead.end() :]
    if form is SUBSCRIBE:
        topics = topics_from(rest, extract(rest))
        return set(topics) <= set(state.slots.get("topics", []))
    updates = updates_from(form, extract(rest), rest, None)
    return all(state.slots.get(k) == v for k, v in updates.items())


def _filled(slots: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in slots.items() if v not in (None, "", [], SKIPPED)}


def _only_fills_others(updates: dict[str, Any]) -> bool:
    """Whether a message gave other slots worth keeping (a place, a phone, a budget) while
    something else was asked."""
    return bool(set(updates) & _KEPT_WHEN_OTHER)


# slots a message fills while another question is open, kept (and said back) rather than lost:
# "南充市农业科学院" or "副研究员" at the service-area question is the unit or the title
_KEPT_WHEN_OTHER = frozenset(
    ("region", "phone", "budget", "service_regions", "name", "organisation", "title", "fields")
)


def pick(state: FormState, slot: str, region: Region) -> Step:
    """A clarification answered: *region* goes into *slot*."""
    state = replace(state, slots=copy.deepcopy(state.slots))
    if slot == "service_regions":
        state.slots.setdefault("service_regions", []).append(place_dict(region))
    else:
        state.slots["region"] = place_dict(region)
    return advance(state)


def _refusal(
    state: FormState, form: Form, parse: Any, awaiting: str | None, updates: dict[str, Any]
) -> Step | None:
    slots = parse.slots
    if awaiting == "phone" and "phone" not in updates:
        return Refuse(state, "bad_phone", slots.bad_phone or parse.text[:30])
    if slots.bad_phone and "phone" not in updates:
        return Refuse(state, "bad_phone", slots.bad_phone, awaiting)
    rslot = region_slot(form)
    if awaiting == rslot or (rslot == "region" and CORRECTION.match(parse.text)):
        if slots.ambiguous_places and not slots.places:
            return _clarify(state, form, parse)
        if awaiting == rslot and rslot not in updates:
            return Refuse(state, "no_region")
    return None


def _clarify(state: FormState, form: Form, parse: Any) -> Clarify:
    places = tuple(parse.slots.ambiguous_places[:6])
    return Clarify(state, places, region_slot(form))


def _handoff(state: FormState, form: Form) -> Step:
    for name in form.optional:
        state.slots.setdefault(name, SKIPPED)
    missing = tuple(n for n in form.required if not state.slots.get(n))
    if missing:
        return Ask(replace(state, awaiting=missing[0]), missing[0], "handoff_need_more", missing)
    return Confirm(replace(state, confirming=True, awaiting=None))


def value(slots: dict[str, Any], name: str, default: Any = "") -> Any:
    """A slot's value, with *default* for a skipped or missing one."""
    got = slots.get(name, default)
    return default if got == SKIPPED else got
