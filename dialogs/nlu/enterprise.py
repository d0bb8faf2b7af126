"""Slots of enterprises, teams and achievements: a company's name, industry and size, what
kind of technical service it needs, by when, whether it pays; a team's name; an
achievement's title, kind, maturity, transfer mode and price.

The vocabularies of kind, maturity and transfer mode are the store's (one list, read by the
file import and by this reader alike).
"""

from __future__ import annotations

import re
from typing import Any

from dialogs.nlu.regions import find_mentions
from dialogs.nlu.slots import Slots
from store.achievements import read_kind, read_maturity, read_mode, read_price
from store.region import Region

_COMPANY_END = r"(?:有限责任公司|股份有限公司|有限公司|集团公司|集团|公司|食品厂|加工厂|工厂|厂|合作社|研究院|企业)"
_COMPANY = re.compile(
    rf"([\u4e00-\u9fffA-Za-z0-9（）()]{{2,30}}?{_COMPANY_END})(?![\u4e00-\u9fff]{{0,1}}(?:的产品))"
)
_COMPANY_LEAD = re.compile(
    r"^(?:你好|您好|我们是|我们这边是|我是|我在|我们|本|来自|这里是|这边是|是|叫|在|名字是|名称是|企业名称是?|公司(?:名称|名字)?是?)+"
)
# speaking for a company: "我们公司", "我司", "厂里"
_ENTERPRISE_VOICE = re.compile(
    r"我们?(?:公司|企业|厂|集团|单位|合作社)|我们是[^，。,\s]{0,12}?(?:公司|企业|厂|集团)|我司|本公司|公司(?:想|要|需要|打算|准备|计划|现在)|"
    r"企业(?:想|要|需要)|厂里|车间|生产线|良品率|合格率|产能|批次"
)
_SERVICE_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("testing", re.compile(r"检测|化验|检验|测试|测定|认证|质检|分析报告|残留")),
    ("equipment", re.compile(r"设备|生产线|自动化|装备|机械|农机|机器|仪器|烘干机|分选")),
    ("product", re.compile(r"新产品|产品研发|研发.{0,6}产品|开发.{0,6}产品|配方|新品|研发")),
    (
        "process",
        re.compile(r"工艺|流程|良品率|合格率|稳定性|提高效率|降低成本|改进|优化|发酵|保鲜"),
    ),
)
_DEADLINE = re.compile(
    r"(?:(?:[0-9]+|[一二两三四五六七八九十半]+)\s*个?(?:月|周|星期|天|年)(?:之?内|以内)|"
    r"(?:今年|明年)?(?:年底|年内|月底|春节|国庆|[0-9一二三四五六七八九十]{1,3}月(?:份|底)?)(?:之?前|以前|内)?(?:完成|搞定|交付)?|"
    r"尽快|越快越好|不急)"
)
_DEADLINE_CUE = re.compile(r"之?前|以前|之?内|以内|底|尽快|越快|不急|完成|交付")
_PAID = re.compile(
    r"签(?:订|个|份)?.{0,4}合同|付费|有偿|委托|出钱|给钱|报酬|横向|签约|愿意出|可以出"
)
_UNPAID = re.compile(
    r"免费|公益|无偿|不签合同|不需要合同|不用签|不付费|不出钱|没有合同|先聊|先看看|"
    r"(?:^|[，,\s])(?:不要|不用|不|否|没有|没得|莫得)(?:的|了)?[。.!！]?\s*$"
)
_SIZES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("large", re.compile(r"大型|上市|集团|[0-9]{4,}\s*(?:多)?人")),
    ("medium", re.compile(r"中型|[3-9][0-9]{2}\s*(?:多)?人")),
    ("small", re.compile(r"小型|小企业|[1-9][0-9]\s*(?:多)?人|几十(?:个)?人")),
    ("micro", re.compile(r"微型|个体|小作坊|家庭作坊|(?<![0-9])[1-9]\s*(?:多)?个?人")),
)
_TEAM_NAMES = (
    re.compile(r"[「“\"《]([^」”\"》]{2,30})[」”\"》]"),
    re.compile(r"(?:叫做?|名叫|名称是|名字是|名为)\s*([\u4e00-\u9fffA-Za-z0-9]{2,24})"),
    re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{2,20}团队)"),
)
_TEAM_NOISE = re.compile(
    r"^(?:我想|我要|想|要|帮我|请|建|建立|成立|组建|创建|组|组个|组一个|建一个|一个|个)+"
)
_TITLE = re.compile(r"《([^》]{2,60})》|“([^”]{2,60})”|「([^」]{2,60})」")
_TITLE_LEAD = re.compile(
    r"^(?:我(?:们)?(?:有|想登记|要登记|想发布|想把)?(?:一[项个套])?(?:成果)?|成果名称?是?|名称是?|叫做?|"
    r"登记(?:一[项个])?(?:成果)?|发布(?:一[项个])?(?:成果)?)[:：\s]*"
)
# words of a request, never of a company's name
_REQUEST = re.compile(r"我|想|登记|注册|申请|入驻|帮忙|请问")
_DESCRIBED = re.compile(r"一家|一个|一间|某[家个]?|小[厂店]|的厂")
_PRICE_CUE = re.compile(r"万|元|价格|价钱|面议|费用")
_NEGOTIABLE = re.compile(r"面议|商量|好商量|协商|议价")


def company_name(text: str) -> str:
    """ "我们是眉山东坡泡菜食品有限公司" -> "眉山东坡泡菜食品有限公司" ("" when none)."""
    m = _COMPANY.search(text)
    if m is None:
        return ""
    name = _COMPANY_LEAD.sub("", m.group(1))
    if _DESCRIBED.search(name):  # "眉山的一家泡菜厂" says what it is, not what it is called
        return ""
    if _REQUEST.search(name):  # "我想登记企业" asks for something; it names nothing
        return ""
    if _GENERIC.fullmatch(_unplaced(name)):  # "蒲江的企业", "成都本地公司": where, not who
        return ""
    return name if len(name) >= 3 else ""


# a company's kind alone: what is left of "蒲江的企业" without its place is no name
_GENERIC = re.compile(rf"(?:本地|当地|这边|那边|我们|的)*{_COMPANY_END}")
# asking to be registered, not saying who is asking
_REGISTERS = re.compile(r"登记|注册|入驻|申请|录入|建档|认证|加入平台")


def _unplaced(name: str) -> str:
    """*name* without the place names in it ("蒲江的企业" -> "的企业")."""
    for m in reversed(find_mentions(name)):
        name = name[: m.start] + name[m.start + len(m.text) :]
    return name


def introduces_enterprise(text: str) -> bool:
    """ "我们是蒲江的企业", "我们公司在眉山": who is speaking, not a request to register."""
    return speaks_for_enterprise(text) and not _REGISTERS.search(text)


def speaks_for_enterprise(text: str) -> bool:
    """The message is written for a company ("我们公司…", "厂里的生产线…")."""
    return bool(_ENTERPRISE_VOICE.search(text) or company_name(text))


def service_kind(text: str) -> str:
    """process | testing | equipment | product, or "" (the first kind the text names)."""
    for kind, rx in _SERVICE_KINDS:
        if rx.search(text):
            return kind
    return ""


def deadline(text: str) -> str:
    """ "三个月内", "年底前", "尽快" as said, or ""."""
    for m in _DEADLINE.finditer(text):
        said = m.group(0)
        if _DEADLINE_CUE.search(said) or said in ("尽快", "越快越好", "不急"):
            return said[:32]
    return ""


def paid_contract(text: str) -> bool | None:
    """True: a paid contract is expected; False: not; None: not said."""
    if _UNPAID.search(text):
        return False
    if _PAID.search(text):
        return True
    return None


def enterprise_size(text: str) -> str:
    for size, rx in _SIZES:
        if rx.search(text):
            return size
    return ""


def team_name(text: str) -> str:
    """ "成立一个「柑橘保鲜创新团队」" / "叫柑橘保鲜团队" -> the team's name ("" when none)."""
    for rx in _TEAM_NAMES:
        m = rx.search(text)
        if m is not None:
            name = _TEAM_NOISE.sub("", m.group(1)).strip()[:64]
            if len(name) >= 2 and name not in ("团队", "专家团队", "技术团队"):
                return name
    return ""


def achievement_title(text: str) -> str:
    """The quoted title (《…》, “…”), else ""."""
    m = _TITLE.search(text)
    return next(g for g in m.groups() if g).strip() if m else ""


def free_title(text: str) -> str:
    """A whole answer to "成果叫什么名字" without its lead-in words."""
    quoted = achievement_title(text)
    if quoted:
        return quoted
    value = _TITLE_LEAD.sub("", text.strip())
    return value.strip(" ，,。.!！~")[:60]


def price(text: str) -> tuple[int | None, int | None] | str | None:
    """A price range in yuan, "面议", or None when the text names no price."""
    if _NEGOTIABLE.search(text):
        return "面议"
    if not _PRICE_CUE.search(text):
        return None
    low, high = read_price(text)
    return None if low is None else (low, high)


def kind(text: str) -> str:
    found = read_kind(text)
    return found.value if found else ""


def maturity(text: str) -> str:
    found = read_maturity(text)
    return found.value if found else ""


def transfer_mode(text: str) -> str:
    found = read_mode(text)
    return found.value if found else ""


# ---- what a message gives the forms (dialogs.forms.updates_from asks) ----------------------
_YES = re.compile(
    r"^\s*(?:要|需要|签|要签|签合同|是|是的|有偿|付费|可以|行|对|要得|好|好的)\s*[。!！]?\s*$"
)
_NO = re.compile(r"^\s*(?:不|否|不要|不用|不需要|不签|免费|没有|没得|莫得|无偿)\s*[。!！]?\s*$")
_LEAD_IN = re.compile(
    r"^(?:是|我们是|我是|叫|名字是|名称是|在|我们在|做|我们做|主要做|行业是?)\s*"
)


def tech_updates(slots: Slots, text: str, awaiting: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    company = company_name(text)
    # "预算两万元" or a phone at the company question answers another question: no name
    other = slots.budget is not None or slots.phone or slots.places or deadline(text)
    if company:
        out["company"] = company
    elif awaiting == "company" and not other and 2 <= len(text.strip()) <= 60:
        out["company"] = _LEAD_IN.sub("", text.strip()).strip(" 。.")
    kind = service_kind(text)
    if kind and awaiting in ("problem", None):
        out["service_kind"] = kind
    by_when = deadline(text)
    if by_when:
        out["deadline"] = by_when
    elif awaiting == "deadline" and text.strip() and not slots.budget:
        out["deadline"] = text.strip(" 。.")[:32]
    contract = paid_contract(text)
    if awaiting == "contract":
        contract = True if _YES.match(text) else False if _NO.match(text) else contract
    if contract is not None:
        out["contract"] = contract
    return out


def form_updates(form: str, slots: Slots, text: str, awaiting: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    plain = text.strip(" 。.!！")
    if form == "enterprise":
        company = company_name(text)
        if company:
            out["company"] = company
        elif awaiting == "company" and 2 <= len(plain) <= 60:
            out["company"] = _LEAD_IN.sub("", plain)
        if awaiting == "industry" and plain and not company:
            # a company's name at the industry question corrects the name; it is no industry
            out["industry"] = _LEAD_IN.sub("", plain)[:32]
        if slots.place and awaiting not in ("company", "industry", "contact"):
            out["region"] = _place(slots.place)
        if slots.phone:
            out["phone"] = slots.phone
        if slots.name:
            out["contact"] = slots.name
        elif awaiting == "contact" and not slots.phone and 1 <= len(plain) <= 20:
            out["contact"] = _NAME_LEAD.sub("", plain)
        size = enterprise_size(text)
        if size:
            out["size"] = size
    elif form == "team":
        name = team_name(text)
        if name:
            out["team_name"] = name
        elif awaiting == "team_name" and 2 <= len(plain) <= 30:
            out["team_name"] = plain
        if slots.fields:
            out["fields"] = slots.fields
        elif awaiting == "fields" and not slots.places:
            out["fields"] = _terms(text)
        if slots.crops and "fields" in out:
            out["crops"] = slots.crops
        if slots.places and awaiting not in ("team_name",):
            out["service_regions"] = [_place(p) for p in slots.places]
    elif form == "achievement":
        title = achievement_title(text)
        if awaiting == "ach_title":
            title = free_title(text)
        if title:
            out["ach_title"] = title
        for key, reader in (
            ("kind", kind),
            ("maturity", maturity),
            ("mode", transfer_mode),
        ):
            found = reader(text)
            if found:
                out[key] = found
        terms = [*slots.fields, *slots.crops]
        if terms:
            out["ach_fields"] = list(dict.fromkeys(terms))
        elif awaiting == "ach_fields":
            out["ach_fields"] = _terms(text)
        if awaiting == "applied_in" and plain:
            out["applied_in"] = plain[:100]
        elif m := _APPLIED.search(text):
            out["applied_in"] = m.group(1)
        cost = price(text)
        if cost is not None:
            out["price"] = cost if isinstance(cost, str) else list(cost)
    return out


_APPLIED = re.compile(r"(?:已经?|已)?在([\u4e00-\u9fff、，,]{2,30}?)(?:推广|应用|示范|使用|试用)")


def yes_or_no(text: str) -> bool | None:
    """The answer to a yes / no question ("要" / "不签"), None for anything else."""
    return True if _YES.match(text) else False if _NO.match(text) else None


_NAME_LEAD = re.compile(r"^(?:我叫|我是|叫我|姓名是?|名字是?|联系人是?|找|就叫)\s*")


def _place(place: Region) -> dict[str, str]:
    return place.as_dict()


def _terms(text: str) -> list[str]:
    words = re.split(r"[，,、;；\s和与及]+", text)
    return [w for w in words if 2 <= len(w) <= 16 and not re.search(r"\d", w)][:8]
