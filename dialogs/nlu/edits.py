"""Edits of one's own stored records said in words: "服务地区加上蒲江县", "电话改成139…",
"擅长再加一个猕猴桃", "单位改为四川农业大学", "作物去掉李子". Read once into a typed
:class:`FieldEdit` (which field, add / remove / set, and the words of the value); what the value
means (a place, a phone, skills) is read by the records desk with the usual extractors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class EditOp(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    SET = "set"


@dataclass(frozen=True, slots=True)
class FieldEdit:
    """``field`` is a record field (phone, name, region, service_regions, fields, crops,
    organisation, title, company, industry, size, contact); ``value`` the words after the
    verb, as written."""

    field: str
    op: EditOp
    value: str


# the words people use for each field, longest first within a field where they overlap
_FIELD_WORDS: tuple[tuple[str, str], ...] = (
    ("service_regions", r"服务(?:的)?(?:地区|区域|范围|地方|县|区县)|服务区|能跑的地方|跑的地方"),
    ("phone", r"联系电话|电话号码|手机号码|手机号|电话|手机|号码"),
    ("name", r"称呼|名字|姓名"),
    ("fields", r"擅长(?:的)?(?:领域|方向|技术)?|专长|特长|技术领域|专业领域|研究方向|领域|专业"),
    ("crops", r"(?:服务|关注|擅长)?的?作物"),
    ("organisation", r"工作单位|单位"),
    ("title", r"职称"),
    ("company", r"(?:企业|公司)(?:的)?(?:名称|名字|全称)|公司名|企业名"),
    ("industry", r"(?:所属)?行业"),
    ("size", r"(?:企业|公司)?规模"),
    ("contact", r"联系人"),
    ("region", r"所在地区|所在地|地区|地址|住址|位置"),
)
_FIELD = "|".join(f"(?P<{name}>{words})" for name, words in _FIELD_WORDS)
_ADD = r"再加上?(?:一个|一项|个)?|加上|添加|增加|新增|补充|还要加|加个|加一个|加"
_REMOVE = r"去掉|删掉|删除|去除|拿掉|减掉|取消|不要了?|不再包括"
_SET = r"改成|改为|改一下|换成|换为|换了|变成|变了|更新为|更新成|设为|设置为|写成|应该是|是"
_OP = f"(?P<add>{_ADD})|(?P<remove>{_REMOVE})|(?P<set>{_SET})"
_LEAD = r"^\s*(?:请|麻烦)?(?:帮我)?(?:把|将)?(?:我的|我们的|我们|我)?(?:专家资料(?:里|中)?的?|资料(?:里|中)?的?)?"
# "服务地区加上蒲江县", "把电话改成139…", "我的擅长再加一个猕猴桃": field, verb, value
_EDIT = re.compile(
    rf"{_LEAD}(?:{_FIELD})\s*(?:写错了|搞错了|打错了|错了|不对)?[，,\s]*(?:也|再|还)?\s*(?:{_OP})\s*[:：,，]?\s*(?P<value>.+?)\s*[。.!！]?\s*$"
)
# "去掉东坡区的服务地区"? rare; "删掉服务地区里的东坡区": verb, field, value
_EDIT_VERB_FIRST = re.compile(
    rf"^\s*(?:请|麻烦)?(?:帮我)?(?:{_OP})\s*(?:我的)?(?:{_FIELD})\s*(?:里|中|里面)?的?\s*(?P<value>.+?)\s*[。.!！]?\s*$"
)


_LONGEST = 40  # a value longer than this is a description, not a field's new value


def field_edit(text: str) -> FieldEdit | None:
    """The edit *text* asks for, or None when it names no field and verb of one."""
    m = _EDIT.match(text) or _EDIT_VERB_FIRST.match(text)
    if m is None:
        return None
    groups = m.groupdict()
    field = next(name for name, _ in _FIELD_WORDS if groups.get(name))
    op = next(EditOp(k) for k in ("add", "remove", "set") if groups.get(k))
    value = m.group("value").strip(" ，,。")
    if not value or (op is EditOp.SET and field == "phone" and not re.search(r"\d", value)):
        return None  # "电话是多少": a question, not an edit
    if re.search(r"[吗么呢？?]|多少|什么|啥|哪|怎么|咋", value) or len(value) > _LONGEST:
        return None  # "我的地区是哪里", "作物是柑橘 叶子发黄怎么办": asks, or is no edit
    return FieldEdit(field, op, value)
