"""Questions about the service get honest answers (issue 14: they got "好的。有生产技术或科普
方面的问题，随时告诉我。"), and answers about health or emergencies point to a doctor, 120 or
119 rather than to the platform's agricultural experts."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from dialogs.nlu.commands import OrderVerb, order_command
from dialogs.service import Topic, topic_of
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat

BRUSH_OFF = "随时告诉我"


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("你是机器人还是真人哦", Topic.WHO),
        ("你是哪个做的哦", Topic.WHO),
        ("你们是哪家公司开发的", Topic.WHO),
        ("你是不是机器人", Topic.WHO),
        ("转人工", Topic.HUMAN),
        ("我要找人工客服", Topic.HUMAN),
        ("客服电话多少", Topic.HUMAN),
        ("我要投诉 上次那个专家根本没来", Topic.COMPLAIN),
        ("投诉", Topic.COMPLAIN),
        ("你们这个平台收费不", Topic.COST),
        ("找专家要钱不", Topic.COST),
        ("收费吗", Topic.COST),
        ("稻瘟病咋个防", None),
        ("你好", None),
        ("插秧机器人好不好用", None),
        ("投诉 12 专家没有上门", None),  # a report on need 12 (an order command)
        ("柑橘多少钱一斤", None),
    ],
)
def test_questions_about_the_service_are_read(text: str, topic: Topic | None) -> None:
    assert topic_of(text) == topic


def test_a_complaint_on_a_numbered_need_is_a_report() -> None:
    cmd = order_command("投诉 12 专家没有上门")
    assert cmd is not None and (cmd.verb, cmd.order_id, cmd.note) == (
        OrderVerb.REPORT,
        12,
        "专家没有上门",
    )


def test_the_service_questions_get_honest_answers(chat: Chat) -> None:
    out = chat.send("你是机器人还是真人哦")
    assert "智能助手" in out.text and "不是真人" in out.text and BRUSH_OFF not in out.text
    out = chat.send("转人工")
    assert "平台管理员" in out.text  # no contact configured: the administrator
    out = chat.send("我要投诉 上次那个专家根本没来")
    assert "投诉 需求编号 原因" in out.text and "没有专家接过单" in out.text
    out = chat.send("你们这个平台收费不")
    assert "平台不收费" in out.text and "预算" in out.text


def test_the_platform_contact_is_given_when_configured(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    desk = make_assistant(engine, None, tmp_path, support_contact="028-12345678")
    assert "028-12345678" in Chat(desk, "老李").send("转人工").text


def test_what_the_budget_means_is_said_at_the_budget_question(chat: Chat) -> None:
    chat.send("宜宾翠屏区李子园土壤酸化板结 想找专家")
    out = chat.send("13800001234")
    assert "预算" in out.replies[-1].text
    out = chat.send("好多钱嘛要")
    assert "愿意付给专家" in out.text and "预算" in out.replies[-1].text  # asked again
    out = chat.send("五千左右")
    assert "5000" in out.text


def test_a_health_answer_points_to_a_doctor_not_an_expert(chat: Chat) -> None:
    out = chat.send("娃娃发烧咋办")
    assert "来源" in out.text and "120" in out.text
    # one message: the note sits under the answer, with its feedback buttons
    assert len(out.replies) == 1 and "有用" in chat.buttons()
    assert "找专家" not in chat.buttons() and "要我帮您找专家" not in out.text


def test_a_crop_disaster_still_offers_an_expert(chat: Chat) -> None:
    out = chat.send("李子花期遇到霜冻咋办")
    assert "来源" in out.text and "找专家" in chat.buttons() and "119" not in out.text
