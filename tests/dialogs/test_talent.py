"""找人才 and 找成果 as an enterprise walks them: experts found by the field their words are
about (食品发酵 reaches 农产品加工 and 发酵工程, not 农机研发 for the word 研发), each with why,
and the list narrowed by what the person adds next ("要成都的", "只看专利")."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from dialogs.assistant import Assistant
from store.achievements import AchievementIn, add_achievement
from store.users import User
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat

SEVEN_DIGITS = re.compile(r"\d{7,}")


@pytest.fixture
def desk(engine: Engine, tmp_path) -> Assistant:  # type: ignore[no-untyped-def]
    return make_assistant(engine, None, tmp_path)


def register(chat: Chat, intro: str) -> None:
    assert "擅长领域" in chat.send(intro).text
    assert "登记成功" in chat.send("确认").text


def experts(desk: Assistant) -> None:
    register(
        Chat(desk, "zhang"),
        "我是眉山市农科所的，做农产品加工，眉山东坡区都能跑，电话13800000001，我叫张明",
    )
    register(
        Chat(desk, "chen"),
        "我是成都的农技员，做农产品加工和果蔬加工，成都郫都区都能跑，电话13800000002，我叫陈晓红",
    )
    register(
        Chat(desk, "li"),
        "我是广元市农机站的，做农业机械和农机研发，广元利州区都能跑，电话13800000003，我叫李志强",
    )


def test_talent_is_found_by_the_field_its_words_are_about_and_says_why(desk):
    experts(desk)
    boss = Chat(desk, "boss")
    found = boss.send("找人才 做食品发酵的 我们想合作研发").text
    assert "张明" in found and "陈晓红" in found
    assert "李志强" not in found  # 研发 is a word of the request, not what is sought
    assert re.search(r"张明[^\n]*：擅长农产品加工", found)
    assert not SEVEN_DIGITS.search(found)  # contacts stay private until an order
    assert "发布需求" in boss.buttons()


def test_a_place_said_after_the_list_narrows_it(desk):
    experts(desk)
    boss = Chat(desk, "boss")
    boss.send("找人才 食品发酵")
    narrowed = boss.send("要成都的").text
    assert "陈晓红" in narrowed and "服务四川省成都市" in narrowed
    assert "张明" not in narrowed
    assert "联系电话" not in narrowed  # a narrowing, not the need form opened
    # nobody there: said so, with the offer to post it as a need
    assert "广元" in boss.send("要广元的").text and "暂时没有找到" in boss.text
    assert "发布需求" in boss.buttons()


def test_only_patents_narrows_the_achievements_found(desk, engine):
    experts(desk)
    with Session(engine, expire_on_commit=False) as s:
        owner = s.exec(select(User).where(User.external_id == "zhang")).one()
        for data in (
            AchievementIn("猕猴桃保鲜冷藏技术", "技术", "示范", "转让", crops=("猕猴桃",)),
            AchievementIn(
                "一种猕猴桃保鲜装置", "专利", "示范", "许可", crops=("猕猴桃",), applied_in="蒲江"
            ),
        ):
            add_achievement(session=s, owner=owner, data=data)
    boss = Chat(desk, "boss")
    found = boss.send("有没有成熟的猕猴桃保鲜技术可以转让的").text
    assert "猕猴桃保鲜冷藏技术" in found  # 成熟 asks for a mature one; it is no subject word
    patents = boss.send("只看专利").text
    assert "一种猕猴桃保鲜装置" in patents and "冷藏技术" not in patents
    assert "对接 #2" in boss.buttons()
    # the owner registered in 眉山; the patent was applied in 蒲江 (成都)
    assert "一种猕猴桃保鲜装置" in boss.send("要成都的").text


def test_a_company_saying_who_it_is_after_the_offer_posts_its_need_not_a_registration(desk):
    boss = Chat(desk, "boss")
    assert "暂时没有找到相关成果" in boss.send("有没有成熟的猕猴桃保鲜技术可以转让的").text
    said = boss.send("我们是蒲江的企业").text
    assert "蒲江的企业" not in said  # a place and a kind of company is no company's name
    assert "企业名称" not in said and "主要做哪个行业" not in said  # no registration
    assert "蒲江县" in said  # the need's place, from what they said
    # asked to register, a place and a kind of company is still no name: the name is asked
    other = Chat(desk, "other")
    assert "蒲江的企业" not in other.send("我们是蒲江的企业 想登记一下").text


def test_what_can_you_do_inside_a_form_is_answered_with_the_help_and_the_form_goes_on(desk):
    boss = Chat(desk, "boss")
    boss.send("我想登记企业")
    asked = boss.text
    out = boss.send("你能做啥子").text
    assert "找专家" in out or "登记" in out
    assert "没有找到可靠的答案" not in out
    assert asked.splitlines()[-1] in out  # the same question again, to go on
