"""Phone numbers, in one place: find them in free text, normalise them, mask them.

A leaf module (standard library only) that every layer may import. People write numbers
in many ways: ``138-0000-1234``, ``138 0000 1234``, ``+86 138 0000 1234``, full-width
``１３８００００１２３４``, spread over lines, or in Chinese numerals (``一三八零零零零一二三四``,
``幺三八…``). Finding, validating and masking all read the same digit runs, so a number the
extractor understands is also a number the mask hides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "MIN_DIGITS",
    "Number",
    "PhoneFind",
    "extract",
    "has_number",
    "mask",
    "mask_phone",
    "mask_then_truncate",
    "normalise",
    "normalise_digits",
    "numbers",
    "with_tail",
]

# Seven digits are enough to reach a person (a landline without its area code).
MIN_DIGITS = 7
# Separator characters allowed between two digits of one number, at most this many in a row.
MAX_GAP = 3
# The longest valid form: 0086 + 11 digits.
_MAX_PHONE_DIGITS = 15

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0[1-9]\d{1,2}\d{7,8}")
# What a person types between the digit groups of a phone number.
_SEPARATORS = frozenset(" \t\n\r\f\v\u3000\u00a0-‐‑‒–—―－.．·・()（）")
_PLUS = frozenset("+＋")
# Chinese numerals as they are read out digit by digit (幺 for 1, 两 for 2 in speech).
_CN_DIGITS = {
    "零": "0",
    "〇": "0",
    "○": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "壹": "1",
    "二": "2",
    "两": "2",
    "贰": "2",
    "三": "3",
    "叁": "3",
    "四": "4",
    "肆": "4",
    "五": "5",
    "伍": "5",
    "六": "6",
    "陆": "6",
    "七": "7",
    "柒": "7",
    "八": "8",
    "捌": "8",
    "九": "9",
    "玖": "9",
}
# Words after a number that make it an amount, not a phone (预算 1500000 元).
_AMOUNT_AFTER = re.compile(r"\s?(?:元|块|万|千|百|亩|斤|公斤|株|棵|头|只|个)")
# A date is no attempt at a phone number (2024.05.01, 2024-5-1).
_DATE = re.compile(r"(?:19|20)\d\d[-./]\d{1,2}[-./]\d{1,2}")


def _digit(ch: str) -> tuple[str, str] | None:
    """(ASCII digit, kind) of one character, kind "arabic" or "cn"; None for a non-digit."""
    value = unicodedata.decimal(ch, None)  # ASCII, full-width and other decimal digits
    if value is not None:
        return str(value), "arabic"
    cn = _CN_DIGITS.get(ch)
    return (cn, "cn") if cn is not None else None


def _strict_gap(ch: str) -> bool:
    return ch in _SEPARATORS


def _loose_gap(ch: str) -> bool:
    # For hiding, anything that is not a letter may sit between digits (138/0000/1234,
    # 138，0000，1234): a leak costs more than a masked date.
    return not unicodedata.category(ch).startswith("L")


def normalise_digits(text: str) -> str:
    """Full-width digits, letters and plus signs (and other compatibility forms) as ASCII.

    Args:
        text: any text.

    Returns:
        The NFKC form of *text*: ``１３８`` becomes ``138``, ``＋８６`` becomes ``+86``.
    """
    return unicodedata.normalize("NFKC", text)


def _candidates(digits: str, *, plus: bool) -> list[str]:
    """Readings of a digit string with and without a country prefix, most literal first."""
    out = [digits]
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 6:
            rest = digits[len(prefix) :]
            out.append(rest)
            if rest[0] not in "01":  # +86 28 8888 1234: the area code loses its 0 abroad
                out.append("0" + rest)
    if plus and digits[0] not in "01":
        out.append("0" + digits)
    return out


def _valid(digits: str, *, plus: bool = False) -> str:
    """The normalised phone that *digits* spell, or ""."""
    if not digits or len(digits) > _MAX_PHONE_DIGITS:
        return ""
    for cand in _candidates(digits, plus=plus):
        if _MOBILE.fullmatch(cand) or _LANDLINE.fullmatch(cand):
            return cand
    return ""


def normalise(value: str) -> str:
    """A phone number as digits: an 11-digit mainland mobile or 0 + area code + number.

    Separators, a +86 / 0086 / 86 prefix, full-width digits and Chinese numerals are
    accepted; any other character is not.

    Args:
        value: the number as typed, e.g. ``"+86 138-0000-1234"`` or ``"028-8888 1234"``.

    Returns:
        The digits, e.g. ``"13800001234"`` or ``"02888881234"``.

    Raises:
        ValueError: naming *value* when it is not a mainland mobile or landline number.
    """
    text = str(value).strip()
    plus = bool(text) and text[0] in _PLUS
    digits: list[str] = []
    for ch in text[1:] if plus else text:
        got = _digit(ch)
        if got is not None:
            digits.append(got[0])
        elif not _strict_gap(ch):
            digits = []
            break
    phone = _valid("".join(digits), plus=plus)
    if not phone:
        msg = f"not a mainland mobile or landline number: {value!r}"
        raise ValueError(msg)
    return phone


@dataclass(frozen=True, slots=True)
class Number:
    """A run of digits in a text: where it is, what it spells, and the phone it is if valid."""

    start: int
    end: int  # exclusive; text[start:end] is the number as written
    digits: str
    phone: str = ""  # the normalised phone, or "" when the digits are no valid phone


@dataclass(frozen=True, slots=True)
class _Group:
    start: int
    end: int
    digits: str


def _runs(text: str, is_gap: Callable[[str], bool]) -> list[list[_Group]]:
    """Digit groups of *text*, gathered into runs: groups split at separators and where
    Arabic digits meet Chinese numerals; runs split where more than MAX_GAP characters
    (or one character *is_gap* refuses) come between two digits."""
    runs: list[list[_Group]] = []
    run: list[_Group] = []
    cur: list[str] = []
    cur_start: int | None = None
    cur_kind: str | None = None
    last_end = -1
    i = 0
    n = len(text)

    def close_group(end: int) -> None:
        nonlocal cur, cur_start, cur_kind
        if cur and cur_start is not None:
            run.append(_Group(cur_start, end, "".join(cur)))
        cur, cur_start, cur_kind = [], None, None

    while i < n:
        got = _digit(text[i])
        if got is None:
            i += 1
            continue
        ch_digit, kind = got
        between = text[last_end:i] if last_end >= 0 else None
        joined = (
            between is not None and len(between) <= MAX_GAP and all(is_gap(c) for c in between)
        )
        if not joined:
            close_group(last_end)
            if run:
                runs.append(run)
            run = []
        elif between or kind != cur_kind:
            close_group(last_end)
        if cur_start is None:
            cur_start, cur_kind = i, kind
        cur.append(ch_digit)
        last_end = i + 1
        i += 1
    close_group(last_end)
    if run:
        runs.append(run)
    return runs


def _phone_at(run: list[_Group], i: int, text: str) -> tuple[Number | None, int]:
    """The longest valid phone spelt by groups run[i:j], and j; (None, i) if there is none."""
    # only as many groups as a phone can hold, so a long run costs linear time
    prefixes: list[str] = []
    digits = ""
    for k in range(i, len(run)):
        if len(digits) + len(run[k].digits) > _MAX_PHONE_DIGITS:
            break
        digits += run[k].digits
        prefixes.append(digits)
    start = run[i].start
    plus = start > 0 and text[start - 1] in _PLUS
    for size in range(len(prefixes), 0, -1):
        digits = prefixes[size - 1]
        if len(digits) < MIN_DIGITS:
            break
        phone = _valid(digits, plus=plus)
        if phone:
            end = run[i + size - 1].end
            return Number(start - 1 if plus else start, end, digits, phone), i + size
    return None, i


def _numbers_in(run: list[_Group], text: str) -> list[Number]:
    """The numbers in one run: valid phones where consecutive groups spell one (longest
    first, left to right), and each stretch of groups between them as a plain number."""
    found: list[Number] = []
    rest: list[_Group] = []

    def flush() -> None:
        if rest:
            digits = "".join(g.digits for g in rest)
            found.append(Number(rest[0].start, rest[-1].end, digits))
            rest.clear()

    i = 0
    while i < len(run):
        phone, j = _phone_at(run, i, text)
        if phone is None:
            rest.append(run[i])
            i += 1
        else:
            flush()
            found.append(phone)
            i = j
    flush()
    return found


def numbers(text: str, *, loose: bool = True, min_digits: int = MIN_DIGITS) -> list[Number]:
    """Every phone, and every other run of *min_digits* or more digits, in *text*.

    Args:
        text: free text.
        loose: True lets any non-letter characters (up to three) join digits, which is
            what hiding needs; False allows only the separators people put in phone
            numbers (spaces, dashes, dots, parentheses), which is what reading one needs.
        min_digits: runs with fewer digits that are no phone are left out.

    Returns:
        The numbers in order of position.
    """
    out: list[Number] = []
    for run in _runs(text, _loose_gap if loose else _strict_gap):
        if sum(len(g.digits) for g in run) < min_digits:
            continue
        out.extend(n for n in _numbers_in(run, text) if n.phone or len(n.digits) >= min_digits)
    return out


@dataclass(frozen=True, slots=True)
class PhoneFind:
    """The phone a message states, or the number-like text that failed validation."""

    phone: str = ""  # valid normalised digits, or ""
    bad: str = ""  # the raw number that is no valid phone, or ""
    start: int = 0  # span of the phone (or the bad number) in the text, for scrubbing
    end: int = 0

    def __bool__(self) -> bool:
        return bool(self.phone)


def extract(text: str) -> PhoneFind:
    """The first valid phone in *text*; failing that, the first number that looks meant as
    one (seven or more digits, not an amount such as 1500000元).

    Args:
        text: a message, e.g. ``"电话138-0000-1234"`` or ``"一三八零零零零一二三四"``.

    Returns:
        A :class:`PhoneFind`; ``PhoneFind()`` when the text holds no number at all.
    """
    found = numbers(text, loose=False)
    for num in found:
        if num.phone:
            return PhoneFind(num.phone, "", num.start, num.end)
    for num in found:
        raw = text[num.start : num.end]
        if not _AMOUNT_AFTER.match(text, num.end) and not _DATE.fullmatch(raw):
            return PhoneFind("", raw, num.start, num.end)
    return PhoneFind()


# "最后两位是七六", "后四位应该是5276", "尾号改成 5276": the last digits of a number given before
_TAIL = re.compile(
    r"(?:(?:最后|末尾|后面?)\s*(?P<n>[1-9一二两三四五六七八九])\s*(?:位|个数字?)(?:数字?|数)?|尾号|尾数)"
    r"\s*(?:应该|应)?\s*(?:是|为|改成|改为|换成)?\s*[:：]?\s*(?P<digits>[^\s，,。;；不]{1,8})"
)


def with_tail(phone: str, text: str) -> str:
    """*phone* with the last digits *text* says it ends in ("电话打错了 最后两位是七六" ->
    …76), or "" when *text* names no such digits or the result is no valid number.

    Args:
        phone: a normalised phone given before.
        text: the message correcting it.
    """
    m = _TAIL.search(normalise_digits(text))
    if m is None or not phone:
        return ""
    digits = ""
    for ch in m.group("digits"):
        read = _digit(ch)
        if read is None:
            break
        digits += read[0]
    count = m.group("n")
    if count is not None:
        want = int(count) if count.isdigit() else int(_CN_DIGITS.get(count, "0") or 0)
        if len(digits) != want:
            return ""
    if not digits or len(digits) >= len(phone):
        return ""
    return _valid(phone[: -len(digits)] + digits)


def has_number(text: str) -> bool:
    """True when *text* holds a phone or any other run of seven or more digits."""
    return bool(numbers(text))


def mask_phone(phone: str) -> str:
    """A normalised phone with all but its first three and last two digits hidden.

    Five digits at most stay visible, so no seven digits of a number ever show
    (``13800001234`` becomes ``138******34``).
    """
    if len(phone) < MIN_DIGITS:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]


def _hide_runs(text: str) -> str:
    """Every digit of every run still seven digits long turned into '*' (the safety net)."""
    chars = list(text)
    for run in _runs(text, _loose_gap):
        if sum(len(g.digits) for g in run) >= MIN_DIGITS:
            for g in run:
                for k in range(g.start, g.end):
                    chars[k] = "*"
    return "".join(chars)


def mask(text: str) -> str:
    """*text* with every phone masked (``138******34``) and every other run of seven or more
    digits replaced by ``***``, in any format: separators, +86, full-width digits, Chinese
    numerals. Afterwards no seven digits of the input stand together in any format.

    Args:
        text: free text, e.g. a need as the farmer typed it.

    Returns:
        The masked text; text without such numbers comes back unchanged.
    """
    parts: list[str] = []
    pos = 0
    for num in numbers(text):
        parts.append(text[pos : num.start])
        parts.append(mask_phone(num.phone) if num.phone else "***")
        pos = num.end
    parts.append(text[pos:])
    # Digits left beside a masked phone (a date after it) may still add up to seven.
    return _hide_runs("".join(parts))


def mask_then_truncate(text: str, n: int) -> str:
    """*text* masked, then cut to *n* characters with "…" (cutting first could leave a
    partial number that the mask no longer recognises).

    Args:
        text: free text.
        n: the most characters to return, counting the "…".

    Returns:
        The masked text, at most *n* characters long.
    """
    masked = mask(text)
    if len(masked) <= n:
        return masked
    if n <= 1:
        return "…"[:n]
    return masked[: n - 1] + "…"
