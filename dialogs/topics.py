"""Subscription topics: which topics a message names, and how "再加 / 只要 / 不要" edits the
topics being chosen."""

from __future__ import annotations

import re

from dialogs.nlu.slots import Slots, extract
from knowledge.lexicons import Lexicon, default_lexicon

_TOPIC_WORDS = sorted(
    (
        "病虫害",
        "病害",
        "虫害",
        "土壤",
        "施肥",
        "地震",
        "洪水",
        "防汛",
        "滑坡",
        "泥石流",
        "雷电",
        "健康",
        "食品安全",
        "养殖",
        "种植",
        "天气",
        "气象",
        "防灾",
        "急救",
    ),
    key=len,
    reverse=True,
)
MAX_TOPICS = 8
_TAKEN = "\x00"  # stands for words already read as a topic or a crop
_TOPIC_SPLIT = re.compile(r"[，,、;；\s和与及]+")
_TOPIC_NOISE = re.compile(
    r"/subscribe|订阅|推送|推给我|发给我|以后|有关|关于|方面|相关|的|知识|资讯|信息|文章|科普|给我|我想|想要|收到|"
    r"每周|定期|帮我|一下|一些|一点|些|东西|消息|内容|都|请|记得|新的|技术|我要|我们|我|吧|了"
)


# a kind of problem said right after a crop narrows that crop's topic: 柑橘病虫害, 水稻的施肥
# (growing or raising it is the crop's topic itself: 柑橘的种植技术 is 柑橘)
NARROWING = ("病虫害", "病害", "虫害", "施肥", "土壤")
_GROWING = ("种植", "养殖")
_JOINER = re.compile(r"(?:的|方面的?|这块的?|那些)?$")


_AND = re.compile(r"[和与及跟、]$")


def _crops_ending(text: str, lex: Lexicon) -> list[str]:
    """The canonical crops whose names *text* ends with, said together ("李子和柑橘"), in
    the order said; [] when it ends with none."""
    found: list[str] = []
    while text:
        crop = ""
        for k in (5, 4, 3, 2, 1):
            if len(text) >= k and (crop := lex.crop_alias.get(text[-k:], "")):
                text = text[:-k]
                break
        if not crop:
            break
        found.insert(0, crop)
        if not (m := _AND.search(text)):
            break
        text = text[: m.start()]
    return found


def topics_from(text: str, slots: Slots) -> list[str]:
    """Topics for a subscription: crops and categories named (a crop with the kind of problem
    said after it is one topic: 柑橘病虫害), else the remaining keywords. "科普" alone names
    no topic: everything the assistant pushes is 科普."""
    lex = default_lexicon()
    crops: list[str] = list(slots.crops)
    words: list[str] = []
    narrowed: list[str] = []  # crops said with a kind of problem (柑橘病虫害)
    rest = text
    for word in _TOPIC_WORDS:  # longest first: 病虫害 is one topic, not 病虫害 + 虫害
        at = rest.find(word)
        while at >= 0:
            before = rest[:at]
            joined = _JOINER.search(before)
            said = _crops_ending(before[: joined.start()] if joined else before, lex)
            if word in _GROWING and said:
                pass  # 柑橘的种植技术: the crop's own topic
            elif word in NARROWING and said:
                narrowed.extend(said)
                for crop in said:  # 李子和柑橘的病虫害: each crop's
                    words.append(crop + word)
                    if crop in crops and not _named_alone(rest, crop, lex):
                        crops.remove(crop)
            else:
                words.append(word)
            rest = rest[:at] + _TAKEN * len(word) + rest[at + len(word) :]
            at = rest.find(word)
    rest = _TOPIC_NOISE.sub(" ", _without_crops(rest, [*slots.crops, *narrowed], lex))
    topics = [*crops, *(w for w in words if w not in crops)]
    if not topics:
        left = [w.replace(_TAKEN, "") for w in _TOPIC_SPLIT.split(rest)]
        return list(dict.fromkeys(w for w in left if len(w) >= 2))[:5]
    # "健康 防诈骗", "安全知识和蜜蜂的": words beside the known ones that the articles speak
    # of are topics too (filler such as "那些东西" is not); words joined to a known one
    # belong to it ("地震安全" is 地震, "天气预警" 天气)
    left = [w for w in _TOPIC_SPLIT.split(rest) if len(w) >= 2 and _TAKEN not in w]
    topics += [w for w in left if keyword_known(w)]
    return list(dict.fromkeys(topics))[:MAX_TOPICS]


def _without_crops(text: str, crops: list[str], lex: Lexicon) -> str:
    """*text* with the names of *crops* (any alias said) blanked out."""
    for alias, canonical in lex.crop_alias.items():
        if canonical in crops and len(alias) > 1 and alias in text:
            text = text.replace(alias, _TAKEN * len(alias))
    for crop in crops:
        text = text.replace(crop, _TAKEN * len(crop))
    return text


def keyword_parts(topic: str) -> list[str]:
    """The words of a keyword topic that articles may contain: the topic itself and its
    words of two characters or more ("防诈骗" -> 防诈骗, 诈骗)."""
    import jieba

    return list(dict.fromkeys([topic, *(w for w in jieba.lcut(topic) if len(w) >= 2)]))


def keyword_known(topic: str) -> bool:
    """Whether the bundled articles speak of *topic* (in a title or tag)."""
    from knowledge.ingest import bundled_topic_text

    text = bundled_topic_text()
    return any(part in text for part in keyword_parts(topic))


def _named_alone(text: str, crop: str, lex: Lexicon) -> bool:
    """Whether *crop* is also named once without a narrowing word ("柑橘和柑橘病虫害")."""
    count = 0
    for alias, canonical in lex.crop_alias.items():
        if canonical == crop and len(alias) > 1:
            count += text.count(alias)
    return count > 1


def parts(topic: str) -> tuple[str, str]:
    """(crop, kind of problem) of a narrowed topic (柑橘病虫害 -> 柑橘, 病虫害); else
    (topic, "")."""
    for word in NARROWING:
        if topic.endswith(word) and len(topic) > len(word):
            crop = topic[: -len(word)]
            if default_lexicon().normalise_crop(crop):
                return crop, word
    return topic, ""


def covers(named: str, topic: str) -> bool:
    """Whether dropping *named* drops the followed *topic*: the same topic, or the crop or
    the kind of problem of a narrowed one ("柑橘的不要了" drops 柑橘病虫害)."""
    if named == topic:
        return True
    crop, word = parts(topic)
    return bool(word) and named in (crop, word)


_ADD = re.compile(r"再加|还要|也要|加上|另外|加个|加一个|再订")
_ONLY = re.compile(r"只要|只订|就要")
_SWAP = re.compile(r"换成|改成|改为|换为")
_DROP = re.compile(r"不要了?|去掉|删掉|取消|不订")


def edits_topics(text: str, *, dropping: bool = True) -> bool:
    """ "再加个养鸡的", "只要猪", "换成防灾", "鸡的不要了" (unless not *dropping*): the message
    changes the topics being chosen."""
    drops = dropping and _DROP.search(text)
    return bool(_ADD.search(text) or _ONLY.search(text) or _SWAP.search(text) or drops)


# "不对 是脐橙", "写错了 应该是猪": the topics named replace the ones being chosen
_INSTEAD = re.compile(r"^\s*(?:不对|不是|错了|应该是|更正)|写错|说错|打错|搞错")


def edit_topics(current: list[str], text: str, slots: Slots) -> list[str]:
    """The subscription topics after "再加个养鸡的", "养鸡的不要了 只要猪" or a first answer."""
    if m := _ONLY.search(text):
        return topics_from(text[m.end() :], extract(text[m.end() :])) or current
    if m := _SWAP.search(text):  # "不要健康的了 换成防灾": 健康 goes, 防灾 comes; "换成防灾": all
        before, after = text[: m.start()], text[m.end() :]
        added = topics_from(after, extract(after))
        if not added:
            return current
        dropped = topics_from(before, extract(before)) if _DROP.search(before) else current
        kept = (t for t in current if not any(covers(d, t) for d in dropped))
        return list(dict.fromkeys([*kept, *added]))
    named = topics_from(text, slots)
    if _DROP.search(text):
        return [t for t in current if not any(covers(n, t) for n in named)]
    if _ADD.search(text) or (current and not _INSTEAD.search(text)):
        # "我还想订阅地震知识" after subscribing to 柑橘: one more, not instead
        return list(dict.fromkeys([*current, *named]))
    return named
