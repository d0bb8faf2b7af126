"""The banned and restricted pesticide list as data, and the check every article passes.

``lexicons/banned_pesticides.tsv`` lists the products (banned everywhere, or on some crop
classes), the notices and legal alternatives; ``lexicons/crop_classes.tsv`` says which of our
crops fall in a notice's classes (柑橘 is 瓜果). The wiring builds one
:class:`retrieval.safety.PesticideGuard` from them and hands it to every path that writes
advice: offline answers, LLM answers, article uploads, imported Q&A, curated cases.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from knowledge import LEXICON_DIR
from knowledge.lexicons import Lexicon, default_lexicon
from knowledge.loader import Article, LoadError
from retrieval.safety import PesticideGuard, parse_rules

BANNED_FILE = "banned_pesticides.tsv"
CLASSES_FILE = "crop_classes.tsv"


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    out = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.strip() and not raw.lstrip().startswith("#"):
            out.append((lineno, [p.strip() for p in raw.split("\t")]))
    return out


def crop_classes(lexicon: Lexicon, path: Path) -> dict[str, frozenset[str]]:
    """Canonical crop -> the notice classes it belongs to.

    Raises:
        ValueError: ``path:line`` and the unknown crop or group.
    """
    groups: dict[str, set[str]] = {}
    for name, term in lexicon.crops.items():
        groups.setdefault(term.kind, set()).add(name)
    out: dict[str, set[str]] = {}
    for lineno, cells in _rows(path):
        if len(cells) < 2 or not cells[0]:
            msg = f"{path}:{lineno}: expected class<TAB>members"
            raise ValueError(msg)
        for member in (m.strip() for m in cells[1].replace("，", ",").split(",")):
            if not member:
                continue
            if member.startswith("@"):
                if member[1:] not in groups:
                    msg = f"{path}:{lineno}: no crop group {member[1:]!r} in crops.tsv"
                    raise ValueError(msg)
                crops = groups[member[1:]]
            elif member in lexicon.crop_alias:
                crops = {lexicon.crop_alias[member]}
            else:
                msg = f"{path}:{lineno}: unknown crop {member!r} (not in crops.tsv)"
                raise ValueError(msg)
            for crop in crops:
                out.setdefault(crop, set()).add(cells[0])
    return {crop: frozenset(classes) for crop, classes in out.items()}


def load_guard(directory: Path = LEXICON_DIR, lexicon: Lexicon | None = None) -> PesticideGuard:
    """The guard over the list in *directory*.

    Raises:
        ValueError: naming the file, line and bad value.
    """
    lexicon = lexicon or default_lexicon()
    path = directory / BANNED_FILE
    rows = _rows(path)
    try:
        rules = parse_rules([cells for _, cells in rows])
    except ValueError as err:
        msg = f"{path}: {err}"
        raise ValueError(msg) from None
    classes = crop_classes(lexicon, directory / CLASSES_FILE)
    known = {c for cs in classes.values() for c in cs} | {"all"}
    for lineno, cells in rows:
        rule_classes = {c for c in parse_rules([cells])[0].classes}
        if rule_classes - known:
            msg = f"{path}:{lineno}: unknown crop class {sorted(rule_classes - known)[0]!r}"
            raise ValueError(msg)
    return PesticideGuard(rules, classes, lexicon.crop_alias)


@lru_cache(maxsize=1)
def default_guard() -> PesticideGuard:
    """The bundled list, loaded once per process."""
    return load_guard()


def article_error(article: Article, guard: PesticideGuard) -> LoadError | None:
    """A load error when *article* recommends a product banned for its crops, else None.

    The line is that of the offending sentence in the file when it can be found.
    """
    findings = guard.violations(article.body, article.crops)
    findings += guard.violations("\n".join(article.questions), article.crops)
    if not findings:
        return None
    first = findings[0]
    line = 0
    if article.path and Path(article.path).is_file():
        text = Path(article.path).read_text(encoding="utf-8")
        at = text.find(first.sentence[:20])
        line = text[:at].count("\n") + 1 if at >= 0 else 0
    return LoadError(article.path or article.id, line, str(first))
