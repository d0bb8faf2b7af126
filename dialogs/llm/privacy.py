"""Personal data never goes to the model: phones and personal names become placeholders.

A :class:`Redactor` remembers what each placeholder stood for, so a value the model hands
back (``[PHONE_1]``) can be restored locally and validated like typed input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dialogs.nlu.people import SURNAMES as _SURNAMES
from store import phone

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# A name that introduces the speaker (我叫张建国) or names a person (李建国老师, 找王师傅).
_NAMES = (
    re.compile(
        r"(?:我叫|我是|本人|姓名[:：]?|名字[是叫]?)\s*"
        rf"([{_SURNAMES}][\u4e00-\u9fff]{{1,2}})(?=[，,。.\s]|$|老师|专家|师傅)"
    ),
    re.compile(
        rf"([{_SURNAMES}][\u4e00-\u9fff]{{1,2}}?)(?=老师|专家|师傅|医生|站长|教授|技术员|兽医)"
    ),
)
# A message that is only a name (the answer to "how should we call you?").
_BARE_NAME = re.compile(rf"^\s*([{_SURNAMES}][\u4e00-\u9fff]{{1,2}})\s*[。.]?\s*$")
PLACEHOLDER = re.compile(r"\[(?:PHONE|NAME|EMAIL|ID)_\d+\]")
# A WeChat or QQ account named in a text: "微信 abc_123", "VX：tianfu88", "QQ 12345678".
_APP = r"(?:微信|威信|薇信|weixin|wechat|v信|vx|wx|qq|扣扣)"
_SOCIAL_ID = re.compile(
    rf"(?<![A-Za-z]){_APP}(?![A-Za-z])\s*(?:号码?|账号|id)?\s*(?:是|为)?\s*[:：]?\s*"
    r"([A-Za-z0-9][-_A-Za-z0-9]{4,19})(?![-_A-Za-z0-9])",
    re.IGNORECASE,
)
# Asking to be contacted on such an app, even without the id ("加VX", "私聊QQ").
_SOCIAL_ASK = re.compile(
    r"(?<![A-Za-z])(?:vx|v信|wx)(?![A-Za-z])|加(?:个)?(?:微信|微|qq|扣扣)|私(?:聊|信)",
    re.IGNORECASE,
)
_LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'，。；、）)】]+"
    r"|(?<![@\w.])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|cn|net|org|gov|edu|top|xyz|info|cc)"
    r"(?:/[^\s<>\"'，。；、）)】]*)?",
    re.IGNORECASE,
)


def _flat(text: str) -> str:
    """*text* with full-width and other compatibility forms as ASCII, character for
    character (NFKC per character where it gives one character), so spans found in the
    result are spans of *text*."""
    out = []
    for ch in text:
        norm = unicodedata.normalize("NFKC", ch)
        out.append(norm if len(norm) == 1 else ch)
    return "".join(out)


@dataclass(slots=True)
class Redactor:
    """Replaces personal data with numbered placeholders and restores them on the way back."""

    names: tuple[str, ...] = ()  # further names to hide (e.g. known users)
    vault: dict[str, str] = field(default_factory=dict)

    def _token(self, kind: str, value: str) -> str:
        for token, known in self.vault.items():
            if known == value and token.startswith(f"[{kind}_"):
                return token
        n = sum(1 for t in self.vault if t.startswith(f"[{kind}_")) + 1
        token = f"[{kind}_{n}]"
        self.vault[token] = value
        return token

    def _numbers(self, text: str) -> str:
        # Any run of 7+ digits, in any format store.phone reads, may be a phone or an ID
        # number (the ID's check letter X goes with it).
        parts: list[str] = []
        pos = 0
        for num in phone.numbers(text):
            end = num.end + 1 if text[num.end : num.end + 1] in ("X", "x") else num.end
            parts.append(text[pos : num.start])
            parts.append(self._token("PHONE", text[num.start : end]))
            pos = end
        parts.append(text[pos:])
        return "".join(parts)

    def _spans(self, text: str, kind: str, pattern: re.Pattern[str], group: int = 0) -> str:
        # found in the flattened text (１２３ｑｑ．ｃｏｍ reads as 123qq.com), replaced in *text*
        flat = _flat(text)
        parts: list[str] = []
        pos = 0
        for m in pattern.finditer(flat):
            start, end = m.span(group)
            parts.append(text[pos:start])
            parts.append(self._token(kind, text[start:end]))
            pos = end
        parts.append(text[pos:])
        return "".join(parts)

    def scrub(self, text: str) -> str:
        """*text* with phones, e-mail addresses, WeChat / QQ ids and personal names replaced
        by placeholders. Full-width forms, separators and Chinese numerals are read as what
        they spell (store.phone), on the raw text, before any encoding."""
        out = self._spans(text, "EMAIL", _EMAIL)
        out = self._spans(out, "ID", _SOCIAL_ID, 1)
        out = self._numbers(out)
        for name in sorted({n for n in self.names if len(n) >= 2}, key=len, reverse=True):
            out = out.replace(name, self._token("NAME", name))
        for pattern in (*_NAMES, _BARE_NAME):
            out = pattern.sub(
                lambda m: m.group(0).replace(m.group(1), self._token("NAME", m.group(1))), out
            )
        return out

    def scrub_data(self, data: Any) -> Any:
        """*data* (JSON-like: dicts, lists, strings) with every string scrubbed.

        Scrubbing the values, not their JSON encoding, matters: encoded, a tab or newline
        between digit groups becomes the letters ``\\t`` / ``\\n`` and hides the number.
        """
        if isinstance(data, str):
            return self.scrub(data)
        if isinstance(data, dict):
            return {key: self.scrub_data(value) for key, value in data.items()}
        if isinstance(data, list | tuple):
            return [self.scrub_data(value) for value in data]
        return data

    def restore(self, value: str) -> str:
        """*value* with every known placeholder put back (unknown ones are left visible)."""
        return PLACEHOLDER.sub(lambda m: self.vault.get(m.group(0), m.group(0)), value)


def has_personal_data(text: str) -> bool:
    """True when *text* holds a phone-like number (in any format, Chinese numerals too), an
    e-mail address, a WeChat / QQ id or a request to add one, or a placeholder."""
    flat = _flat(text)
    return bool(
        phone.has_number(text)
        or _EMAIL.search(flat)
        or PLACEHOLDER.search(flat)
        or _SOCIAL_ID.search(flat)
        or _SOCIAL_ASK.search(flat)
    )


def _link_key(link: str) -> str:
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", link.lower()).rstrip("/.,;:!?")


def links_in(text: str) -> list[str]:
    """The web links and bare domains in *text* (full-width forms read as ASCII)."""
    return [m.group(0) for m in _LINK.finditer(_flat(text))]


def foreign_links(answer: str, sources: Iterable[str]) -> list[str]:
    """Links in a model's *answer* that appear in none of the retrieved *sources* (invented
    or injected links are refused: a user might follow them)."""
    known = {_link_key(link) for text in sources for link in links_in(text)}
    return [link for link in links_in(answer) if _link_key(link) not in known]


def unsafe_answer(answer: str, sources: Iterable[str]) -> str:
    """Why a model's *answer* may not be shown ("" when it may): personal data or contact
    ids in any spelling, or links that are not in the retrieved *sources*."""
    if has_personal_data(answer):
        return "personal data or a contact id"
    if foreign_links(answer, sources):
        return "a link that is not in the sources"
    return ""
