"""Order commands as people type them: ratings naming an order and a score, consent and
another expert in the button's words."""

from __future__ import annotations

import pytest

from dialogs.nlu.commands import OrderVerb, order_command


@pytest.mark.parametrize(
    ("text", "order_id", "score", "note"),
    [
        ("5分 很好", None, 5, "很好"),
        ("给3号单打5星 专家很耐心", 3, 5, "专家很耐心"),
        ("打5分", None, 5, ""),
        ("评价 3 5 很好", 3, 5, "很好"),
    ],
)
def test_ratings_say_which_order_and_how_many_stars(text, order_id, score, note):
    cmd = order_command(text)
    assert cmd is not None
    assert (cmd.verb, cmd.order_id, cmd.score, cmd.note) == ("rate", order_id, score, note)


@pytest.mark.parametrize(
    ("text", "verb", "order_id"),
    [
        ("同意", OrderVerb.CONSENT, None),
        ("同意交换联系方式 3", OrderVerb.CONSENT, 3),
        ("换一位", OrderVerb.SWAP, None),
        ("换个专家吧", OrderVerb.SWAP, None),
    ],
)
def test_consent_and_swap_typed(text, verb, order_id):
    cmd = order_command(text)
    assert cmd is not None and (cmd.verb, cmd.order_id) == (verb, order_id)


@pytest.mark.parametrize("text", ["我同意你的看法", "同意了吗 他说啥", "换季了果树咋管"])
def test_agreeing_in_a_sentence_is_no_command(text):
    assert order_command(text) is None


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("有没有新的单子可以接", OrderVerb.BROWSE),
        ("还有没有没人接的单子", OrderVerb.BROWSE),
        ("我发过哪些需求 列出来看下", OrderVerb.LIST),
        ("我发的需求还没人接", OrderVerb.LIST),
        ("我提交的求助咋个还没有专家回应", OrderVerb.LIST),
    ],
)
def test_open_needs_to_take_are_browsed_and_ones_own_are_listed(text, verb):
    """An expert asking for jobs sees the open needs; a requester asking about what they
    posted sees their own (not the other way round)."""
    command = order_command(text)
    assert command is not None and command.verb is verb


@pytest.mark.parametrize(
    "text",
    [
        "麻烦将我上周发布的猕猴桃溃疡病需求撤回，该问题已由本地农技站协助解决。",
        "烦请将本人上月提交的施肥技术需求予以撤销",
        "之前那条求助作废 我另外找人了",
    ],
)
def test_a_formal_withdrawal_naming_the_need_first_cancels_it(text):
    command = order_command(text)
    assert command is not None and command.verb is OrderVerb.CANCEL
