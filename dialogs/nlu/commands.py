"""Order commands typed as text ("接单 12", "已解决 3 已指导撒石灰", "评价 12 5 很好"), read once
into a typed :class:`OrderCommand` that the order desk acts on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dialogs.nlu.numbers import chinese_to_int
from store.phone import numbers


class OrderVerb(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    RESOLVE = "resolve"
    RATE = "rate"
    CANCEL = "cancel"
    SHOW = "show"
    LIST = "list"
    BROWSE = "browse"
    REPLY = "reply"  # note: the message relayed to the other party
    REPORT = "report"  # note: the reason
    CONSENT = "consent"  # the requester agrees to exchange contacts (同意交换联系方式)
    NO_CONSENT = "no_consent"  # the requester does not (不同意 / 不交换)
    SWAP = "swap"  # the requester wants another expert (换一位)


@dataclass(frozen=True, slots=True)
class OrderCommand:
    """What an order message asks for; ``order_id`` None means "the one I mean" (the desk
    picks the only candidate, or asks which)."""

    verb: OrderVerb
    order_id: int | None = None
    score: int | None = None
    note: str = ""  # the resolution note, the rating comment, the message or the reason


# "我发过哪些需求", "我发布的求助": the person's own needs (listing them, not browsing others')
_MINE = (
    r"我(?:自己)?(?:发|提|发布|提交)(?:过|了)?的?(?:哪些|几个|那些|那个|这个)?(?:需求|求助)|"
    # "我的需求" as the whole message (a reply to an order's message too): the list
    r"^\s*(?:查看|看看?|查下?)?我的(?:需求|求助)(?:列表)?\s*[。？?]?\s*$"
)
# Anything that reads as order management (the intent); the verbs below say which.
_ORDER = re.compile(
    rf"{_MINE}|"
    r"^\s*/?(?:orders?|needs)\b|接单|已解决|已经解决|取消订单|订单|\d+\s*号单|单子|"
    r"\d+\s*号.{0,8}(?:接|弄好|搞定|撤|关|解决|完成|星|分|取消|不要了|不用了|作废)|"
    # "4001不要了", "#12 需求不用了": a need named by its number, then withdrawn
    r"^\s*#?\s*\d+\s*(?:需求|求助|单子?|订单)?\s*(?:就|也)?(?:不要了|不用了|撤了|作废)|第\s*\d+\s*单|^\s*接\s*\d+|"
    r"我(?:的|接的?|接了|发的).{0,4}单|接我的单|接(?:那|这|一)个.{0,10}的单(?!位)|[1-5一二三四五]\s*颗星|找项目|看看?需求|有什么需求|^\s*不合适|^\s*(?:拒绝|不接)\s*(?:#?\s*\d|$)|"
    r"(?:评价|打分|好评|差评|打个?[1-5一二三四五]\s*分|[1-5一二三四五]\s*[星分])|"
    r"需求.{0,6}(?:有人接|接了没|怎么样了|进度)|我(?:发|提)的.{0,6}(?:需求|问题).{0,6}(?:人接|接没)|"
    r"^\s*取消\s*\d+|^\s*(?:回复|举报|投诉)\s*#?\s*\d+|^\s*举报|"
    r"(?:撤销|撤回|撤掉|取消)我?.{0,6}(?:发的|需求|那条)|"
    # "将我上周发布的…需求撤回", "那条求助予以撤销": the formal order, the need first
    r"(?:需求|求助|那条|单子)\s*(?:予以|给我|帮我)?\s*(?:撤销|撤回|撤掉|撤下|作废)|"
    r"^\s*同意(?:交换)?(?:联系方式|电话)?\s*#?\s*\d*\s*号?\s*[。!！]?\s*$|"
    r"^\s*(?:我|暂时|先)?(?:不同意|不想交换|不交换|暂不交换|不给电话|不要交换)(?:交换)?(?:联系方式|电话)?\s*#?\s*\d*\s*号?\s*[。!！]?\s*$|"
    r"^\s*(?:换一位|换一个|换个|换位|换人)(?:专家|老师)?\s*#?\s*\d*\s*[。!！吧嘛]?\s*$"
)
# "回复 12 明天上午方便吗" / "举报 12 索要额外费用": the number, then free text kept as written
_REPLY = re.compile(r"^\s*回复\s*#?\s*(\d+)\s*号?[\s:：,，]*(.*)$", re.S)
_REPORT = re.compile(r"^\s*(?:举报|投诉)\s*#?\s*(\d+)?\s*号?[\s:：,，]*(.*)$", re.S)
_ID = re.compile(r"#?\s*(\d+)")
_ACCEPT = re.compile(
    r"^\s*(?:接单|接)\s*#?\s*(\d+)?\s*(?:号)?\s*$|(\d+)\s*号?.{0,3}我接了|我接了?\s*#?(\d+)|"
    r"(?:要|想|来)接(?:那|这)个.{0,10}的单(?!位)"
)
# "同意", "同意交换联系方式 3": typed like the button under an accepted order
_CONSENT = re.compile(r"^\s*同意(?:交换)?(?:联系方式|电话)?\s*#?\s*(\d+)?")
_NO_CONSENT = re.compile(
    r"^\s*(?:我|暂时|先)?(?:不同意|不想交换|不交换|暂不交换|不给电话|不要交换)(?:交换)?(?:联系方式|电话)?\s*#?\s*(\d+)?"
)
_SWAP = re.compile(r"^\s*(?:换一位|换一个|换个|换位|换人)(?:专家|老师)?\s*#?\s*(\d+)?")
_DECLINE = re.compile(r"^\s*(?:不合适|拒绝|不接)\s*#?\s*(\d+)?\s*号?\s*$")
_RESOLVE = re.compile(r"(?:已经?解决|解决了|搞定了?|弄好了?|处理好了?|完成了)")
_RATE = re.compile(r"评价|打分|评分|好评|差评|颗星|星|分")
_CANCEL = re.compile(r"取消|撤了|撤销|撤回|撤掉|撤下|作废|不要了|不用了")
_LIST = re.compile(
    rf"{_MINE}|"
    r"^\s*/orders\s*$|我的订单|我的单|订单列表|我接的单|我接了哪些|我发的需求|有没得人接|有人接"
)
_SHOW = re.compile(
    r"^\s*/order\s+#?(\d+)|(?:查看|看下|看看)?订单\s*#?(\d+)|需求\s*#?(\d+)\s*(?:进度|怎么样)"
)
_BROWSE = re.compile(
    r"^\s*/needs\s*$|找项目|看需求|有什么需求|有哪些需求|待接|接活|"
    r"(?:可以|能)接(?![了那这])|没人接的|新的?(?:单|需求|求助)"
)
_SCORE = re.compile(
    r"([1-5一二三四五])\s*(?:星|分|颗星)|(?:打|给|评)\s*([1-5一二三四五])(?!\d)(?:\s*(?:颗星|星|分))?"
)
# "评价 12 5 很好" / "评价 #12 5": the order, then the score on its own
_RATE_PAIR = re.compile(r"(?:评价|打分|评分)\s*#?\s*(\d+)\s*(?:号单?)?\s+([1-5])(?!\d)\s*(.*)$")
_NUMBERED = re.compile(r"#\s*(\d+)|(\d+)\s*号单?|第\s*(\d+)\s*单")
_COMMENT_NOISE = re.compile(r"评价|打分|评分|好评|给|号单|单|[，,。\s]+")


def is_order_text(text: str) -> bool:
    """The message manages orders (accept, resolve, rate, cancel, list, browse …)."""
    return bool(_ORDER.search(text))


def order_command(text: str) -> OrderCommand | None:
    """The order command in *text*, or None when it is not about orders."""
    if not is_order_text(text):
        return None
    if m := _REPLY.match(text):
        return OrderCommand(OrderVerb.REPLY, _int(m.group(1)), note=m.group(2).strip())
    if m := _REPORT.match(text):
        order_id = _int(m.group(1)) if m.group(1) else None
        return OrderCommand(OrderVerb.REPORT, order_id, note=m.group(2).strip())
    clean = _without_phones(text)
    if m := _NO_CONSENT.match(clean):
        return OrderCommand(OrderVerb.NO_CONSENT, _int(m.group(1)) if m.group(1) else None)
    if m := _CONSENT.match(clean):
        return OrderCommand(OrderVerb.CONSENT, _int(m.group(1)) if m.group(1) else None)
    if m := _SWAP.match(clean):
        return OrderCommand(OrderVerb.SWAP, _int(m.group(1)) if m.group(1) else None)
    if _CANCEL.search(clean):
        return OrderCommand(OrderVerb.CANCEL, _first_id(clean))
    if m := _SHOW.search(clean):
        return OrderCommand(OrderVerb.SHOW, _int(next(g for g in m.groups() if g)))
    if _BROWSE.search(clean) and not _ID.search(clean) and not re.search(_MINE, clean):
        return OrderCommand(OrderVerb.BROWSE)
    if _LIST.search(clean):
        return OrderCommand(OrderVerb.LIST)
    if m := _ACCEPT.search(clean):
        given = next((g for g in m.groups() if g), None)
        return OrderCommand(OrderVerb.ACCEPT, _int(given) if given else None)
    if m := _DECLINE.search(clean):
        return OrderCommand(OrderVerb.DECLINE, _int(m.group(1)) if m.group(1) else None)
    if _RESOLVE.search(clean):
        note = _RESOLVE.split(_ID.sub(" ", clean, count=1), maxsplit=1)[-1].strip(" ，,。")
        return OrderCommand(OrderVerb.RESOLVE, _first_id(clean), note=note)
    if _RATE.search(clean):
        return _rate(clean)
    return OrderCommand(OrderVerb.LIST)


def _rate(clean: str) -> OrderCommand:
    if m := _RATE_PAIR.search(clean):
        comment = _COMMENT_NOISE.sub(" ", m.group(3)).strip()
        return OrderCommand(OrderVerb.RATE, _int(m.group(1)), int(m.group(2)), comment)
    # "给3号单打5星": 3 names the order, 5 is the score
    numbered = _NUMBERED.search(clean)
    order_id: int | None
    if numbered is not None:
        rest = clean[: numbered.start()] + " " + clean[numbered.end() :]
        order_id = _int(next(g for g in numbered.groups() if g))
    else:
        rest, order_id = clean, _first_id(_SCORE.sub(" ", clean))
    comment = _ID.sub(" ", _SCORE.sub(" ", rest)).strip()
    comment = _COMMENT_NOISE.sub(" ", comment).strip()
    return OrderCommand(OrderVerb.RATE, order_id, _score(rest), comment)


def _without_phones(text: str) -> str:
    """*text* with every valid phone blanked out: a phone is never an order number."""
    for num in reversed(numbers(text, loose=False)):
        if num.phone:
            text = text[: num.start] + " " + text[num.end :]
    return text


def _int(value: str) -> int:
    return int(value)


def _first_id(text: str) -> int | None:
    m = _ID.search(text)
    return int(m.group(1)) if m else None


def _score(text: str) -> int | None:
    m = _SCORE.search(text)
    if m:
        return chinese_to_int(next(g for g in m.groups() if g))
    if "好评" in text:
        return 5
    if "差评" in text:
        return 1
    return None


class AdminVerb(StrEnum):
    VERIFY = "verify"
    UNVERIFY = "unverify"
    PENDING = "pending"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    REPORTS = "reports"


@dataclass(frozen=True, slots=True)
class AdminCommand:
    """An administrator's command about a person: who (``target``: a user id or name, "" when
    missing) and the unit or reason (``note``)."""

    verb: AdminVerb
    target: str = ""
    note: str = ""


_ADMIN = re.compile(
    r"^\s*/(verify|unverify|reject|suspend|unsuspend|experts|reports)(?:@\w+)?(?:\s+(\S+))?\s*(.*)$",
    re.S | re.IGNORECASE,
)
_ADMIN_VERBS = {"reject": AdminVerb.UNVERIFY, "experts": AdminVerb.PENDING}


def admin_command(text: str) -> AdminCommand | None:
    """``/verify 12 四川省农科院``, ``/unverify 12 理由`` (or ``/reject``), ``/experts pending``,
    ``/reports``, ``/suspend 12 理由``, ``/unsuspend 12``; None for anything else."""
    m = _ADMIN.match(text)
    if not m:
        return None
    name = m.group(1).lower()
    verb = _ADMIN_VERBS.get(name) or AdminVerb(name)
    if verb in (AdminVerb.PENDING, AdminVerb.REPORTS):
        return AdminCommand(verb)
    return AdminCommand(verb, (m.group(2) or "").strip(), m.group(3).strip())
