"""找人才 · 找技术 · 找成果 behave alike: asked what is sought when nothing is said, then the
matches with how to get in touch (post a need / 对接)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from dialogs.assistant import Assistant
from dialogs.lookups import ACHIEVEMENT, TALENT, TECH, entry_of
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat
from tests.dialogs.test_enterprise import SEVEN_DIGITS, achievements_of_zhang


@pytest.fixture
def desk(engine: Engine, tmp_path) -> Assistant:  # type: ignore[no-untyped-def]
    return make_assistant(engine, None, tmp_path)


ASKED = {TALENT: "哪方面的人才", TECH: "什么技术", ACHIEVEMENT: "哪方面的科技成果"}


@pytest.mark.parametrize(
    ("text", "kind", "subject"),
    [
        ("找人才", TALENT, ""),
        ("找技术", TECH, ""),
        ("找成果", ACHIEVEMENT, ""),
        ("我想找一下科技成果", ACHIEVEMENT, ""),
        ("找人才 食品发酵方向", TALENT, "食品发酵方向"),
        ("找技术：柑橘保鲜", TECH, "：柑橘保鲜"),
        ("/talent 农业机械", TALENT, "农业机械"),
        ("找技术看看有没有", TECH, ""),
    ],
)
def test_the_three_entries_are_read_alike(text: str, kind: str, subject: str) -> None:
    entry = entry_of(text)
    assert entry is not None and (entry.kind, entry.subject) == (kind, subject)


def test_a_need_is_no_entry() -> None:
    assert entry_of("我们公司泡菜发酵工艺不稳定，想找专家改进") is None


@pytest.mark.parametrize("kind", [TALENT, TECH, ACHIEVEMENT])
def test_each_entry_asks_what_is_sought_then_shows_matches_with_how_to_get_in_touch(
    desk, engine, kind: str
) -> None:  # type: ignore[no-untyped-def]
    achievements_of_zhang(desk, engine)
    boss = Chat(desk, "boss")
    word = {TALENT: "找人才", TECH: "找技术", ACHIEVEMENT: "找成果"}[kind]
    out = boss.send(word)
    assert ASKED[kind] in out.text and len(out.replies) == 1
    subject = "农业机械" if kind == TALENT else "柑橘保鲜"
    out = boss.send(subject)
    assert "张明" in out.text and not SEVEN_DIGITS.search(out.text)  # names, never contacts
    if kind == TALENT:
        assert "发布需求" in boss.buttons()  # in touch through a need they accept
    else:
        assert "柑橘采后保鲜技术" in out.text and any(b.startswith("对接") for b in boss.buttons())


def test_a_technology_no_achievement_offers_comes_from_the_experts(desk, engine) -> None:  # type: ignore[no-untyped-def]
    achievements_of_zhang(desk, engine)
    out = Chat(desk, "boss").send("找技术 果蔬加工")
    assert "张明" in out.text and "专家和团队" in out.text


def test_a_cancel_after_the_question_ends_it(desk) -> None:  # type: ignore[no-untyped-def]
    boss = Chat(desk, "boss")
    boss.send("找成果")
    assert boss.send("算了").text == "好的，有需要随时找我。"
    assert "哪方面" not in boss.send("稻瘟病怎么防治").text


def test_an_entry_right_after_a_list_opens_it_and_narrows_nothing(desk, engine) -> None:  # type: ignore[no-untyped-def]
    """ "找技术" after an achievement list names the kind 技术 but asks for the technology
    entry: what technology is sought (was "按技术筛选后没有了")."""
    achievements_of_zhang(desk, engine)
    boss = Chat(desk, "boss")
    boss.send("找成果")
    boss.send("柑橘保鲜")
    out = boss.send("找技术")
    assert ASKED[TECH] in out.text and "筛选" not in out.text
    out = boss.send("柑橘保鲜")
    assert "柑橘采后保鲜技术" in out.text
