"""Questions about the assistant and the platform themselves: who answers (an assistant, not a
person), how to reach a person, how to complain, and what it costs. Each gets an honest
answer; how to reach a person is the platform's contact when one is configured
(SUPPORT_CONTACT), else its administrator."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dialogs.context import Turn


class Topic(StrEnum):
    WHO = "who"  # 你是机器人还是真人, 你是哪个做的
    HUMAN = "human"  # 转人工, 客服电话
    COMPLAIN = "complain"  # 我要投诉 (with no expert on any need: how to complain)
    COST = "cost"  # 你们这个平台收费不


_YOU = r"(?:你|您)们?(?:这个)?(?:到底)?"
_TOPICS: tuple[tuple[Topic, re.Pattern[str]], ...] = (
    (
        Topic.HUMAN,
        re.compile(
            r"转人工|人工客服|找人工|要人工|真人客服|(?:找|联系|打给?)客服|客服电话|客服在"
        ),
    ),
    (
        Topic.WHO,
        re.compile(
            rf"{_YOU}(?:是不是|是)?(?:个|一个)?(?:机器人|真人|真的人|人工智能|ai|程序|自动回复)"
            rf"|(?:机器人|真人)(?:还是|吗|嘛|哦|不|啊)|{_YOU}是(?:哪个|谁|哪家|哪里|啥子?|什么)"
            r"(?:公司|单位)?(?:做|开发|搞|弄|办|造|写)的|(?:你|您)是谁",
            re.I,
        ),
    ),
    (Topic.COMPLAIN, re.compile(r"^\s*(?:我要|我想|要)?(?:投诉|举报)(?!\s*#?\s*\d)")),
    (
        Topic.COST,
        re.compile(
            r"(?:平台|你们|这个|服务|咨询|提问|问问题|找专家|发需求|发布需求|用)[^，,。？?]{0,6}?"
            r"(?:收费|收钱|要钱|花钱|付费|免费|要不要钱|给钱)"
            r"|^\s*(?:收费|收钱|要钱|免费|要不要钱)(?:不|吗|嘛|没|不收|哦)"
        ),
    ),
)


def topic_of(text: str) -> Topic | None:
    """What *text* asks about the service, or None."""
    return next((topic for topic, pattern in _TOPICS if pattern.search(text)), None)


@dataclass(slots=True)
class ServiceDesk:
    """Answers about the service; *contact*: how people reach the platform ("" unknown)."""

    contact: str = ""

    def answer(self, turn: Turn, topic: Topic) -> None:
        reach = (
            turn.t("service_reach_contact", contact=self.contact)
            if self.contact
            else turn.t("service_reach_admin")
        )
        turn.say(turn.t(f"service_{topic.value}", reach=reach))
