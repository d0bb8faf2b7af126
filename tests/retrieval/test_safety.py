"""The pesticide guard reads text: a product named to forbid it is no recommendation."""

from __future__ import annotations

import pytest

from knowledge.pesticides import default_guard
from retrieval.safety import PesticideGuard, parse_rules

PROHIBITIONS = [
    "蔬菜上禁止使用毒死蜱、三唑磷、氧乐果、克百威等农药，不要图便宜乱用。",
    "- 茶园严禁使用国家禁止在茶树上使用的农药，如氰戊菊酯、水胺硫磷、乙酰甲胺磷、乐果、氧乐果等。",
    "绝对不要为了省事使用甲拌磷、克百威、涕灭威等高毒农药。",
    "百草枯水剂在我国早已禁止在境内销售和使用。",
    "甲胺磷、对硫磷这些药，国家早就禁了。",
    "误服百草枯要立即送医。",
    "播油菜前灭茬用啥子药，百草枯还能用不？",
]
RECOMMENDATIONS = [
    ("防治柑橘红蜘蛛可用克百威颗粒剂每亩2公斤沟施。", (), "克百威"),
    ("用甲胺磷1000倍液喷雾效果好。", (), "甲胺磷"),
    ("不要用敌敌畏，用甲胺磷效果好。", (), "甲胺磷"),
    ("蚜虫多时喷氧化乐果。", ("白菜",), "氧乐果"),  # an alias, the crop from the context
    ("田边杂草用克无踪一喷就干净。", (), "百草枯"),
]


@pytest.mark.parametrize("text", PROHIBITIONS)
def test_a_prohibition_or_warning_is_not_a_recommendation(text: str) -> None:
    assert default_guard().violations(text, ("白菜", "柑橘", "茶")) == []


@pytest.mark.parametrize(("text", "crops", "product"), RECOMMENDATIONS)
def test_a_recommendation_of_a_banned_product_is_found(
    text: str, crops: tuple[str, ...], product: str
) -> None:
    found = default_guard().violations(text, crops)
    assert [f.rule.name for f in found] == [product]


def test_a_restricted_product_is_a_violation_only_on_the_crops_it_is_banned_on() -> None:
    guard = default_guard()
    text = "螟虫发生时用毒死蜱兑水喷雾。"
    assert guard.violations(text, ("水稻",)) == []  # banned on vegetables, not on rice
    assert [f.crops for f in guard.violations(text, ("辣椒",))] == [("辣椒",)]
    # a crop named in the sentence counts too
    assert guard.violations("白菜蚜虫用毒死蜱兑水喷雾。")[0].crops == ("白菜",)


def test_scrub_keeps_the_rest_of_the_text() -> None:
    text = "先清园。用甲胺磷1000倍液喷雾效果好。再剪掉病枝。"
    assert default_guard().scrub(text) == "先清园。再剪掉病枝。"


def test_longest_name_wins_and_digits_are_not_read_inside_numbers() -> None:
    guard = default_guard()
    assert [r.name for r in guard.mentions("乙酰甲胺磷和甲基对硫磷")] == [
        "乙酰甲胺磷",
        "甲基对硫磷",
    ]
    assert guard.mentions("电话 13916050000") == []
    assert [r.name for r in guard.mentions("以前有人用1605")] == ["对硫磷"]


def test_the_ban_is_explained_with_its_notice_crops_and_alternatives() -> None:
    guard = default_guard()
    text = guard.explain(guard.asked_about("柑橘上能打克百威吗"), ["柑橘"])
    assert "克百威" in text and "瓜果" in text and "柑橘在禁用范围内" in text
    assert "禁限用农药名录" in text and "可以改用" in text
    everywhere = guard.explain(guard.asked_about("百草枯还能用不"))
    assert "任何作物上都不能用" in everywhere and "草铵膦" in everywhere
    assert "1745号" in everywhere
    elsewhere = guard.explain(guard.asked_about("玉米能用克百威吗"), ["玉米"])
    assert "玉米不在这个禁用范围内" in elsewhere
    # someone poisoned needs first aid, not the ban
    assert guard.asked_about("孩子误服了百草枯怎么办") == []


def test_bad_rows_are_refused_with_the_product_named() -> None:
    with pytest.raises(ValueError, match="甲胺磷: status"):
        parse_rules([["甲胺磷", "", "forbidden", "all", "公告", ""]])
    with pytest.raises(ValueError, match="notice are required"):
        parse_rules([["甲胺磷", "", "banned", "all", "", ""]])
    guard = PesticideGuard(
        parse_rules([["甲胺磷", "", "banned", "all", "公告", "吡虫啉"]]), {}, {}
    )
    assert len(guard) == 1 and guard.mentions("甲胺磷") == list(guard.rules)


def test_an_extract_never_keeps_a_sentence_recommending_a_banned_product(tmp_path) -> None:
    from retrieval.answer import answer
    from retrieval.factory import open_index
    from retrieval.index import Document
    from retrieval.tokenizer import shared_tokenizer
    from tests.conftest import ephemeral_client

    index = open_index("s", data_dir=tmp_path, client=ephemeral_client())
    body = (
        "柑橘红蜘蛛防治措施：冬季清园喷石硫合剂。发生初期用克百威颗粒剂沟施效果好。"
        "虫口多时选用螺螨酯、乙螨唑等在柑橘上登记的杀螨剂，轮换用药。"
    )
    index.sync(
        [
            Document(
                "old",
                body,
                title="柑橘红蜘蛛防治",
                metadata={"title": "柑橘红蜘蛛防治", "crops": ["柑橘"]},
            )
        ]
    )
    tk = shared_tokenizer()
    unguarded = answer(index, "柑橘红蜘蛛怎么防治", tk)
    guarded = answer(index, "柑橘红蜘蛛怎么防治", tk, guard=default_guard())
    assert unguarded.answered and "克百威" in unguarded.text  # the text really is in the extract
    assert guarded.answered and "克百威" not in guarded.text and "螺螨酯" in guarded.text
