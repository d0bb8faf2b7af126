"""The banned-pesticide list loads, covers the national list, and every article passes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import CORPUS_DIR, LEXICON_DIR
from knowledge.ingest import add_article, ingest
from knowledge.loader import ArticleError, article_files, load_articles
from knowledge.pesticides import article_error, default_guard, load_guard
from retrieval.factory import open_index
from tests.conftest import ephemeral_client

# 禁限用农药名录 (2019) plus 农业农村部公告第536号 (2022)
NATIONAL_BANNED = (  # noqa: SIM905 - the list reads as the notice prints it
    "六六六 滴滴涕 毒杀芬 二溴氯丙烷 杀虫脒 二溴乙烷 除草醚 艾氏剂 狄氏剂 汞制剂 砷类 铅类 敌枯双 "
    "氟乙酰胺 甘氟 毒鼠强 氟乙酸钠 毒鼠硅 甲胺磷 对硫磷 甲基对硫磷 久效磷 磷胺 苯线磷 地虫硫磷 "
    "甲基硫环磷 磷化钙 磷化镁 磷化锌 硫线磷 蝇毒磷 治螟磷 特丁硫磷 氯磺隆 胺苯磺隆 甲磺隆 福美胂 "
    "福美甲胂 三氯杀螨醇 林丹 硫丹 溴甲烷 氟虫胺 杀扑磷 百草枯 2,4-滴丁酯 甲拌磷 甲基异柳磷 "
    "水胺硫磷 灭线磷"
).split()
RESTRICTED = {
    "克百威": "瓜果",
    "氧乐果": "蔬菜",
    "灭多威": "茶叶",
    "涕灭威": "中草药材",
    "毒死蜱": "蔬菜",
    "三唑磷": "蔬菜",
    "丁酰肼": "花生",
    "乙酰甲胺磷": "菌类",
    "丁硫克百威": "瓜果",
    "乐果": "茶叶",
    "氰戊菊酯": "茶叶",
    "氟苯虫酰胺": "水稻",
}


def test_the_list_covers_the_national_bans_with_notices_and_alternatives() -> None:
    guard = default_guard()
    by_name = {r.name: r for r in guard.rules}
    assert len(NATIONAL_BANNED) == 50
    for name in NATIONAL_BANNED:
        rule = by_name[name]
        assert rule.status == "banned" and rule.everywhere, name
        assert "公告" in rule.notice or "名录" in rule.notice, name
        assert rule.alternatives, name
    for name, crop_class in RESTRICTED.items():
        assert crop_class in by_name[name].classes, name
    assert by_name["氟虫腈"].everywhere  # every crop, seed coating excepted
    assert "种子包衣" in by_name["氟虫腈"].note


def test_crops_fall_in_the_notices_classes() -> None:
    guard = default_guard()
    assert "瓜果" in guard.classes_of("柑橘") and "瓜果" in guard.classes_of("西瓜")
    assert "蔬菜" in guard.classes_of("辣椒") and "茶叶" in guard.classes_of("茶")
    assert "中草药材" in guard.classes_of("天麻") and "菌类" in guard.classes_of("香菇")
    assert guard.classes_of("玉米") == frozenset()


def test_a_broken_list_is_refused_with_file_and_line(tmp_path: Path) -> None:
    for name in ("crop_classes.tsv",):
        (tmp_path / name).write_text((LEXICON_DIR / name).read_text(encoding="utf-8"))
    (tmp_path / "banned_pesticides.tsv").write_text("甲胺磷\t\tbanned\t果蔬\t公告\t吡虫啉\n")
    with pytest.raises(ValueError, match=r"banned_pesticides.tsv:1: unknown crop class '果蔬'"):
        load_guard(tmp_path)
    (tmp_path / "crop_classes.tsv").write_text("瓜果\t@果树,火星果\n")
    with pytest.raises(ValueError, match=r"crop_classes.tsv:1: unknown crop '火星果'"):
        load_guard(tmp_path)


def test_no_article_in_the_corpus_recommends_a_banned_product() -> None:
    loaded = load_articles(article_files(CORPUS_DIR))
    guard = default_guard()
    assert [str(e) for a in loaded.articles if (e := article_error(a, guard))] == []


ARTICLE = """---
id: local-citrus-mite-bad
title: 柑橘红蜘蛛土办法
category: pest
audience: [farmer]
crops: [柑橘]
questions: [柑橘红蜘蛛咋个治, 红蜘蛛用啥药]
source: 一位果农的经验
updated: 2026-11-30
---
柑橘红蜘蛛在春秋两季发生多，叶片失绿发白，严重时大量落叶，要早发现早防治。先做好清园，剪掉病虫枝和徒长枝，冬季喷一次石硫合剂，压低越冬虫口基数。发生初期注意观察叶背，每叶有虫两三头时开始防治。{advice}同时保护捕食螨、瓢虫、草蛉等天敌，果园行间生草也能稳定天敌数量，减少用药次数，降低成本。药剂要轮换使用，防止产生抗药性，采果前注意安全间隔期，一般不少于二十天，具体以标签为准。
"""


def test_an_upload_recommending_a_banned_product_is_refused(tmp_path: Path) -> None:
    index = open_index("t", data_dir=tmp_path, client=ephemeral_client())
    overlay = tmp_path / "overlay"
    bad = ARTICLE.format(advice="最管用的是克百威颗粒剂，每亩两公斤沟施，效果好。")
    with pytest.raises(ArticleError, match="克百威") as err:
        add_article(index, bad.encode(), overlay=overlay)
    assert err.value.line == 11
    assert not overlay.exists() and len(index) == 0
    # the same article warning against it is welcome
    good = ARTICLE.format(advice="柑橘上禁止使用克百威、氧乐果等高毒农药，可选螺螨酯、乙螨唑。")
    article = add_article(index, good.encode(), overlay=overlay)
    assert index.search("柑橘红蜘蛛土办法", k=1)[0].doc_id == article.id
    assert index.remove([article.id]) == 1 and len(index) == 0


def test_ingest_refuses_an_article_recommending_a_banned_product(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "bad.md").write_text(
        ARTICLE.format(advice="用甲胺磷1000倍液喷雾效果好。"), encoding="utf-8"
    )
    index = open_index("t", data_dir=tmp_path, client=ephemeral_client())
    report = ingest(index, folder, progress=False)
    assert report.loaded == 0 and len(index) == 0
    assert "甲胺磷" in report.errors[0].reason and report.errors[0].line == 11
