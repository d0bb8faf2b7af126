"""Subscription topics as people say them: 科普 alone is no topic, a crop with the kind of
problem after it is one topic, and a topic goes by any of the words it was made of."""

from __future__ import annotations

from typing import Any

import pytest

from dialogs.nlu.slots import extract
from dialogs.push import Catalogue
from dialogs.topics import covers, topics_from
from tests.dialogs.chat import Chat
from tests.dialogs.test_push import entry, topics


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("订阅科普", []),
        ("我想订阅一些科普知识", []),
        ("订阅柑橘病虫害", ["柑橘病虫害"]),
        ("脐橙的病虫害方面推给我", ["柑橘病虫害"]),
        ("订阅水稻施肥 还有地震", ["水稻施肥", "地震"]),
        ("以后有李子和柑橘的病虫害知识推送给我", ["李病虫害", "柑橘病虫害"]),
        ("柑橘的种植技术有推送没", ["柑橘"]),  # growing it is the crop's own topic
        ("订阅柑橘 病虫害", ["柑橘", "病虫害"]),  # said apart: two topics
        ("订阅花椒 生猪 还有天气", ["花椒", "猪", "天气"]),
        # words beside the known topics that the articles speak of are topics too
        ("天气预警 健康 防诈骗", ["健康", "天气", "防诈骗"]),
        ("订阅安全知识和蜜蜂的", ["蜜蜂", "安全"]),
        ("地震和网络安全", ["地震", "网络安全"]),
        # ... filler is not, and a word joined to a known topic belongs to it
        ("订阅柑橘那些东西", ["柑橘"]),
        ("订阅 地震安全", ["地震"]),
        ("茶叶和防灾减灾的知识推给我", ["茶", "防灾"]),
    ],
)
def test_topics_as_said(text: str, want: list[str]) -> None:
    assert topics_from(text, extract(text)) == want


def test_a_narrowed_topic_goes_by_its_crop_or_its_kind_of_problem() -> None:
    assert covers("柑橘", "柑橘病虫害") and covers("病虫害", "柑橘病虫害")
    assert covers("柑橘病虫害", "柑橘病虫害")
    assert not covers("水稻", "柑橘病虫害") and not covers("柑橘", "柑橘施肥x")


def test_a_narrowed_topic_pushes_that_crops_articles_of_that_kind_only() -> None:
    catalogue = Catalogue.from_metadata(
        [
            entry("citrus-canker", crops=["柑橘"], category="disease"),
            entry("citrus-pruning", crops=["柑橘"], category="cultivation"),
            entry("rice-blast", crops=["水稻"], category="disease"),
        ]
    )
    found = {catalogue.entries[i].id for i in catalogue.matches("柑橘病虫害")}
    assert found == {"citrus-canker"}
    assert {catalogue.entries[i].id for i in catalogue.matches("柑橘")} == {
        "citrus-canker",
        "citrus-pruning",
    }


def test_subscribing_to_science_in_general_asks_which_topics(chat: Chat) -> None:
    out = chat.send("订阅科普")
    assert "想订阅哪些方面的科普" in out.text and "科普" not in topics(chat)
    assert chat.send("天气和健康").text.startswith("已订阅：健康、天气。")


def test_one_topic_goes_in_natural_words(chat: Chat) -> None:
    chat.send("订阅柑橘病虫害 还有天气")
    chat.send("确认")
    assert sorted(topics(chat)) == ["天气", "柑橘病虫害"]
    out = chat.send("别给我推天气了")
    assert "已退订：天气" in out.text and topics(chat) == ["柑橘病虫害"]
    out = chat.send("柑橘那个也不用推了")
    assert "已退订" in out.text and topics(chat) == []  # the last one: nothing left


def test_a_keyword_topic_pushes_articles_on_any_of_its_words() -> None:
    catalogue = Catalogue.from_metadata(
        [
            entry("telecom-fraud", title="识破电信诈骗", category="science"),
            entry("rice-blast", crops=["水稻"], category="disease"),
        ]
    )
    found = {catalogue.entries[i].id for i in catalogue.matches("防诈骗")}
    assert found == {"telecom-fraud"}


DOUBTFUL = "我订阅了啥"


def test_a_doubtful_stop_of_every_push_is_asked_first(chat: Chat, monkeypatch) -> None:
    """Words the intent model only leans to read as "unsubscribe" ("我订阅了啥") never drop
    every topic at once: the person is asked, and keeps them with 不用了."""
    from dataclasses import replace

    from dialogs.assistant import Assistant
    from dialogs.nlu.intents import Intent

    real = Assistant.understand

    def leaning(self: Assistant, text: str, turn: Any = None) -> Any:
        parse = real(self, text, turn)
        if text != DOUBTFUL:
            return parse
        return replace(parse, intent=Intent.UNSUBSCRIBE, confidence=0.4, command=None)

    monkeypatch.setattr(Assistant, "understand", leaning)
    chat.send("订阅柑橘病虫害 还有地震")
    chat.press("确认")
    out = chat.send("我订阅了啥")
    assert topics(chat) == ["柑橘病虫害", "地震"]
    assert "柑橘病虫害、地震" in out.text
    assert chat.buttons() == ["全部退订", "不用了"]
    chat.press("不用了")
    assert topics(chat) == ["柑橘病虫害", "地震"]
    chat.send("我订阅了啥")
    assert "已退订全部" in chat.press("全部退订").text and topics(chat) == []
    # said plainly, it is done at once
    chat.send("订阅地震")
    chat.press("确认")
    assert "已退订全部" in chat.send("以后不要再给我推送了").text
