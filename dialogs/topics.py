"""Subscription topics: which topics a message names, and how "再加 / 只要 / 不要" edits the
topics being chosen."""

from __future__ import annotations

import re

from dialogs.nlu.slots import Slots, extract

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
        "科普",
    ),
    key=len,
    reverse=True,
)
_TOPIC_SPLIT = re.compile(r"[，,、;；\s和与及]+")
_TOPIC_NOISE = re.compile(
    r"/subscribe|订阅|推送|推给我|发给我|以后|有关|关于|方面|相关|的|知识|资讯|信息|文章|科普|给我|我想|想要|收到|"
    r"每周|定期|帮我|一下|东西|都|请|记得|新的|技术|我要|我们|我|吧|了"
)


def topics_from(text: str, slots: Slots) -> list[str]:
    """Topics for a subscription: crops and categories named, else the remaining keywords."""
    topics: list[str] = list(slots.crops)
    rest = text
    for word in _TOPIC_WORDS:  # longest first: 病虫害 is one topic, not 病虫害 + 虫害
        if word in rest:
            topics.append(word)
            rest = rest.replace(word, " ")
    if topics:
        return topics
    rest = _TOPIC_NOISE.sub(" ", rest)
    return [w for w in _TOPIC_SPLIT.split(rest) if len(w) >= 2][:5]


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
        return list(dict.fromkeys([*(t for t in current if t not in dropped), *added]))
    named = topics_from(text, slots)
    if _DROP.search(text):
        return [t for t in current if t not in named]
    if _ADD.search(text) or (current and not _INSTEAD.search(text)):
        # "我还想订阅地震知识" after subscribing to 柑橘: one more, not instead
        return list(dict.fromkeys([*current, *named]))
    return named
