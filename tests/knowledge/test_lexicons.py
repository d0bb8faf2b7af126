"""The domain lexicons: they load, have breadth, and every alias names exactly one thing."""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge import LEXICON_DIR
from knowledge.lexicons import Lexicon, load_lexicon

GROUPS = {"粮油", "果树", "经济作物", "蔬菜", "食用菌", "畜禽", "水产"}
KINDS = {"disease", "pest", "weed", "physiological"}
SINGLE_OK = set("稻橘柚梨桃茶猪牛羊鸡鸭鹅兔鱼")


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return load_lexicon()


def _rows(name: str) -> list[list[str]]:
    text = (LEXICON_DIR / name).read_text(encoding="utf-8")
    return [
        line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]


def _names(rows: list[list[str]], alias_col: int) -> Counter[str]:
    seen: Counter[str] = Counter()
    for row in rows:
        words = {row[0], *(a.strip() for a in row[alias_col].split(",") if a.strip())}
        seen.update(words)
    return seen


def test_files_load(lex: Lexicon) -> None:
    assert lex.crops and lex.pests_diseases and lex.symptoms and lex.practices and lex.fields


def test_crop_breadth(lex: Lexicon) -> None:
    assert len(lex.crops) >= 400
    assert len(lex.pests_diseases) >= 350


def test_every_crop_group_allowed(lex: Lexicon) -> None:
    bad = {name: t.kind for name, t in lex.crops.items() if t.kind not in GROUPS}
    assert not bad


def test_every_pest_kind_allowed_and_crops_known(lex: Lexicon) -> None:
    for name, term in lex.pests_diseases.items():
        assert term.kind in KINDS, name
        unknown = [c for c in term.crops if c not in lex.crops]
        assert not unknown, (name, unknown)


@pytest.mark.parametrize(("filename", "alias_col"), [("crops.tsv", 2), ("pests_diseases.tsv", 3)])
def test_no_alias_under_two_entries(filename: str, alias_col: int) -> None:
    twice = {w: n for w, n in _names(_rows(filename), alias_col).items() if n > 1}
    assert not twice, twice


def test_no_word_is_both_crop_and_pest(lex: Lexicon) -> None:
    assert not set(lex.crop_alias) & set(lex.pest_alias)


def test_single_character_aliases_only_from_the_allowed_list() -> None:
    for row in _rows("crops.tsv"):
        for alias in (a.strip() for a in row[2].split(",") if a.strip()):
            assert len(alias) > 1 or alias in SINGLE_OK, (row[0], alias)


@pytest.mark.parametrize(
    "word",
    [
        "菜",
        "果",
        "花",
        "头",
        "瓜",
        "豆",
        "苗",
        "树",
        "草",
        "蒜",
        "葱",
        "姜",
        "麦",
        "竹",
        "蚕",
        "马",
        "病虫草害",
    ],
)
def test_everyday_words_are_no_crop(lex: Lexicon, word: str) -> None:
    assert lex.normalise_crop(word) is None


@pytest.mark.parametrize(
    ("word", "canonical"),
    [
        # dialect names
        ("苞谷", "玉米"),
        ("洋芋", "马铃薯"),
        ("红苕", "红薯"),
        ("海椒", "辣椒"),
        ("莴笋", "莴笋"),
        ("儿菜", "儿菜"),
        ("青菜头", "榨菜"),
        ("折耳根", "鱼腥草"),
        ("胡豆", "蚕豆"),
        ("豌豆尖", "豌豆"),
        ("藤藤菜", "空心菜"),
        ("软浆叶", "木耳菜"),
        ("芋儿", "芋头"),
        ("高笋", "茭白"),
        ("洋蒜苗", "韭葱"),
        ("红萝卜", "胡萝卜"),
        # varieties named instead of the crop
        ("沃柑", "柑橘"),
        ("青脆李", "李"),
        ("红心猕猴桃", "猕猴桃"),
        ("甜玉米", "玉米"),
        ("葡萄柚", "柑橘"),
        # distinct entries, not aliases of a shorter crop
        ("洋葱", "洋葱"),
        ("大麦", "大麦"),
        ("燕麦", "燕麦"),
        ("甘蔗", "甘蔗"),
        ("甜菜", "甜菜"),
        ("菠菜", "菠菜"),
        ("豌豆", "豌豆"),
        ("香蕉", "香蕉"),
        ("芒果", "芒果"),
        ("荔枝", "荔枝"),
        ("生姜", "生姜"),
        ("西兰花", "西兰花"),
        ("芦笋", "芦笋"),
        ("竹笋", "竹笋"),
        ("银耳", "银耳"),
        ("棉花", "棉花"),
        ("胡萝卜", "胡萝卜"),
        ("萝卜", "萝卜"),
        # Sichuan herbs
        ("川芎", "川芎"),
        ("附子", "附子"),
        ("黄连", "黄连"),
        ("天麻", "天麻"),
        ("重楼", "重楼"),
        ("川贝母", "川贝母"),
        ("川贝", "川贝母"),
        ("白芷", "白芷"),
        ("麦冬", "麦冬"),
        ("党参", "党参"),
        ("丹参", "丹参"),
        ("黄精", "黄精"),
        # fungi
        ("香菇", "香菇"),
        ("平菇", "平菇"),
        ("羊肚菌", "羊肚菌"),
        ("木耳", "木耳"),
        ("白木耳", "银耳"),
        ("竹荪", "竹荪"),
        ("茶树菇", "茶树菇"),
        # trees grown for produce
        ("核桃", "核桃"),
        ("花椒", "花椒"),
        ("油茶", "油茶"),
        ("楠竹", "竹子"),
        # livestock and poultry
        ("生猪", "猪"),
        ("牦牛", "牛"),
        ("山羊", "羊"),
        ("兔", "兔"),
        ("肉鸽", "鸽子"),
        ("蚕宝宝", "家蚕"),
        # aquatic species
        ("鲤鱼", "鱼"),
        ("草鱼", "鱼"),
        ("鲫鱼", "鱼"),
        ("黄鳝", "黄鳝"),
        ("泥鳅", "泥鳅"),
        ("小龙虾", "小龙虾"),
        ("大鲵", "大鲵"),
        ("娃娃鱼", "大鲵"),
        ("甲鱼", "甲鱼"),
    ],
)
def test_must_have_crops_normalise(lex: Lexicon, word: str, canonical: str) -> None:
    assert lex.normalise_crop(word) == canonical


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("叶瘟", "稻瘟病"),
        ("穗颈瘟", "稻瘟病"),
        ("姜瘟病", "姜瘟"),
        ("魔芋软腐病", "软腐病"),
        ("猪丹毒", "猪丹毒"),
        ("小鹅瘟", "小鹅瘟"),
        ("口蹄疫", "口蹄疫"),
        ("鸡球虫病", "球虫病"),
        ("葡萄霜霉病", "霜霉病"),
        ("韭蛆", "韭蛆"),
        ("草地贪夜蛾", "草地贪夜蛾"),
        ("松材线虫", "松材线虫病"),
        ("微粒子病", "家蚕微粒子病"),
        ("沃柑褐斑病", "柑橘褐斑病"),
    ],
)
def test_must_have_pests_resolve(lex: Lexicon, alias: str, name: str) -> None:
    assert lex.pest_alias.get(alias) == name


def test_longest_alias_wins_over_animal_inside_a_plant_name() -> None:
    from dialogs.nlu.terms import find_crops

    lex = load_lexicon()
    assert find_crops("牛皮菜长虫了", lex) == ["牛皮菜"]
    assert find_crops("茶树菇出菇慢", lex) == ["茶树菇"]
    assert find_crops("折耳根怎么种", lex) == ["鱼腥草"]
