"""The crop slot is shown under the word for what it names: a pig or a fish is no 作物."""

from __future__ import annotations

import pytest

from dialogs.nlu.terms import label_key
from tests.dialogs.chat import Chat


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("我家的猪这几天不吃食 发烧 想请兽医来看看 在三台县 电话13800001234", "· 养殖对象：猪"),
        ("塘里的草鱼浮头 死了好几条 求技术员来看 在隆昌 电话13800001234", "· 养殖对象：鱼"),
        ("香菇菌棒长绿霉 想找专家来看看 在青川县 电话13800001234", "· 食用菌：香菇"),
        ("柑橘叶子发黄 想找专家来看看 在合江县 电话13800001234", "· 作物：柑橘"),
    ],
)
def test_a_need_says_what_it_is_about_in_the_right_word(chat: Chat, text: str, line: str) -> None:
    out = chat.send(text)
    if "预算" in out.text and "请确认" not in out.text:
        out = chat.send("跳过")
    assert line in out.text
    if not line.startswith("· 作物"):
        assert "· 作物：" not in out.text


def test_the_word_follows_what_the_crops_are() -> None:
    assert label_key("crops", ["猪", "水稻"]) == "field_crops_mixed"
    assert label_key("crops", ["兔"]) == "field_crops_animal"
    assert label_key("crop", "平菇") == "field_crop_fungus"
    assert label_key("crop", "玉米") == "field_crop"
    assert label_key("phone", "13800001234") == "field_phone"
