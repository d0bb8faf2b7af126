"""Chinese amounts: 五千左右 -> 5000, 一万五 -> 15000, 2千 -> 2000, 3000元以内 -> 3000."""

from __future__ import annotations

import re

_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "两": 2,
    "贰": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "k": 1000, "K": 1000}
_NUM = r"[0-9０-９.]+|[零〇一壹二两贰三叁四肆五伍六陆七柒八捌九玖十拾百佰千仟万]+"
_MONEY_CUE = r"(?:预算|费用|价钱|价格|出|给|付|花|报酬|经费|左右|以内|以下|上下|块|元|块钱|万|千)"
# a number followed by one of these counts things or spans time (五亩, 三个月, 两周), not money
_COUNTER = re.compile(
    r"\s*(?:号|单|个|只|头|亩|斤|公斤|年|天|日|月|周|星期|礼拜|小时|钟头|岁|棵|株|箱|条|次|批|家|户|人|%)"
)
_AMOUNT = re.compile(
    rf"(?P<pre>预算|费用|经费|报酬|出|给|付|花)?\s*(?P<num>{_NUM})\s*(?P<unit>[万千kK]?)"
    rf"(?:(?P<num2>[一二两三四五六七八九0-9])(?!{_COUNTER.pattern}))?"
    r"\s*(?P<post>块钱|块|元|左右|以内|以下|上下|来块)?"
)


def chinese_to_int(text: str) -> int | None:
    """Parse 三千五 / 一万五 / 2千 / 1.5万 / 一百二十 into an integer, else None."""
    text = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not text:
        return None
    m = re.fullmatch(r"([0-9.]+)([万千kK百]?)", text)
    if m:
        try:
            value = float(m.group(1))
        except ValueError:
            return None
        mult = {"万": 10000, "千": 1000, "k": 1000, "K": 1000, "百": 100, "": 1}[m.group(2)]
        return int(round(value * mult))
    total, section, number, last_unit = 0, 0, 0, 1
    for ch in text:
        if ch in _DIGIT:
            number = _DIGIT[ch]
        elif ch in _UNIT:
            unit = _UNIT[ch]
            section += (number or (1 if unit == 10 else 0)) * unit
            number, last_unit = 0, unit
        elif ch == "万":
            total += (section + number) * 10000
            section, number, last_unit = 0, 0, 10000
        else:
            return None
    if number and last_unit >= 100:
        # 三千五 -> 3500, 一万五 -> 15000: a trailing digit counts in the next lower unit
        return total + section + number * (last_unit // 10)
    return total + section + number


def _trailing_count_dropped(num: str) -> str:
    """*num* without a last Chinese digit that follows a unit (十万三 -> 十万), else ""."""
    if len(num) > 1 and num[-1] in _DIGIT and num[-2] in "万千仟":
        return num[:-1]
    return ""


def find_budget(text: str, *, expected: bool = False) -> int | None:
    """A money amount stated in *text*, or None. Needs a money cue (预算, 元, 左右, 万...)
    unless an amount is *expected* (the answer to "有大概的预算吗？": "三百", "3000")."""
    return next(iter(find_budgets(text, expected=expected)), None)


def find_budgets(text: str, *, expected: bool = False) -> list[int]:
    """Every money amount stated in *text*, in order ("两千怕请不动人 改成五千" -> 2000, 5000);
    the cues are :func:`find_budget`'s."""
    out: list[int] = []
    for m in _AMOUNT.finditer(text):
        num, unit, num2, pre, post = (
            m.group(g) or "" for g in ("num", "unit", "num2", "pre", "post")
        )
        if not (expected or pre or post or unit or "万" in num or "千" in num):
            continue
        if re.fullmatch(r"[0-9]{7,}", num):  # a phone number, not money
            continue
        if _COUNTER.match(text, m.end("num")):
            # 预算十万三个月内: the digit after 万 starts the time span, the amount is 十万
            num = _trailing_count_dropped(num)
            if not num:
                continue  # 20号, 五亩, 三年: counts, not money
        value = chinese_to_int(num + unit)
        if value is None:
            continue
        if num2 and unit in ("万", "千"):
            extra = chinese_to_int(num2)
            value += (extra or 0) * (1000 if unit == "万" else 100)
        if 10 <= value <= 100_000_000:
            out.append(value)
    return out
