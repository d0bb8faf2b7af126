"""The knowledge gap with the wordings of one question counted together (dialogs.gaps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialogs.gaps import content, grouped, same_gap
from store.feedback import GapRow

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def row(text: str, n: int, kind: str = "unanswered", minutes: int = 0) -> GapRow:
    return GapRow(kind, text, n, T0 + timedelta(minutes=minutes))


def test_content_words_are_canonical_and_without_fillers() -> None:
    assert {"马铃薯", "火星"} <= content("火星能种洋芋不")
    assert "咋个" not in content("核桃咋个嫁接") and "核桃" in content("核桃咋个嫁接")
    assert content("稻子飞虱打啥子药") >= {"稻飞虱"}


def test_same_pest_or_most_words_make_one_gap() -> None:
    assert same_gap(content("稻飞虱多得很咋办"), content("稻子飞虱打啥子药"))
    assert same_gap(content("火星上能种土豆吗"), content("火星能种洋芋不"))
    assert same_gap(content("微信密码忘了咋个找回"), content("微信密码找不回来了"))
    # one crop, two different questions about it
    assert not same_gap(content("核桃咋个嫁接"), content("核桃咋个施肥"))
    assert not same_gap(content("柑橘修剪"), content("柑橘施肥"))


def test_grouped_adds_counts_and_keeps_the_other_wordings() -> None:
    rows = [
        row("黄龙病有得治没得", 2, minutes=5),
        row("柑橘黄龙病咋个治", 3, minutes=1),
        row("核桃咋个嫁接", 4),
        row("黄龙病有得治没得", 1, kind="unhelpful"),
        GapRow("article", "柑橘黄龙病的识别与防控", 2, T0, article_id="hort-citrus-hlb"),
    ]
    out = grouped(rows, limit=10)
    head = out[0]
    assert (head.kind, head.text, head.count) == ("unanswered", "柑橘黄龙病咋个治", 5)
    assert head.variants == ("黄龙病有得治没得",) and head.last_at == T0 + timedelta(minutes=5)
    assert [(g.kind, g.text, g.count) for g in out[1:]] == [
        ("unanswered", "核桃咋个嫁接", 4),
        ("article", "柑橘黄龙病的识别与防控", 2),
        ("unhelpful", "黄龙病有得治没得", 1),  # another kind of gap stays its own line
    ]
    assert grouped(rows, limit=1) == [head]
