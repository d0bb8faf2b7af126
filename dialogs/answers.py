"""Free-text answers to a form's questions: names, units, titles and skills in people's own
words, and the none / don't-know answers that leave an optional slot empty."""

from __future__ import annotations

import re

from dialogs.nlu.intents import is_question_shaped
from dialogs.nlu.masks import mask_terms
from dialogs.nlu.people import looks_like_name
from dialogs.nlu.regions import find_mentions

# "没有预算", "不晓得好多钱", "没得单位": a short none / don't-know answer to an optional slot
NONE_ANSWER = re.compile(
    r"^\s*(?:我|我们)?(?:单位|职称|预算|作物|名字|钱)?(?:暂时|这个|那个|也|都|就)?(?:没有|没得|莫得|无|不知道|不晓得|不清楚|说不好|还没想好|不是|不涉及|"
    r"没种|随便|都行|都可以|看着给|看专家|钱好说|好商量|面议)[\u4e00-\u9fff\s，,]{0,14}[。!！]?\s*$"
)

# "自己干的 没单位", "没评过职称", "单位嘛没得": the slot itself said to be empty
NO_SUCH = re.compile(
    r"(?:没|无|莫得|不在)(?:有|得)?(?:啥子?|什么|任何)?(?:工作)?(?:单位|职称)|"
    r"(?:单位|职称)\s*(?:嘛|呢|的话)?\s*(?:没有|没得|莫得|无|都没)|[没未]评(?:过|上)?(?:职称)?"
)


def says_none(text: str) -> bool:
    """A none / don't-know answer to an optional question."""
    return bool(NONE_ANSWER.match(text) or (NO_SUCH.search(text) and len(text) <= 20))


NAME_FIX = re.compile(r"(?:名字|称呼|姓名).{0,6}?(?:是|叫|为|成)\s*([\u4e00-\u9fff]{2,3})\s*$")
# "没有职称", "四川农业大学": an answer to another question, not a name
NOT_A_NAME = re.compile(
    r"^(?:没有|没得|莫得|不|无)|职称|单位|大学|学院|站|所|公司|合作社|农场|错|不对|改|名字|姓名"
)
# "专家", "农民": who they are, not what to call them
ROLE_WORD = re.compile(r"专家|老师|农民|农户|技术员|兽医|师傅|我|本人|自己|种地的|养殖户")
_ANSWER_LEAD = {
    "name": re.compile(
        r"^(?:我叫|我是|叫我|我姓|(?:我的)?(?:姓名|名字)(?:是|叫)?|称呼我?|就叫|叫)\s*"
    ),
    "organisation": re.compile(r"^(?:单位是?|我在|在|是|我是)\s*"),
    "title": re.compile(r"^(?:职称是?|我是|是)\s*"),
}


def name_answer(text: str) -> str:
    """ "我姓周 周永红" -> 周永红; "叫我老周就行" -> 老周; "王芳" -> 王芳."""
    parts = [p for p in re.split(r"[，,。\s]+", text.strip()) if p]
    named = [p for p in parts if looks_like_name(p)]
    if named:
        return named[-1]
    return re.sub(r"(?:就行|就可以|就好|吧|嘛)$", "", answer(text, "name"))


def answer(text: str, slot: str) -> str:
    """A free-text answer without its lead-in words and trailing punctuation."""
    value = _ANSWER_LEAD[slot].sub("", text.strip())
    return value.strip(" ，,。.!！~")


# "主要是大棚蔬菜", "擅长嫁接", "会看蔬菜病虫害": the lead-in is no part of the skill
_TERM_LEAD = re.compile(
    r"^(?:我|本人)?(?:主要是?|主要做|擅长|专长|特长|会看|我会|会|懂|熟悉|做|搞|弄|看|还有|以及|也|"
    r"从事|研究方向|研究领域|研究|专业|方向|领域|是|为|[:：])+"
    r"(?:一?点|一?些)?"
)
# "蔬菜病虫害都能看", "果树这块": what is said about the skill after naming it
_TERM_TAIL = re.compile(
    r"(?:方面|这块|这一块|之类|这些|等等?)?的?(?:都|也|还)?(?:能|会|可以)?"
    r"(?:看|做|搞|弄|懂)?(?:得来|得了)?(?:的|了|哈|嘛|吧|噻)*$"
)
# "搞了二十多年了", "其他的也懂点": talk about the skills, not a skill
_CHATTER = re.compile(r"\d|年|了|也|点|都|其他|什么|啥|一些|这些|那些|可以|能")


def _skill_words(word: str) -> str:
    return _TERM_TAIL.sub("", _TERM_LEAD.sub("", word.strip(" ，,。.!！~")))


def terms(text: str) -> list[str]:
    words = (_skill_words(w) for w in re.split(r"[，,、;；：:\s和与及]+", text))
    return [
        w
        for w in words
        if 2 <= len(w) <= 16 and not _CHATTER.search(w) and not NONE_ANSWER.match(w)
    ][:8]


def own_skill(text: str) -> list[str]:
    """An answer to "您擅长哪些领域" that neither the lexicon nor the word split could use
    ("会看点蔬菜的病虫害"): kept whole, in the expert's own words, rather than asked again."""
    words = _skill_words(text)
    if not 2 <= len(words) <= 24 or re.search(r"\d", words) or says_none(words):
        return []
    if is_question_shaped(words) or not re.search(r"[\u4e00-\u9fff]{2}", words):
        return []
    return [words]


# "我是专家 会看蔬菜病虫害": a clause led by 会 / 擅长 / 搞 names a skill even before it is asked
_SKILL_CUE = re.compile(
    r"^(?:我|本人)?是?(?:主要)?(?:擅长|专长|特长|会看|会|懂|熟悉|搞|做|从事|研究方向|研究领域|研究|专业)"
)


def cued_skills(text: str) -> list[str]:
    clauses = re.split(r"[，,。；;\s]+", text)
    return [w for c in clauses if _SKILL_CUE.match(c) for w in terms(c)][:8]


def joined_skills(text: str, skills: list[str]) -> list[str]:
    """ "搞果树病虫害和土壤改良的" with 土壤改良 known: the skills joined to a known one by
    和 / 、 / 及 in the same clause, each kept in the expert's words (a bare crop or place
    joined there is no skill of its own)."""
    out: list[str] = []
    for clause in re.split(r"[，,。；;\s]+", text):
        if not re.search(r"[和与及、]", clause) or not any(f in clause for f in skills):
            continue
        for word in terms(clause):
            if any(word in f or f in word for f in [*skills, *out]):
                continue
            left = re.sub(r"[\u3000\s的]", "", mask_terms(unplaced(word)))
            if len(left) >= 2 and not is_question_shaped(word):
                out.append(word)
    return out


def unplaced(text: str) -> str:
    """*text* without its places and phone numbers (what is left may be a skill)."""
    masked = mask_terms(text)
    for mention in sorted(find_mentions(masked), key=lambda m: -m.start):
        text = text[: mention.start] + " " + text[mention.start + len(mention.text) :]
    # "联系电话：" left by its number is a label, no skill
    text = re.sub(r"[\d\-－ ]{7,}", " ", text)
    return _AREA_TALK.sub(
        " ",
        re.sub(
            r"(?:联系)?(?:电话|手机)(?:号码?)?[:：是]?(?=\s|$)|(?:服务(?:区域|地区|范围|区)?|在)[:：]?(?=\s|$)",
            " ",
            text,
        ),
    )


# what is said of places once they are taken out: "两个区", "这几个县都可以", "一带", "周边"
_AREA_TALK = re.compile(
    r"(?:这|那)?(?:[一二两三四五六七八九十几\d]+个)?(?:区县|区|县|市|乡镇|镇|乡|地方)(?:都(?:可以|行|能去|跑))?"
    r"(?=\s|$)|一带|周边|附近"
)
