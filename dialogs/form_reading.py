"""How a message fills a form's slots: everything recognisable it states, whatever was asked,
and the value meant where a correction names the old one beside the new."""

from __future__ import annotations

import re
from typing import Any

from dialogs.answers import (
    NAME_FIX,
    NOT_A_NAME,
    ROLE_WORD,
    answer,
    cued_skills,
    joined_skills,
    name_answer,
    own_skill,
    says_none,
    terms,
    unplaced,
)
from dialogs.form_specs import (
    ACHIEVEMENT,
    ENTERPRISE,
    EXPERT,
    NEED_LIKE,
    SUBSCRIBE,
    TEAM,
    TECH,
    Form,
    place_dict,
)
from dialogs.form_words import CORRECTION
from dialogs.nlu import enterprise as ent
from dialogs.nlu.masks import mask_terms
from dialogs.nlu.numbers import find_budget, find_budgets
from dialogs.nlu.people import is_title, lone_name, looks_like_name
from dialogs.nlu.regions import resolve
from dialogs.nlu.slots import Slots, extract
from dialogs.topics import topics_from
from store import phone as phones


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
        # "哎呀打错了 最后两位是42" at the budget question: the digits are the phone's
        expected = awaiting == "budget" and not (slots.phone or _PHONE_TALK.search(text))
        if budget is None and (expected or _SAYS_MONEY.search(text)):
            budget = find_budget(text, expected=True)
        if budget is not None:
            out["budget"] = budget
        if slots.urgency:
            out["urgency"] = slots.urgency
        if slots.category:
            out["category"] = slots.category
        asked = awaiting == "problem" and describes_problem(text, slots)
        if asked or (slots.problem or slots.category) and awaiting is None:
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
        for said_of_self in (_said_name(slots, t), slots.organisation, slots.title):
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
        else:  # "搞果树病虫害和土壤改良的": each skill joined to a known one is kept
            skills += joined_skills(own_words, skills)
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
        if said_name := _said_name(slots, t):
            out["name"] = said_name
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
                if slot == "title" and not is_title(said):
                    said = ""  # "我平时周末有空": a sentence is no title; asked again
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


def _said_name(slots: Slots, text: str) -> str:
    """The name a message gives: said with 我叫 / 姓名, standing alone in a self-introduction
    ("我是宜宾学院的讲师 孙伟 做柑橘病虫害", "我姓何 何德明"), or corrected ("名字写错了 应该是
    周永红")."""
    if slots.name:
        return slots.name
    if lone := lone_name(text):
        return lone
    m = NAME_FIX.search(text)
    return m.group(1) if m and looks_like_name(m.group(1)) else ""


# what a request for help says besides its problem: "我要发个需求", "想找个专家来看一下"
_REQUEST_WORDS = re.compile(
    r"我们?|要|想|需要|发布?|提|一?[个条]|需求|找|请|专家|技术员?|帮我?|帮忙|麻烦|一下|来|看看?|"
    r"指导|咨询|问[问下]?|上门|种植?|养殖?|了|的|嘛|哈|呢|吧|啊|哦|有|点|关于|家|屋头|亩|头|只|"
    r"你好|您好|在|是|和|方面|问题|事情?|公司|企业|[\d\s，,。.！!？?、：:；;]"
)


def describes_problem(text: str, slots: Slots) -> bool:
    """Whether *text* says what is wrong: a pest, a problem or symptom, or words beyond the
    request itself, its crops, places and phone ("我要发个需求 茶叶" names no problem)."""
    if slots.problem or slots.pests:
        return True
    rest = _REQUEST_WORDS.sub("", unplaced(mask_terms(text)).replace("\u3000", ""))
    return len(re.findall(r"[\u4e00-\u9fff]", rest)) >= 2


# the words around a name, unit or title said of oneself ("我叫…", "在…工作", "姓名 廖春燕")
_SELF_INTRO = re.compile(
    r"我叫|我是|我姓|本人是?|我在|在(?=\s)|(?<=\s)的|^\s*的|工作|上班|职称是?|(?:工作)?单位是?|姓名|名字|称呼"
)

# "预算…", "还是多给点 改成1500": a bare amount said as the money offered or changed
_SAYS_MONEY = re.compile(r"预算|多给|少给|给到|出到|加到|提到|涨到|降到|调到|调整|改成|改为|块钱")
# "电话打错了 尾号是42": the numbers said are about the phone, not money
_PHONE_TALK = re.compile(r"电话|号码|手机|尾号|最后[一两二三四五六七八几\d]位")
_LABELS = {"organisation": "(?:工作)?单位", "title": "职称"}


def _labelled(text: str, slot: str) -> str:
    """ "单位是茂县农业农村局 职称高级农艺师": the value said after the slot's label."""
    m = re.search(rf"{_LABELS[slot]}(?:是|为|写)?[:：]?\s*([^\s，,。；;]+)", text)
    return "" if m is None or says_none(m.group(1)) else m.group(1)


# "再加个石棉", "还有汶川县 我两边都跑": service areas added to those already given
ADDS = re.compile(
    r"再加|加上|加个|加一个|还有|另外|[也还](?:能|可以|跑|去|服务)|两边|都跑|都去|能跑|可以跑"
)
_CORRECTS_INSIDE = re.compile(r"不对|说错了|搞错了|写错了|错了")


def meant_values(updates: dict[str, Any], slots: dict[str, Any], said: Slots, text: str) -> None:
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
