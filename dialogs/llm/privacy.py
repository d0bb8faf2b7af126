"""Personal data never goes to the model: phones and personal names become placeholders.

A :class:`Redactor` remembers what each placeholder stood for, so a value the model hands
back (``[PHONE_1]``) can be restored locally and validated like typed input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from store import phone

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
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
PLACEHOLDER = re.compile(r"\[(?:PHONE|NAME|EMAIL)_\d+\]")


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

    def scrub(self, text: str) -> str:
        """*text* with phones, e-mail addresses and personal names replaced by placeholders."""
        out = _EMAIL.sub(lambda m: self._token("EMAIL", m.group(0)), text)
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
    """True when *text* holds a phone-like number, an e-mail address or a placeholder."""
    return bool(phone.has_number(text) or _EMAIL.search(text) or PLACEHOLDER.search(text))
