"""The pesticide guard: never recommend a product banned in China, and answer questions about
one with the ban and a legal alternative.

The rules (which products, banned everywhere or on which crop classes, under which notice, what
to use instead) are data read by knowledge/ and handed in by the wiring; this module only
reads text. A product named where the text forbids or warns ("蔬菜上禁止使用毒死蜱", "甲胺磷早已
禁用", "误服百草枯") is no recommendation; a product named as something to use is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ALL = "all"
BAN_DOC = "pesticide-bans"  # the citation of an answer that states a ban
BAN_TITLE = "国家禁限用农药名录"
BANNED, RESTRICTED = "banned", "restricted"

# A clause that forbids, warns or looks back: the product named there is not recommended.
_PROHIBIT = re.compile(
    r"禁|不得|不准|不许|不能|不可|不要|不宜|别用|别打|莫用|勿|杜绝|严防|停止|淘汰|撤销|违法|违规|非法"
    r"|高毒|剧毒|中毒|误服|误食|替代|代替|取代|替换|换掉|限用|限制使用|曾经|过去|以前|早已|早就"
    r"|不再|避免|警惕|假药|名单|名录|公告"
)
# Words that turn a clause into advice to use something.
_ADVISE = re.compile(
    r"效果好|效果不错|好用|管用|可以用|可用|可以打|可选|选用|推荐|建议用|用量|兑水|对水|倍液|克/亩"
    r"|毫升|每亩|喷施|喷雾|灌根|拌种|撒施|穴施|沟施|来防|来治|来打|就用|就打|最好用"
)
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
_CLAUSE = re.compile(r"[，,：:、（）()]")
# A question about a poisoning needs first aid, not the ban.
_POISONED = re.compile(r"中毒|误服|误食|喝了|吃了|喝下|急救|解毒|洗胃|送医")
_QUESTION = re.compile(r"[？?]\s*$|吗\s*$|能用不|还能用|能不能用|可不可以用")
_ASCII = re.compile(r"^[0-9A-Za-z,，-]+$")


@dataclass(frozen=True, slots=True)
class PesticideRule:
    """One product of the banned / restricted list.

    Attributes:
        name: its common Chinese name.
        aliases: trade and colloquial names (呋喃丹 for 克百威).
        status: "banned" everywhere, or "restricted" on some crop classes.
        classes: crop classes it may not be used on (("all",) for every crop).
        notice: the public notice(s) the ban rests on.
        alternatives: legal products or practices to use instead.
        note: an exception or what is coming (种子包衣除外, 分步淘汰), may be empty.
    """

    name: str
    aliases: tuple[str, ...]
    status: str
    classes: tuple[str, ...]
    notice: str
    alternatives: tuple[str, ...]
    note: str = ""

    @property
    def everywhere(self) -> bool:
        return ALL in self.classes


@dataclass(frozen=True, slots=True)
class Finding:
    """A sentence that recommends a product where it is banned."""

    rule: PesticideRule
    sentence: str
    crops: tuple[str, ...]  # the crops it would be used on (empty: banned on every crop)

    def __str__(self) -> str:
        where = "、".join(self.crops) if self.crops else "any crop"
        return f"recommends {self.rule.name} for {where} ({self.rule.notice}): {self.sentence}"


class PesticideGuard:
    """Finds banned products in text and says what the ban is.

    Args:
        rules: the list (see ``knowledge/lexicons/banned_pesticides.tsv``).
        crop_classes: canonical crop -> the crop classes of the notices it belongs to
            (柑橘 -> {"瓜果"}).
        crop_alias: any crop name or alias -> its canonical name (for crops named in text).
    """

    def __init__(
        self,
        rules: Iterable[PesticideRule],
        crop_classes: Mapping[str, frozenset[str]],
        crop_alias: Mapping[str, str],
    ) -> None:
        self.rules = tuple(rules)
        self.crop_classes = dict(crop_classes)
        self._names: list[tuple[str, PesticideRule]] = sorted(
            ((n, r) for r in self.rules for n in (r.name, *r.aliases) if n),
            key=lambda pair: -len(pair[0]),
        )
        # longest first, so 甲基对硫磷 is not read as 对硫磷 and 氧乐果 not as 乐果
        self._pattern = re.compile("|".join(_name_pattern(n) for n, _ in self._names) or r"(?!x)x")
        self._by_name = {n: r for n, r in self._names}
        self._crops = sorted(
            ((alias, crop) for alias, crop in crop_alias.items() if len(alias) >= 2),
            key=lambda pair: -len(pair[0]),
        )

    def __len__(self) -> int:
        return len(self.rules)

    # ---- reading text ------------------------------------------------------------------
    def mentions(self, text: str) -> list[PesticideRule]:
        """The listed products named in *text*, each once, in order."""
        out: list[PesticideRule] = []
        for m in self._pattern.finditer(text or ""):
            rule = self._by_name[m.group(0)]
            if rule not in out:
                out.append(rule)
        return out

    def crops_in(self, text: str) -> set[str]:
        """The canonical crops named in *text* (two characters or more)."""
        found: set[str] = set()
        for alias, crop in self._crops:
            if alias in text:
                found.add(crop)
        return found

    def classes_of(self, crop: str) -> frozenset[str]:
        return self.crop_classes.get(crop, frozenset())

    def banned_on(self, rule: PesticideRule, crops: Iterable[str]) -> tuple[str, ...]:
        """Those of *crops* the rule forbids the product on."""
        if rule.everywhere:
            return tuple(crops)
        return tuple(c for c in crops if self.classes_of(c) & set(rule.classes))

    def violations(self, text: str, crops: Iterable[str] = ()) -> list[Finding]:
        """Sentences of *text* that recommend a product where it is banned.

        *crops* are what the text is about (an article's crops, the question's); a sentence
        that names crops of its own is judged for those too. A product banned everywhere is a
        violation whatever the crop; a restricted one only on a crop in its classes.
        """
        about = tuple(crops)
        out: list[Finding] = []
        for sentence in _SENTENCE.findall(text or ""):
            if _QUESTION.search(sentence):
                continue  # a question is asked, not advised ("百草枯还能用不？")
            for m in self._pattern.finditer(sentence):
                rule = self._by_name[m.group(0)]
                if _forbidden_here(sentence, m.start(), m.end()):
                    continue
                named = tuple(sorted(self.crops_in(sentence)))
                targets = tuple(dict.fromkeys((*about, *named)))
                if rule.everywhere or rule.status == BANNED:
                    out.append(Finding(rule, sentence.strip(), targets))
                elif hit := self.banned_on(rule, targets):
                    out.append(Finding(rule, sentence.strip(), hit))
        return out

    def scrub(self, text: str, crops: Iterable[str] = ()) -> str:
        """*text* without the sentences that recommend a banned product."""
        bad = {f.sentence for f in self.violations(text, crops)}
        if not bad:
            return text
        kept = [s for s in _SENTENCE.findall(text) if s.strip() not in bad]
        return "".join(kept).strip()

    def asked_about(self, question: str) -> list[PesticideRule]:
        """The listed products a question asks about; none for a poisoning (first aid first)."""
        if _POISONED.search(question or ""):
            return []
        return self.mentions(question)

    # ---- saying what the ban is ---------------------------------------------------------
    def explain(self, rules: Iterable[PesticideRule], crops: Iterable[str] = ()) -> str:
        """The ban of each product, for these crops, with legal alternatives (in Chinese)."""
        crops = tuple(crops)
        parts: list[str] = []
        for rule in rules:
            parts.append(self._explain_one(rule, crops))
        parts.append("用药前请看清标签上的登记作物、剂量和安全间隔期；拿不准时问当地农技站。")
        return "\n".join(parts)

    def _explain_one(self, rule: PesticideRule, crops: tuple[str, ...]) -> str:
        alternatives = "、".join(rule.alternatives)
        instead = ""
        if alternatives:
            instead = f"可以改用：{alternatives}（选在您的作物上登记过的产品）。"
        if rule.status == BANNED:
            return (
                f"{rule.name}是国家禁止生产、销售和使用的农药，任何作物上都不能用，"
                f"也不要购买和存放（依据：{rule.notice}）。{instead}"
            )
        where = "所有农作物" if rule.everywhere else "、".join(rule.classes)
        note = f"{rule.note}。" if rule.note else ""
        head = f"{rule.name}是限用农药，禁止在{where}上使用（依据：{rule.notice}）。{note}"
        hit = self.banned_on(rule, crops)
        if hit:
            names = "、".join(hit)
            return f"{head}您问的{names}在禁用范围内，不能用。{instead}"
        if crops:
            names = "、".join(crops)
            return (
                f"{head}{names}不在这个禁用范围内，但也只能用在{names}上登记过的产品，"
                f"按标签剂量和安全间隔期使用。{instead}"
            )
        return head + instead


def _name_pattern(name: str) -> str:
    escaped = re.escape(name)
    if _ASCII.match(name):
        # "1605", "DDT", "B9": not inside a longer number or word (a phone, a model name)
        return rf"(?<![0-9A-Za-z]){escaped}(?![0-9A-Za-z])"
    return escaped


def _forbidden_here(sentence: str, start: int, end: int) -> bool:
    """Whether the product at start:end is named to forbid or warn, not to advise."""
    left = max((m.end() for m in _CLAUSE.finditer(sentence, 0, start)), default=0)
    right_match = _CLAUSE.search(sentence, end)
    right = right_match.start() if right_match else len(sentence)
    clause = sentence[left:right]
    if _PROHIBIT.search(clause):
        return True
    if _ADVISE.search(clause):
        return False
    # "严禁使用以下农药：甲胺磷、…" or "甲胺磷这类药，国家早就禁了": the sentence forbids
    return bool(_PROHIBIT.search(sentence))


def parse_rules(rows: Iterable[list[str]]) -> list[PesticideRule]:
    """Rules from the tab-separated columns of the list (see its header).

    Raises:
        ValueError: naming the product and the bad value.
    """
    out: list[PesticideRule] = []
    for row in rows:
        name, aliases, status, classes, notice, alternatives, note = (row + [""] * 7)[:7]
        if status not in (BANNED, RESTRICTED):
            msg = f"{name}: status must be banned or restricted, got {status!r}"
            raise ValueError(msg)
        if not classes.strip() or not notice.strip():
            msg = f"{name}: the crops it is banned on and the notice are required"
            raise ValueError(msg)
        out.append(
            PesticideRule(
                name=name,
                aliases=_split(aliases),
                status=status,
                classes=_split(classes),
                notice=notice.strip(),
                alternatives=_split(alternatives),
                note=note.strip(),
            )
        )
    return out


def _split(cell: str) -> tuple[str, ...]:
    # "2,4-滴丁酯" keeps its comma: split on a comma only when no digit precedes it
    parts = re.split(r"(?<![0-9]),|，(?![0-9])", cell)
    return tuple(p.strip() for p in parts if p.strip())
