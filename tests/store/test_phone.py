"""One phone module: what people type is read, validated and hidden the same way."""

from __future__ import annotations

import random
import unicodedata

import pytest
from sqlmodel import Session, select

from store import phone
from store.errors import InvalidInput
from store.questions import QuestionLog, log_question
from store.validation import normalize_phone

MOBILE = "13800001234"
WRITTEN_MOBILE = [
    "电话138-0000-1234",
    "138 0000 1234",
    "+86 138 0000 1234",
    "0086 138 0000 1234",
    "86-138-0000-1234",
    "１３８００００１２３４",
    "＋８６ １３８ ００００ １２３４",
    "138\t0000\t1234",
    "138\n0000\n1234",
    "138.0000.1234",
    "(138) 0000-1234",
    "一三八零零零零一二三四",
    "幺三八 零零零零 幺两三四",
    "我的电话是13800001234，有空打给我",
]


@pytest.mark.parametrize("text", WRITTEN_MOBILE)
def test_extract_reads_a_mobile_in_every_format(text: str):
    found = phone.extract(text)
    assert found.phone == MOBILE
    assert found.bad == ""
    # the span covers the number as written, so the rest of the message can be read alone
    assert not phone.has_number(text[: found.start] + text[found.end :])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("028-8888 1234", "02888881234"),
        ("(028) 8888-1234", "02888881234"),
        ("座机 0831-1234567", "08311234567"),
        ("+86 28 8888 1234", "02888881234"),
    ],
)
def test_extract_reads_a_landline(text: str, expected: str):
    assert phone.extract(text).phone == expected


def test_extract_takes_the_phone_beside_other_numbers():
    assert phone.extract("13800001234一定要快").phone == MOBILE
    assert phone.extract("两个号码 13800001234 13900001111").phone == MOBILE
    assert phone.extract("电话：13800001234，3月份来").phone == MOBILE


@pytest.mark.parametrize("text", ["电话1380000123 想请专家", "12345678", "238 0000 1234"])
def test_extract_reports_a_number_that_is_no_phone(text: str):
    found = phone.extract(text)
    assert found.phone == ""
    assert found.bad and found.bad in text


@pytest.mark.parametrize("text", ["预算1500000元", "2024.05.01 来看", "李子树流胶了", "3亩地"])
def test_extract_ignores_amounts_dates_and_plain_text(text: str):
    assert phone.extract(text) == phone.PhoneFind()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("138 0000 1234", MOBILE),
        ("+86 13800001234", MOBILE),
        ("8613800001234", MOBILE),
        ("１３８００００１２３４", MOBILE),
        ("一三八零零零零一二三四", MOBILE),
        ("0831-1234567", "08311234567"),
        ("028-8888 1234", "02888881234"),
    ],
)
def test_normalise_accepts_every_format(value: str, expected: str):
    assert phone.normalise(value) == expected
    assert normalize_phone(value) == expected


@pytest.mark.parametrize(
    "value", ["1380000123", "23800001234", "abc", "0831-12", "电话13800001234"]
)
def test_normalise_names_the_bad_value(value: str):
    with pytest.raises(ValueError, match="not a mainland mobile"):
        phone.normalise(value)
    with pytest.raises(InvalidInput, match="phone"):
        normalize_phone(value)


def test_normalise_digits_makes_full_width_ascii():
    assert phone.normalise_digits("＋８６ １３８ＡＢ") == "+86 138AB"


@pytest.mark.parametrize("text", WRITTEN_MOBILE)
def test_mask_hides_a_mobile_in_every_format(text: str):
    masked = phone.mask(text)
    assert "138******34" in masked
    assert longest_digit_run(masked) < 7


def test_mask_keeps_the_rest_of_the_message():
    assert (
        phone.mask("李子树流胶，电话138-0000-1234，3月来") == "李子树流胶，电话138******34，3月来"
    )
    assert phone.mask("座机028-8888 1234") == "座机028******34"
    assert phone.mask("电话1380000123 想请专家") == "电话*** 想请专家"
    assert phone.mask("李子树流胶了，种了3亩") == "李子树流胶了，种了3亩"


def test_mask_then_truncate_hides_a_number_the_cut_would_split():
    text = "我家李子树流胶很严重，电话 138 0000 1234 请尽快联系"
    cut_first = text[:25]
    assert longest_digit_run(cut_first) >= 7  # cutting first would leak 8 digits
    out = phone.mask_then_truncate(text, 25)
    assert len(out) == 25 and out.endswith("…")
    assert longest_digit_run(out) < 7
    assert phone.mask_then_truncate("短消息", 20) == "短消息"


_CN = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
_CN_SPOKEN = dict(_CN, **{"0": "洞", "1": "幺", "2": "两"})
_SEPARATORS = [" ", "\t", "\n", "-", ".", " - ", "  ", "/", "，", "\r\n", "(", ")"]
_PREFIXES = ["", "+86 ", "0086", "86-", "＋８６", "+86-"]
_FILLER = ["我家李子树流胶，", "电话", "请专家看看", "3月份来", "种了2亩", " ", "：", "急！"]


def _render(digits: str, rng: random.Random) -> str:
    style = rng.choice(["ascii", "wide", "cn", "spoken", "mixed"])
    out = []
    for d in digits:
        if style == "wide" or (style == "mixed" and rng.random() < 0.3):
            out.append(chr(ord("０") + int(d)))
        elif style == "cn" or (style == "mixed" and rng.random() < 0.3):
            out.append(_CN[d])
        elif style == "spoken":
            out.append(_CN_SPOKEN[d])
        else:
            out.append(d)
        if rng.random() < 0.25:
            out.append(rng.choice(_SEPARATORS))
    return "".join(out).strip("(") + ""


def _random_number(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.6:
        return "1" + rng.choice("3456789") + "".join(rng.choices("0123456789", k=9))
    if kind < 0.85:
        area = rng.choice(["28", "831", "23", "10", "817"])
        return "0" + area + "".join(rng.choices("0123456789", k=rng.choice([7, 8])))
    return "".join(rng.choices("0123456789", k=rng.randint(7, 18)))  # an ID or order number


def test_mask_then_truncate_never_leaves_seven_digits_in_any_format():
    rng = random.Random(13)
    for _ in range(3000):
        number = _random_number(rng)
        written = rng.choice(_PREFIXES) + _render(number, rng)
        text = rng.choice(_FILLER) + written + rng.choice(_FILLER)
        n = rng.randint(1, len(text) + 3)
        out = phone.mask_then_truncate(text, n)
        assert len(out) <= n
        assert longest_digit_run(out) < 7, (text, out)
        assert longest_digit_run(phone.mask(text)) < 7, (text, phone.mask(text))


def longest_digit_run(text: str) -> int:
    """The most digits that stand together once full-width forms and Chinese numerals are
    read as digits and up to three non-letter characters between digits are dropped."""
    spoken = set(_CN_SPOKEN.values()) | set(_CN.values()) | {"〇", "○"}
    best = run = 0
    gap = 0
    for ch in phone.normalise_digits(text):
        if ch.isascii() and ch.isdigit() or ch in spoken:
            run = run + 1 if gap <= 3 else 1
            gap = 0
            best = max(best, run)
        elif unicodedata.category(ch).startswith("L"):
            run, gap = 0, 0
        else:
            gap += 1
    return best


def test_question_log_stores_the_question_with_phones_masked(session: Session):
    log_question(
        session=session,
        question="火星上能种土豆吗？有答案打我电话 138 0000 1234",
        answered=False,
    )
    stored = session.exec(select(QuestionLog.question)).one()
    assert stored == "火星上能种土豆吗？有答案打我电话 138******34"
    from store.feedback import knowledge_gaps

    gaps = knowledge_gaps(session=session)
    assert [g.text for g in gaps] == [stored]


def test_a_number_corrected_by_its_last_digits():
    assert phone.with_tail("13800045267", "电话错了 最后两位是六二") == "13800045262"
    assert phone.with_tail("13800045267", "尾号改成 3399") == "13800043399"
    assert phone.with_tail("13800045267", "最后三位是12") == ""  # three digits promised
    assert phone.with_tail("13800045267", "预算五千") == ""
    assert phone.with_tail("", "尾号 3399") == ""
