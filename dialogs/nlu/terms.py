"""What a message is about: crops, pests, the problem's category and an expert's fields
(the words that hide places are in :mod:`dialogs.nlu.masks`)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from dialogs.nlu.regions import HOME, find_mentions
from knowledge.lexicons import Lexicon, default_lexicon

ANIMAL_GROUPS = frozenset({"畜禽", "水产"})

_PROCESSING = re.compile(
    r"贮藏|储存|储藏|保鲜|加工|包装|卖不出|销售|销路|烘干|晾晒|窖|冷库|冷链|腌制|品牌|电商|深加工|"
    r"制茶|炒茶|炒出来|烘焙|保存|存放|放好久|(?:怎么|咋个|如何)存|果酒|果脯|做成|采后|摘下来"
)
_DISEASE_CUE = re.compile(
    r"腐烂|烂|发黑|霉|斑|枯|疫|瘟|流胶|溃|黑点|绿毛|白毛|污染|花叶|石硫合剂|波尔多液|[\u4e00-\u9fff]病(?!虫)"
)
_FOOD = re.compile(r"能吃|可以吃|吃不|好吃|转基因|食用")
_PEST_CUE = re.compile(r"虫|蛀|啃|咬|螨|蚜|蛾")
_SOIL = re.compile(
    r"土壤|土质|酸化|板结|盐碱|返盐|施肥|肥料|缺[硼锌镁铁钾钙氮磷]|有机质|测土|改土|水肥|土的|看下土|测.{0,2}土|变酸|配.{0,2}肥|复合肥|有机肥|化肥|秸秆还田|[pP][hH]"
)
_CULTIVATION = re.compile(
    r"修剪|剪枝|育苗|授粉|坐果|疏果|疏花|产量低|不结果|品种|种植技术|栽培|嫁接|整枝|出菇|间作|套种|播种|移栽|管理技术|长不大|个头小|长不起来|串粉|种一起|(?:怎么|咋个|如何)种|种出来|适合种|能不能种|种植"
)

_SORTED: dict[tuple[int, str], tuple[str, ...]] = {}


def _longest_first(lex_id: int, name: str, words: Iterable[str]) -> tuple[str, ...]:
    """A lexicon table's words, longest first, computed once per lexicon (not per message)."""
    key = (lex_id, name)
    cached = _SORTED.get(key)
    if cached is None:
        cached = _SORTED[key] = tuple(sorted(words, key=len, reverse=True))
    return cached


# (lexicon id, table name) -> (word -> its rank in the table's order, shortest, longest length)
_RANKS: dict[tuple[int, str], tuple[dict[str, int], int, int]] = {}


def present(lex_id: int, name: str, ordered: Iterable[str], text: str) -> list[str]:
    """The words of *ordered* that occur in *text*, in *ordered*'s order (*ordered* is read
    once per lexicon and table, and cached).

    A message is short and a table has thousands of words: looking every substring of the
    message up in a dict costs far less than searching the message for every word, and the
    callers' longest-first loops then run over the few words present only (same result).
    """
    key = (lex_id, name)
    index = _RANKS.get(key)
    if index is None:
        words = [w for w in ordered if w]
        ranks = {w: i for i, w in reversed(list(enumerate(words)))}
        lengths = [len(w) for w in words] or [1]
        index = _RANKS[key] = (ranks, min(lengths), max(lengths))
    ranks, shortest, longest = index
    found: set[str] = set()
    n = len(text)
    for i in range(n):
        for j in range(i + shortest, min(i + longest, n) + 1):
            word = text[i:j]
            if word in ranks:
                found.add(word)
    return sorted(found, key=ranks.__getitem__)


def present_longest_first(lex: Lexicon, name: str, table: Iterable[str], text: str) -> list[str]:
    """The words of a lexicon table found in *text*, longest first (as `_longest_first`)."""
    return present(id(lex), name, _longest_first(id(lex), name, table), text)


_PROBLEM_TERMS: dict[int, tuple[tuple[str, str], ...]] = {}


def _problem_terms(lex: Lexicon) -> tuple[tuple[str, str], ...]:
    """(term, category) of symptoms and practices, computed once per lexicon."""
    cached = _PROBLEM_TERMS.get(id(lex))
    if cached is None:
        tables = (lex.symptoms, lex.practices)
        cached = tuple((t, c) for table in tables for t, c in table.items() if len(t) >= 2)
        _PROBLEM_TERMS[id(lex)] = cached
    return cached


# "种了二十亩藜麦", "养了三百只竹鼠": what is grown or raised, even when no lexicon knows it
_GROWN = re.compile(
    r"(?:种了|栽了|养了|种的|养的|喂了)\s*(?:[0-9一二两三四五六七八九十百千几多]+\s*"
    r"(?:亩|棵|株|头|只|箱|条|窝|群|口|斤|万只|千只)(?:的|多)?)?\s*([\u4e00-\u9fff]{2,4}?)"
    r"(?=[，,。！!？?\s]|$|了|今年|现在|最近|长|叶|果|出|有|都|全|好|不|死|得|的|在)"
)
_NOT_A_CROP = re.compile(
    r"^[0-9一二两三四五六七八九十百千几多]|年|月|天|些|东西|什么|啥|好多|几个|这个|那个|一下|地方|时候|自己|别人"
)


def unknown_crop(text: str) -> list[str]:
    """A crop or animal the lexicon does not know, from "种了 / 养了 X" patterns."""
    m = _GROWN.search(text)
    if m is None or _NOT_A_CROP.search(m.group(1)):
        return []
    return [m.group(1)]


def find_crops(text: str, lex: Lexicon) -> list[str]:
    """Canonical crops in order of first mention; longest alias wins (李子 not 李)."""
    hits: list[tuple[int, str]] = []
    taken = [False] * len(text)
    # 甜菜夜蛾, 天牛, 水花生 (a weed): a crop name inside a pest's name is no crop, unless it
    # is the pest's own host (稻瘟病 is about 水稻)
    for alias in present_longest_first(lex, "pests", lex.pest_alias, text):
        if len(alias) < 2 or alias in lex.crop_alias:
            continue
        hosts = lex.pests_diseases[lex.pest_alias[alias]].crops
        start = text.find(alias)
        while start >= 0:
            end = start + len(alias)
            inner = [c for a, c in lex.crop_alias.items() if a in alias]
            if inner and not set(inner) & set(hosts):
                taken[start:end] = [True] * (end - start)
            start = text.find(alias, end)
    # 稻城, 金牛, 青羊: a one-character crop inside a home place's name is the place
    for mention in find_mentions(text):
        home = any(p.province in HOME for p in mention.places)
        if home and any(ch in lex.crop_alias for ch in mention.text):
            taken[mention.start : mention.start + len(mention.text)] = [True] * len(mention.text)
    # 鸡精 is a seasoning, 苹果手机 a phone
    for m in _NOT_A_CROP_WORD.finditer(text):
        taken[m.start() : m.end()] = [True] * (m.end() - m.start())
    ends: set[int] = set()  # where a crop's name ends: 海椒|秧子 are the pepper's seedlings
    habitats: list[int] = []
    for alias in present_longest_first(lex, "crops", lex.crop_alias, text):
        start = text.find(alias)
        while start >= 0:
            end = start + len(alias)
            if not any(taken[start:end]) and (len(alias) > 1 or _single_char_ok(text, start)):
                if alias in _HABITATS and text[end : end + 1] != "养":
                    habitats.append(len(hits))  # 稻田养鱼 names a practice of both
                hits.append((start, lex.crop_alias[alias]))
                ends.add(end)
                for i in range(start, end):
                    taken[i] = True
            start = text.find(alias, end)
    seedlings = {
        i
        for i, (start, _) in enumerate(hits)
        if start in ends and text[start:].startswith(_SEEDLING)
    }
    animals = any(lex.crops[c].kind in ANIMAL_GROUPS for _, c in hits if c in lex.crops)
    # "竹林下头散养的鸡", "稻田里的小龙虾": where an animal lives is no crop of its own;
    # "牛吃了嫩苜蓿", "喂了发霉的玉米": what an animal eats is its feed, not a crop concerned
    feed = {i for i, (start, _) in enumerate(hits) if _FEED_BEFORE.search(text[:start])}
    dropped = seedlings | (set(habitats) | _plants(feed, hits, lex) if animals else set())
    out: list[str] = []
    for _, crop in sorted(h for i, h in enumerate(hits) if i not in dropped):
        if crop not in out:
            out.append(crop)
    return out


# everyday words holding a crop's name that are about no crop
# (鸡精神不好 is the hens' spirits; 臭鸡蛋味 is a gas leak's smell)
_NOT_A_CROP_WORD = re.compile(
    r"鸡精(?!神)|臭鸡蛋|苹果(?=手机|电脑|平板|笔记本|公司|官网|系统|商店|耳机)"
)
# an animal's feed: a plant right after 吃/啃/喂 (a few words between: 吃了带露水的苜蓿)
_FEED_BEFORE = re.compile(r"(?:吃|啃|喂)(?:了|过|的是|多了|太多)?[^，,。！!？?\s吃啃喂]{0,8}$")


def _plants(indices: set[int], hits: list[tuple[int, str]], lex: Lexicon) -> set[int]:
    """The hits among *indices* that are plants (an animal eaten by another stays)."""
    return {i for i in indices if (t := lex.crops.get(hits[i][1])) and t.kind not in ANIMAL_GROUPS}


# names of a place where crops grow, also where animals are kept (稻田养鱼, 竹林养鸡)
_HABITATS = frozenset({"稻田", "秧田", "竹林", "竹园", "果园", "茶园", "桑园"})
# a seedling word right after a crop's name is that crop's seedlings (海椒秧子), not rice
_SEEDLING = ("秧子", "秧苗")


# Single-character crop names only count where they read as the crop (猪 in 猪场, not 猪肉价).
_SINGLE_BLOCK = re.compile(r"^(?:李[子树园]?|桃[子树园花]?|梨[子树园]?|茶[叶树园苗]?)")


_AFTER_FRUIT = frozenset("子树园花果苗枝叶和跟与及、也都的还今又在")


def _single_char_ok(text: str, start: int) -> bool:
    ch = text[start]
    nxt = text[start + 1 : start + 2]
    prev = text[start - 1 : start] if start else ""
    if ch == "李":
        # a surname: 李老师, 李师傅, 李工, 我是李..., 把李明 (a given name after it, where the
        # fruit is followed by 子, 树, 花 ... or by nothing of its own)
        if "\u4e00" <= nxt <= "\u9fff" and nxt not in _AFTER_FRUIT:
            return False
        return nxt not in (
            "老",
            "师",
            "工",
            "总",
            "主",
            "专",
            "先",
            "姐",
            "哥",
            "叔",
        ) and prev not in (
            "是",
            "叫",
            "姓",
            "找",
            "问",
            "人",  # 联系人李 138…
        )
    if ch == "茶":
        return nxt not in ("馆", "杯", "水", "几")
    if ch == "橘":
        return nxt not in ("黄", "红", "色")  # 橘黄色 is a colour
    return True


def find_category(text: str, crops: list[str], pests: list[str], lex: Lexicon) -> str:
    if any(lex.crops[c].kind in ANIMAL_GROUPS for c in crops if c in lex.crops):
        return "livestock"
    if _PROCESSING.search(text):
        return "processing"
    kinds = [lex.pests_diseases[p].kind for p in pests if p in lex.pests_diseases]
    if "pest" in kinds and "disease" not in kinds:
        return "pest"
    if "disease" in kinds:
        return "disease"
    if _SOIL.search(text):
        return "soil"
    votes: dict[str, int] = {}
    terms = _problem_terms(lex)
    named = set(present(id(lex), "problem_terms", (t for t, _ in terms), text))
    for term, category in terms:
        if term in named:
            votes[category] = votes.get(category, 0) + len(term)
    if votes:
        best = max(votes, key=lambda c: votes[c])
        if best != "livestock" or not crops:
            return best
    if _CULTIVATION.search(text) or "physiological" in kinds or "weed" in kinds:
        return "cultivation"
    if "病虫害" in text:
        return ""  # pests and diseases in general: no single category
    if _DISEASE_CUE.search(text):
        return "disease"
    if _PEST_CUE.search(text):
        return "pest"
    if _FOOD.search(text):
        return "other"
    if any(lex.crops[c].kind not in ANIMAL_GROUPS for c in crops if c in lex.crops):
        return "cultivation"  # a plant and no named problem: how to grow it
    return ""


def find_pests(text: str, lex: Lexicon) -> list[str]:
    out: list[str] = []
    rest = text
    for alias in present_longest_first(lex, "pests", lex.pest_alias, text):
        if len(alias) >= 2 and alias in rest:
            name = lex.pest_alias[alias]
            if name not in out:
                out.append(name)
            rest = rest.replace(alias, "  ")
    return out


def host_of(pests: list[str], lex: Lexicon) -> list[str]:
    """The one crop every one of *pests* belongs to ([] when they name none, or several).

    An animal's pest is no sign of the animal (被马蜂叮了 is about a person, not bees); its
    diseases are (蜂螨, 猪瘟)."""
    hosts: set[tuple[str, ...]] = set()
    for name in pests:
        term = lex.pests_diseases.get(name)
        if term is None:
            continue
        if term.kind == "pest" and any(_is_animal(c, lex) for c in term.crops):
            return []
        hosts.add(term.crops)
    if len(hosts) != 1:
        return []
    (crops,) = hosts
    return list(crops) if len(crops) == 1 else []


_PRACTICE = (
    r"(?:病虫害|病害|虫害|疫病|病)?(?:防治|防控|诊断|治疗)|栽培|种植|养殖|修剪|嫁接|育种|育苗|"
    r"繁育|管理|加工|饲养|技术"
)
_PRACTICE_AFTER = re.compile(rf"^(?:{_PRACTICE})")
# an expert's words for what they work on, before the kind of problem in the same clause
_SKILL_VERB = re.compile(r"(?:做|搞|研究|从事|擅长|专长|主攻|专攻|负责|熟悉|懂|会看|会治).*?病")
_CLAUSE = re.compile(r"[，,。；;！!？?\s]+")
# "会看鱼病", "猪病我熟": an animal's diseases are a field of their own
_ANIMAL_ILL = re.compile(r"^(?:病|的病)")


def _is_animal(alias: str, lex: Lexicon) -> bool:
    crop = lex.crops.get(lex.crop_alias.get(alias, ""))
    return crop is not None and crop.kind in ANIMAL_GROUPS


_GROWS = re.compile(r"(?:种植?|栽种?|养殖?|饲养|喂)(?:了|过|的是)?$")


def _crop_before(text: str, lex: Lexicon) -> str:
    """The crop *text* ends with, longest first ("" when none). A kind of crop (果树) is
    left out: matching reads it as a crop group, and 果树病虫害防治 is no soil expert."""
    for k in (4, 3, 2, 1):
        word = text[-k:] if len(text) >= k else ""
        known = word and word in lex.crop_alias
        if known and (k > 1 or _is_animal(word, lex)):  # one character: only an animal (兔)
            return word
    return ""


def _animals_before(text: str, lex: Lexicon) -> str:
    """The animals *text* ends with ("牛" of "牛羊病"), or ""."""
    lead = ""
    while text:
        word = next(
            (text[-k:] for k in (2, 1) if len(text) >= k and _is_animal(text[-k:], lex)), ""
        )
        if not word:
            break
        lead, text = word + lead, text[: -len(word)]
    return lead


_AND = re.compile(r"(?:和|与|及|跟|以及|、|还有)$")


def _joined_before(text: str, lex: Lexicon) -> list[str]:
    """The crops joined to what follows *text* ("茶叶和" of "茶叶和猕猴桃栽培": 茶叶), nearest
    last; the practice said once after them is each one's."""
    out: list[str] = []
    while (m := _AND.search(text)) is not None:
        crop = _crop_before(text[: m.start()], lex)
        if not crop:
            break
        out.insert(0, crop)
        text = text[: m.start() - len(crop)]
    return out


def _ends_with_crop(text: str, lex: Lexicon) -> bool:
    return any(
        text.endswith(alias) for alias in present_longest_first(lex, "crops", lex.crop_alias, text)
    )


def find_fields(text: str, lex: Lexicon) -> list[str]:
    """An expert's fields: the lexicon's terms (植保, 土壤改良), then skills made of a crop,
    animal, pest or disease and what is done to it (猪病防治, 柑橘修剪, 软腐病防治)."""
    out: list[str] = []
    rest = text
    for term in present_longest_first(lex, "fields", lex.fields, text):
        if len(term) < 2 or term not in rest:
            continue
        if term in lex.crop_alias and not _is_animal(term, lex):
            continue  # 茶叶 names the crop (a crop slot), not what is done to it
        at = rest.find(term)
        lead = _crop_before(rest[:at], lex) if _PRACTICE_AFTER.match(term) else ""
        # "水稻病虫害防治": the crop said with a practice is part of the field
        joined = _joined_before(rest[: at - len(lead)], lex) if lead else []
        out.extend(crop + term for crop in joined)  # "水稻和玉米病虫害防治": of each
        out.append(lead + term)
        rest = rest[: at - len(lead)] + " " + rest[at + len(term) :].replace(term, " ")
    # "自己种柠檬的", "我会养中蜂": growing or raising it is the field (柠檬种植, 中蜂养殖)
    for alias in present_longest_first(lex, "crops", lex.crop_alias, text):
        at = rest.find(alias)
        verb = _GROWS.search(rest[:at]) if at > 0 else None
        if verb is not None:
            animal = _is_animal(alias, lex)
            out.append(alias + ("养殖" if animal else "种植"))  # in their words: 中蜂养殖
            end = at + len(alias)
            rest = rest[: verb.start()] + " " * (end - verb.start()) + rest[end:]
    for alias in present_longest_first(lex, "terms", crop_and_pest_terms(lex), text):
        at = rest.find(alias)
        while at >= 0:
            after = rest[at + len(alias) :]
            skill, used = "", ""
            if m := _PRACTICE_AFTER.match(after):
                skill = used = alias + m.group(0)
                # "茶叶和猕猴桃栽培": each crop joined before is grown too (茶叶栽培)
                for crop in _joined_before(rest[:at], lex):
                    out.append(crop + m.group(0))
                    rest = rest.replace(crop, " " * len(crop), 1)
            elif _is_animal(alias, lex) and (m := _ANIMAL_ILL.match(after)):
                # "牛羊病": the animals said together share the illness
                lead = _animals_before(rest[:at], lex)
                skill, used = f"{lead}{alias}病防治", alias + m.group(0)
                at -= len(lead)
                used = lead + used
            if len(skill) >= 3:
                out.append(skill)
                rest = rest[:at] + " " * len(used) + rest[at + len(used) :]
            at = rest.find(alias, at + len(alias))

    # "主要做猕猴桃和茶叶的病虫害": a kind of problem an expert says they work on, of the
    # crops they named (a crop slot) or of none, is the field of its control (病虫害防治);
    # "蔬菜病虫害", "蔬菜的病虫害" name a field of their own
    for term in lex.fields:
        stem = term.removesuffix("防治")
        if stem == term or len(stem) < 2:
            continue
        for clause in _CLAUSE.split(rest):
            m = re.search(rf"(?:^|(?<=[做搞究事长攻责悉懂看治])|([和与及]|的))({stem})", clause)
            if m is None or not _SKILL_VERB.search(clause):
                continue
            if m.group(1) == "的" and not _ends_with_crop(clause[: m.start(1)], lex):
                continue
            out.append(term)
            rest = rest.replace(stem, " ")
            break

    def where(skill: str) -> int:
        at = text.find(skill)
        return at if at >= 0 else text.find(skill[:2])

    return sorted(dict.fromkeys(out), key=where)


def label_key(slot: str, value: object, lex: Lexicon | None = None) -> str:
    """The i18n key of the word a slot is shown under: ``field_<slot>``, and for the crop
    slots the word for what they name (猪 is shown as 养殖对象, 香菇 as 食用菌, not 作物)."""
    if slot not in ("crop", "crops"):
        return f"field_{slot}"
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    kind = (lex or default_lexicon()).crop_kind(str(n) for n in names)
    return f"field_{slot}_{kind}" if kind in ("animal", "fungus", "mixed") else f"field_{slot}"


_TERMS: dict[int, tuple[str, ...]] = {}


def crop_and_pest_terms(lex: Lexicon) -> tuple[str, ...]:
    """Crop and pest aliases together, computed once per lexicon."""
    cached = _TERMS.get(id(lex))
    if cached is None:
        cached = _TERMS[id(lex)] = tuple({**lex.crop_alias, **lex.pest_alias})
    return cached
