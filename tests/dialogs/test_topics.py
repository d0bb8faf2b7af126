"""Subscription topics as people say them: 科普 alone is no topic, a crop with the kind of
problem after it is one topic, and a topic goes by any of the words it was made of."""

from __future__ import annotations

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
