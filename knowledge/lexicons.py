"""Domain lexicons: crops with aliases, pests and diseases, symptoms, practices, expert fields."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from knowledge import LEXICON_DIR
from retrieval.tokenizer import Vocabulary

# crop groups (crops.tsv) that are not plants, by the kind they are shown as
_KIND_OF_GROUP = {"畜禽": "animal", "水产": "animal", "食用菌": "fungus"}


@dataclass(frozen=True, slots=True)
class Term:
    name: str
    kind: str  # crop group, pest/disease kind, or problem category
    crops: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class Lexicon:
    crops: dict[str, Term] = field(default_factory=dict)
    pests_diseases: dict[str, Term] = field(default_factory=dict)
    symptoms: dict[str, str] = field(default_factory=dict)
    practices: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    stopwords: frozenset[str] = frozenset()
    fillers: frozenset[str] = frozenset()
    crop_alias: dict[str, str] = field(default_factory=dict)
    pest_alias: dict[str, str] = field(default_factory=dict)
    dialect: dict[str, str] = field(default_factory=dict)

    def user_words(self) -> list[str]:
        """Every multi-character domain word, for the tokenizer's user dictionary."""
        words: set[str] = set()
        words.update(self.crop_alias)
        words.update(self.pest_alias)
        words.update(self.symptoms)
        words.update(self.practices)
        words.update(self.fields)
        return sorted(w for w in words if len(w) >= 2)

    def vocabulary(self) -> Vocabulary:
        """What retrieval's tokenizer needs from these lexicons, as plain data."""
        return Vocabulary.of(
            words=self.user_words(),
            stopwords=self.stopwords,
            crop_alias=self.crop_alias,
            pest_alias=self.pest_alias,
            # a filler's standard word carries no content either (屋头 -> 家里)
            fillers=self.fillers | {self.dialect[w] for w in self.fillers if w in self.dialect},
            dialect=self.dialect,
        )

    def crop_kind(self, names: Iterable[str]) -> str:
        """What the named crops are, for the word they are shown under: "animal" (livestock,
        poultry, bees, fish), "fungus" (edible fungi), "plant", "mixed" when they differ, ""
        when the lexicon knows none of them."""
        kinds = set()
        for name in names:
            term = self.crops.get(self.crop_alias.get(name, name))
            if term is not None:
                kinds.add(_KIND_OF_GROUP.get(term.kind, "plant"))
        if len(kinds) > 1:
            return "mixed"
        return kinds.pop() if kinds else ""

    def normalise_crop(self, word: str) -> str | None:
        """The canonical crop for a name or alias (茵红李 -> 李), else None."""
        return self.crop_alias.get(word.strip())


def _rows(path: Path, columns: int) -> list[list[str]]:
    out: list[list[str]] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) < columns - 1 or not parts[0]:
            msg = f"{path}:{lineno}: expected {columns} tab-separated columns, got {line!r}"
            raise ValueError(msg)
        out.append(parts + [""] * (columns - len(parts)))
    return out


def _split(cell: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in cell.replace("，", ",").split(",") if x.strip())


def load_lexicon(directory: Path = LEXICON_DIR) -> Lexicon:
    """Read every lexicon file from *directory*."""
    lex = Lexicon()
    for name, group, aliases in _rows(directory / "crops.tsv", 3):
        term = Term(name, group, aliases=_split(aliases))
        lex.crops[name] = term
        lex.crop_alias[name] = name
        for alias in term.aliases:
            lex.crop_alias.setdefault(alias, name)
    for name, kind, crops, aliases in _rows(directory / "pests_diseases.tsv", 4):
        term = Term(name, kind, crops=_split(crops), aliases=_split(aliases))
        lex.pests_diseases[name] = term
        lex.pest_alias[name] = name
        for alias in term.aliases:
            lex.pest_alias.setdefault(alias, name)
    for target, filename in (
        (lex.symptoms, "symptoms.tsv"),
        (lex.practices, "practices.tsv"),
        (lex.fields, "fields.tsv"),
    ):
        for term_name, category in _rows(directory / filename, 2):
            target[term_name] = category
    words = (directory / "stopwords.txt").read_text(encoding="utf-8").splitlines()
    lex.stopwords = frozenset(w.strip() for w in words if w.strip() and not w.startswith("#"))
    fillers = directory / "fillers.txt"
    if fillers.exists():
        lines = fillers.read_text(encoding="utf-8").splitlines()
        lex.fillers = frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))
    dialect = directory / "dialect.tsv"
    if dialect.exists():
        for word, standard in _rows(dialect, 2):
            if not standard:
                msg = f"{dialect}: {word!r} has no standard word"
                raise ValueError(msg)
            lex.dialect[word] = standard
    return lex


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The bundled lexicons, loaded once per process."""
    return load_lexicon()


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The bundled lexicons as retrieval's vocabulary (one object, so the tokenizer is shared)."""
    return default_lexicon().vocabulary()
