"""Extracts that answer the aspect asked: what to use, when, how much, how to tell, is it
safe, why, what to do.

An article is read as whole sentences, each knowing the section it sits in (a heading line
such as "防治措施：" or "【煮熟能不能解决】") and the label of its list item ("药剂防治：…").
The question's aspect picks the sentences of the matching sections and with the matching
cues; the extract keeps them in article order and never cuts a sentence, so it never shows
a heading without its content ("去哪里看：连续采收的蔬菜怎么办：…").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

EXTRACT_CHARS = 220
LONGEST = 260  # a single sentence longer than this is shown by its clauses


class Aspect(StrEnum):
    USE = "use"  # what to spray or use
    WHEN = "when"
    DOSE = "dose"  # how much, how many times
    IDENTIFY = "identify"  # how to tell what it is, or tell two apart
    SAFE = "safe"  # is it safe, can it be eaten
    WHY = "why"
    SPRAY = "spray"  # the question is about spraying (打药, 用药): when, what, how often
    HOW = "how"  # what to do about it
    WHERE = "where"  # where to shelter, which way to run
    INDOORS = "indoors"  # at home, inside a building (屋头)
    OUTDOORS = "outdoors"  # outside, in the fields (外头, 田头)
    FIRST_AID = "first_aid"  # someone is hurt or poisoned: what to do first


@dataclass(frozen=True, slots=True)
class _Cue:
    question: re.Pattern[str]  # the question asks this aspect
    section: re.Pattern[str]  # a heading or item label that answers it
    sentence: re.Pattern[str]  # words in a sentence that answer it


_CUES: dict[Aspect, _Cue] = {
    Aspect.USE: _Cue(
        re.compile(
            r"[用打喷施撒灌补][啥什]|啥子?药|什么药|啥药|用药|药剂|哪些药|哪种药|啥肥|什么肥"
        ),
        re.compile(r"药剂|用药|化学防治|药物|施肥|配药"),
        re.compile(
            r"药剂|常用药|可选|选用|喷施|喷雾|灌根|拌种|浸种|[唑酯胺灵磷酮啉脲腈]|霉素|"
            r"杀菌剂|杀虫剂|除草剂|生物药|菌剂|叶面肥|石灰|疫苗|驱虫"
        ),
    ),
    Aspect.WHEN: _Cue(
        re.compile(r"啥时候|啥子时候|什么时候|好久|何时|几月|哪个月|时期|什么季节|多久|时机"),
        re.compile(r"时期|时间|时机|季节|月"),
        re.compile(
            r"[初盛末]?[花苗穗蕾果]期|\w{1,3}期|[一二三四五六七八九十\d]+月|[春夏秋冬]季|"
            r"之前|以前|前后|之后|天后|天内|小时|开始|刚|及时|最关键|第一次|每隔|间隔|"
            r"[^，。]时[，,]|一发现|发现|达到"
        ),
    ),
    Aspect.DOSE: _Cue(
        re.compile(r"好多|多少|几斤|几克|几两|用量|浓度|兑|一亩|每亩|比例|几次|几道|几遍|倍"),
        re.compile(r"用量|剂量|配方|比例|配药"),
        re.compile(
            r"\d|[一二两三四五六七八九十百千半]+(?:斤|克|公斤|千克|毫升|升|倍|次|遍|成|厘米|米)|"
            r"每亩|亩用|兑水|稀释|用量|浓度|比例|按标签|推荐剂量"
        ),
    ),
    Aspect.IDENTIFY: _Cue(
        re.compile(
            r"认|识别|区分|分得清|分清|区别|分辨|辨|症状|什么病|啥子?病|是不是|像不像|样子"
        ),
        re.compile(r"识别|症状|区分|区别|特征|表现|怎么认|危害"),
        re.compile(r"症状|病斑|特征|区别|不同|而|表现为|颜色|形状|像|是[^，。]{0,6}的信号"),
    ),
    Aspect.SAFE: _Cue(
        re.compile(
            r"能吃|能不能吃|可以吃|还能吃|吃了[会要能有没还]|有毒|没毒|安全|有没有问题|有没得事|"
            r"没得事|会不会中毒|会中毒|中毒[吗不没]|致癌|能喝|危险|有害|影响"
        ),
        re.compile(r"能不能|能否|安全|毒|误区|处理|判断"),
        re.compile(
            r"不能|能吃|可以吃|安全|中毒|有毒|毒素|扔掉|不要|没问题|致癌|危险|放心|风险|"
            r"挖掉|削掉|去掉|煮熟|烹熟|少量|关键在|不吃|不采|最稳妥"
        ),
    ),
    Aspect.WHY: _Cue(
        re.compile(r"为什么|为啥|啥原因|什么原因|咋回事|怎么回事|原因|道理|咋会"),
        re.compile(r"原因|为什么|发病规律|发病条件|出在哪|道理|原理"),
        re.compile(r"因为|原因|由于|所以|导致|引起|造成|是因|条件"),
    ),
    Aspect.SPRAY: _Cue(
        re.compile(r"打药|喷药|用药|施药|打啥|喷啥|药打|打几[次道遍]|喷几[次道遍]"),
        re.compile(r"防治|药剂|用药"),
        re.compile(r"喷|用药|施药|药剂|防治"),
    ),
    Aspect.HOW: _Cue(
        re.compile(
            r"怎么办|咋办|咋个办|咋个整|咋整|如何|防治|预防|咋个防|怎么防|啷个防|怎么治|咋治|"
            r"处理|措施|补救|改良|办法|咋个弄|怎么弄|哪门"
        ),
        re.compile(r"防治|措施|预防|防控|办法|处理|补救|管理|要点|做法|怎么办|改良"),
        re.compile(r"防治|措施|及时|应|要|选用|做好|避免|不要|清除|处理|控制|加强"),
    ),
    Aspect.WHERE: _Cue(
        re.compile(
            r"躲在?哪|躲到哪|往哪|哪[里儿点][最才]?安全|哪个方向|哪边跑|(?:[咋怎啷]个?|怎么)[跑躲]|"
            r"跑还是躲|躲还是跑|是跑还是|往高处|避险"
        ),
        re.compile(r"避险|跑|躲|撤|逃|转移"),
        re.compile(r"进入|躲|离开|转移|撤离|高处|两侧|跑|建筑物|汽车|车里|蹲下|远离|避难"),
    ),
    Aspect.INDOORS: _Cue(
        re.compile(r"屋头|屋里|屋内|室内|家里|在家|房间|屋子里|楼里|楼上"),
        re.compile(r"室内|屋内|屋里|在家|家中|家里"),
        re.compile(r"室内|屋里|家里|门窗|电器|插头|楼"),
    ),
    Aspect.OUTDOORS: _Cue(
        re.compile(r"外头|外面|外边|户外|室外|野外|田头|田里|地里|田间|田坎|山上|路上|在外"),
        re.compile(r"户外|野外|室外|田间|在外|外出|路上"),
        re.compile(r"户外|野外|田野|田间|山顶|大树|水边|空旷|室外"),
    ),
    Aspect.FIRST_AID: _Cue(
        re.compile(
            r"急救|[咋怎啷如]个?[何么]?救|抢救|施救|救人|先[做干咋怎整弄]|第一时间|晕倒|昏迷|"
            r"不省人事|倒下"
        ),
        re.compile(r"急救|救治|施救|抢救|现场处理|送医|就医|[了后]怎么办|怎么救"),
        re.compile(
            r"拨打|120|立即|马上|迅速|移到|转移到|通风|心肺复苏|送医|就医|医院|侧卧|阴凉|降温"
        ),
    ),
}
# where the asker is: the section for that place outweighs one on what to do in general
PLACES = frozenset({Aspect.INDOORS, Aspect.OUTDOORS})
# aspects about someone in danger: the extract says what to do before why or what it is
URGENT = frozenset({Aspect.WHERE, Aspect.FIRST_AID})
# a duty that goes with telling a notifiable disease: report it, isolate, stop moving animals
_DUTY = re.compile(r"向[^。；]{0,14}报告|立即报告|报告当地|上报|封锁|隔离|停止调运|无害化处理")

_HEADING = re.compile(r"^(?:【(?P<bracket>[^】]{1,30})】|(?P<colon>[^。！？；，,]{1,24})[：:])$")
_LABEL = re.compile(r"^(?P<label>[^。！？；：:]{1,16})[：:](?=\S)")
_MYTH = re.compile(r"误区|不可靠|不靠谱|谣言|误解|错误|别信|不可信|传言")
_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]*")
_CLAUSE = re.compile(r"[^；;]+[；;]?")
_NUMBERING = re.compile(r"^(?:\d{1,2}[.、)）]|[（(]\d{1,2}[)）]|[一二三四五六七八九十][、.])\s*")


def aspects(question: str) -> set[Aspect]:
    """The aspects *question* asks about (none: a general question)."""
    found = {a for a, cue in _CUES.items() if cue.question.search(question)}
    if Aspect.WHERE in found:
        found.discard(Aspect.SAFE)  # "躲在哪里安全" asks where, not whether it is safe to eat
    return found


def asking_phrases(question: str) -> frozenset[str]:
    """The words *question* asks its aspects with (怎么办, 什么时候), two characters or more."""
    found = (m.group(0) for cue in _CUES.values() for m in cue.question.finditer(question))
    return frozenset(p for p in found if len(p) >= 2)


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    section: str  # the heading it sits under ("" before the first)
    label: str  # the list item's label when it starts one ("药剂防治")
    order: int


def sentences(body: str) -> list[Sentence]:
    """The article's whole sentences in order, with their section and item label."""
    return list(_sentences(body))


@lru_cache(maxsize=2048)  # the bodies answers come from: the corpus' chunks, a few thousand
def _sentences(body: str) -> tuple[Sentence, ...]:
    out: list[Sentence] = []
    section = ""
    for raw in body.splitlines():
        line = _NUMBERING.sub("", raw.strip().lstrip("-•*·").strip())
        if not line:
            continue
        heading = _HEADING.match(line)
        if heading:
            section = heading.group("bracket") or heading.group("colon") or ""
            continue
        label_match = _LABEL.match(line)
        label = label_match.group("label") if label_match else ""
        for piece in _SENTENCE.findall(line):
            text = piece.strip()
            if len(text) < 4 or text.endswith(("：", ":")):
                continue  # a lead-in whose list is not part of this sentence
            if len(text) > LONGEST:
                for clause in _CLAUSE.findall(text):
                    clause = clause.strip()
                    if len(clause) >= 4:
                        out.append(Sentence(clause, section, label, len(out)))
                label = ""
                continue
            out.append(Sentence(text, section, label, len(out)))
            label = ""
    return tuple(out)


def _score(
    s: Sentence,
    wanted: dict[str, float],
    asked: set[Aspect],
    phrases: frozenset[str] = frozenset(),
) -> float:
    value = sum(w for t, w in wanted.items() if t in s.text)
    heading = f"{s.section}|{s.label}"
    myth = bool(_MYTH.search(s.section))
    for aspect in asked:
        cue = _CUES[aspect]
        # a section debunking hearsay ("这些土办法都不可靠") says what not to believe, not
        # what to do, use or when; it does answer whether something is safe
        if (not myth or aspect is Aspect.SAFE) and (
            cue.section.search(s.section) or (s.label and cue.section.search(s.label))
        ):
            value += 4.0 if aspect in PLACES else 2.0
        value += min(3, len(cue.sentence.findall(s.text)))
    # a heading asking the question in its words ("吃后不舒服怎么办" for "中毒怎么办")
    if any(p in heading for p in phrases):
        value += 2.0
    return value


def extract(
    body: str,
    query_tokens: Sequence[str],
    question: str = "",
    limit: int = EXTRACT_CHARS,
    *,
    title: str = "",
    stress: Sequence[str] = (),
) -> str:
    """The sentences of *body* that best answer *question*, whole and in article order.

    Sentences are scored by the query words they contain and, when the question asks an
    aspect (what to use, when, how much, how to tell, is it safe, why, what to do), by the
    sections and cues of that aspect; the article's first sentence says what the subject is
    and is kept when nothing else does better. Query words in the *title* name the
    article's subject, which every sentence is about, so they count for less; words in
    *stress* (what a follow-up adds: 老年人 in "老年人呢") count for more.
    """
    found = sentences(body)
    if not found:
        return body.strip()[:limit]
    wanted = {t: 0.3 if t in title else 1.0 for t in query_tokens if len(t) >= 2}
    stressed = [t for t in stress if len(t) >= 2 and t not in title]
    asked = aspects(question)
    phrases = asking_phrases(question)
    scores = {
        s.order: _score(s, wanted, asked, phrases) + 2.0 * sum(_near(t, s.text) for t in stressed)
        for s in found
    }
    if not asked:
        scores[found[0].order] += 1.0  # a general question: start with what it is
    ranked = sorted(found, key=lambda s: (-scores[s.order], s.order))
    best = scores[ranked[0].order]
    chosen: list[Sentence] = []
    size = 0
    for s in ranked:
        if chosen and size >= limit * 0.3 and scores[s.order] < best * 0.5:
            break  # enough said: the rest would be filler
        if chosen and size + len(s.text) > limit:
            continue
        chosen.append(s)
        size += len(s.text)
        if size >= limit * 0.6:
            break
    if Aspect.IDENTIFY in asked and not any(_DUTY.search(s.text) for s in chosen):
        # "是不是非洲猪瘟": telling the disease comes with what must be done about it
        duties = [s for s in found if _DUTY.search(s.text)]
        if duties:  # the one saying most of it: report, seal off, stop moving animals
            chosen.append(max(duties, key=lambda s: (len(_DUTY.findall(s.text)), -s.order)))
    text = "".join(_shown(chosen, asked))
    # an item that ended with "；" in its list ends the extract with a full stop
    return text[:-1] + "。" if text.endswith(("；", ";", "，", ",")) else text


def _near(word: str, text: str) -> float:
    """How closely *text* holds *word*: whole (1), short of one character (老年人 as 老人,
    小孩子 as 孩子: 0.75), or by one of its character pairs (0.5)."""
    if word in text:
        return 1.0
    if len(word) >= 3 and any(word[:i] + word[i + 1 :] in text for i in range(len(word))):
        return 0.75
    if len(word) >= 3 and any(word[i : i + 2] in text for i in range(len(word) - 1)):
        return 0.5
    return 0.0


def _shown(chosen: Sequence[Sentence], asked: set[Aspect]) -> list[str]:
    """The chosen sentences as shown: in article order, except that for someone in danger
    the sentences of the sections answering it come first (what to do, then the rest); a
    sentence from a section debunking hearsay is introduced by that section's heading, so a
    myth is never shown as if it were advice."""
    urgent = [_CUES[a].section for a in asked & URGENT]

    def first(s: Sentence) -> bool:
        return any(c.search(s.section) or (s.label and c.search(s.label)) for c in urgent)

    ordered = sorted(chosen, key=lambda s: (not first(s), s.order))
    out: list[str] = []
    introduced: set[str] = set()
    for s in ordered:
        if s.section and _MYTH.search(s.section) and s.section not in introduced:
            introduced.add(s.section)
            out.append(f"{s.section}：")
        out.append(s.text)
    return out
