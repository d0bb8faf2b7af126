"""What enterprises, teams and achievements say, read into slots (no database)."""

from __future__ import annotations

import pytest

from dialogs.achievements import dock_command
from dialogs.actions import Act, Action, parse_action
from dialogs.nlu import enterprise as ent
from store.achievements import read_kind, read_maturity, read_mode, read_price


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ("我们是眉山东坡泡菜食品有限公司，想登记", "眉山东坡泡菜食品有限公司"),
        ("达州巴山农机制造厂", "达州巴山农机制造厂"),
        ("公司想改进工艺", ""),
        ("你好 我们是眉山的一家泡菜厂 想找懂发酵的专家", ""),  # what it is, not its name
    ],
)
def test_company_name(text: str, company: str) -> None:
    assert ent.company_name(text) == company


def test_needs_of_enterprises() -> None:
    assert ent.speaks_for_enterprise("我们厂的生产线老出问题")
    assert not ent.speaks_for_enterprise("我家李子树流胶")
    assert ent.speaks_for_enterprise("我们是眉山的一家泡菜厂 想找懂发酵的专家")
    assert ent.service_kind("想做一批花椒的农残检测") == "testing"
    assert ent.service_kind("泡菜发酵工艺不稳定") == "process"
    assert ent.service_kind("想上一条自动化分选线") == "equipment"
    assert ent.deadline("预算10万，三个月内") == "三个月内"
    assert ent.deadline("年底前要出样品") == "年底前"
    assert ent.deadline("种了三亩地") == ""
    assert ent.paid_contract("愿意签有偿合同") is True
    assert ent.paid_contract("先免费看看") is False
    assert ent.paid_contract("发酵不稳定") is None
    assert (ent.yes_or_no("要"), ent.yes_or_no("不签"), ent.yes_or_no("明天")) == (
        True,
        False,
        None,
    )


def test_teams_and_achievements() -> None:
    assert ent.team_name("我想组建一个团队 叫川味发酵团队") == "川味发酵团队"
    assert ent.team_name("成立柑橘保鲜创新团队") == "柑橘保鲜创新团队"
    assert ent.team_name("我想组建一个团队") == ""
    assert ent.achievement_title("登记成果《丘陵山区小型微耕机》，是装备") == "丘陵山区小型微耕机"
    assert ent.free_title("成果名称是柑橘采后保鲜技术") == "柑橘采后保鲜技术"
    assert ent.price("价格5-10万") == (50_000, 100_000)
    assert ent.price("价格面议") == "面议"
    assert ent.price("已中试") is None
    assert read_kind("是一项专利技术") == "patent" and read_kind("小型农机") == "equipment"
    assert read_maturity("已经在眉山示范推广了") == "demonstrated"
    assert read_mode("转让或者技术服务都可以") == "transfer"
    assert read_price("20万元") == (200_000, 200_000) and read_price("面议") == (None, None)


def test_dock_command_and_button() -> None:
    assert dock_command("对接 3 我们想在眉山试用") == (3, "我们想在眉山试用")
    assert dock_command("对接成果#12") == (12, "")
    assert dock_command("我想对接一下") is None
    action = Action(Act.DOCK, n=7)
    assert parse_action(str(action)) == action
    assert parse_action("dock:x") is None
