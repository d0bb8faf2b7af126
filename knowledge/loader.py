"""Load and validate knowledge articles (Markdown with YAML front matter).

A malformed file is reported with its path, line and reason; the other files still load.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

MAX_FILE_BYTES = 1024 * 1024
BODY_MIN, BODY_MAX = 200, 1200
CATEGORIES = frozenset(
    {
        "disease",
        "pest",
        "soil",
        "cultivation",
        "livestock",
        "processing",
        "disaster",
        "health",
        "science",
        "policy",
    }
)
AUDIENCES = frozenset({"farmer", "citizen", "enterprise"})
REQUIRED = ("id", "title", "category", "audience", "questions", "source")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,80}$")
_WS = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    title: str
    body: str
    category: str
    audience: tuple[str, ...]
    questions: tuple[str, ...]
    source: str
    tags: tuple[str, ...] = ()
    crops: tuple[str, ...] = ()
    months: tuple[int, ...] = ()
    regions: tuple[str, ...] = ()  # provinces, cities or counties it is written for
    updated: str = ""
    path: str = ""
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class LoadError:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(slots=True)
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)


class ArticleError(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        self.line, self.reason = line, reason
        super().__init__(f"line {line}: {reason}")


def _str_list(meta: dict[str, object], key: str, line: int) -> tuple[str, ...]:
    value = meta.get(key, [])
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ArticleError(line, f"'{key}' must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _key_line(front: str, key: str) -> int:
    for i, text in enumerate(front.splitlines(), start=2):
        if text.startswith(f"{key}:"):
            return i
    return 1


def parse_article(text: str, *, path: str = "<text>") -> Article:
    """Parse one article.

    Raises:
        ArticleError: with the 1-based line number and the reason.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if not text.startswith("---\n"):
        raise ArticleError(1, "missing YAML front matter (the file must start with '---')")
    end = text.find("\n---", 4)
    if end < 0:
        raise ArticleError(1, "front matter is not closed by a '---' line")
    front = text[4:end]
    body_start_line = front.count("\n") + 4  # opening ---, front lines, closing ---
    body = text[end + 4 :].lstrip("-").strip("\n").strip()
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ArticleError(line, f"front matter: {problem}") from None
    if not isinstance(meta, dict):
        raise ArticleError(2, "front matter must be a mapping of keys to values")
    for key in REQUIRED:
        if key not in meta or meta[key] in (None, "", []):
            raise ArticleError(_key_line(front, key) if key in meta else 2, f"missing '{key}'")
    art_id = str(meta["id"]).strip()
    if not _ID.match(art_id):
        raise ArticleError(_key_line(front, "id"), f"id {art_id!r} must be lowercase a-z, 0-9, -")
    category = str(meta["category"]).strip()
    if category not in CATEGORIES:
        raise ArticleError(
            _key_line(front, "category"),
            f"unknown category {category!r} (one of {', '.join(sorted(CATEGORIES))})",
        )
    audience = _str_list(meta, "audience", _key_line(front, "audience"))
    if not audience or not set(audience) <= AUDIENCES:
        raise ArticleError(
            _key_line(front, "audience"), f"audience must be among {sorted(AUDIENCES)}"
        )
    questions = _str_list(meta, "questions", _key_line(front, "questions"))
    if not 2 <= len(questions) <= 5:
        raise ArticleError(
            _key_line(front, "questions"), f"needs 2-5 questions, has {len(questions)}"
        )
    months_raw = meta.get("months") or []
    if not isinstance(months_raw, list) or not all(
        isinstance(m, int) and 1 <= m <= 12 for m in months_raw
    ):
        raise ArticleError(_key_line(front, "months"), "months must be a list of numbers 1-12")
    regions = _str_list(meta, "regions", _key_line(front, "regions"))
    if any(len(r) > 32 for r in regions):
        raise ArticleError(
            _key_line(front, "regions"), "regions must be place names (province, city, county)"
        )
    size = len(_WS.sub("", body))
    if not BODY_MIN <= size <= BODY_MAX:
        raise ArticleError(
            body_start_line, f"body has {size} characters; expected {BODY_MIN}-{BODY_MAX}"
        )
    updated = _updated(meta.get("updated"), _key_line(front, "updated"))
    return Article(
        id=art_id,
        title=str(meta["title"]).strip(),
        body=body,
        category=category,
        audience=audience,
        questions=questions,
        source=str(meta["source"]).strip(),
        tags=_str_list(meta, "tags", _key_line(front, "tags")),
        crops=_str_list(meta, "crops", _key_line(front, "crops")),
        months=tuple(months_raw),
        regions=regions,
        updated=updated,
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _updated(value: object, line: int) -> str:
    """``updated`` as YYYY-MM-DD ("" when absent); a date that is no date, or lies in the
    future, is refused (how old an article is decides whether it is flagged for review)."""
    if value in (None, ""):
        return ""
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ArticleError(line, f"updated {value!r} must be a date YYYY-MM-DD") from None
    if day > date.today() + timedelta(days=1):
        raise ArticleError(line, f"updated {day.isoformat()} lies in the future")
    return day.isoformat()


def read_article_file(path: Path) -> Article:
    """Read and parse one file, refusing files over 1 MB or not in UTF-8."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ArticleError(0, f"file is {size} bytes; the limit is {MAX_FILE_BYTES} (1 MB)")
    return parse_article(decode_article(path.read_bytes()), path=str(path.resolve()))


def decode_article(raw: bytes) -> str:
    """The text of an article file, refusing more than 1 MB or anything but UTF-8.

    Raises:
        ArticleError: with the line of the first undecodable byte.
    """
    if len(raw) > MAX_FILE_BYTES:
        raise ArticleError(0, f"file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES} (1 MB)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ArticleError(line, "file is not UTF-8 text; save it as UTF-8") from None


def article_files(root: Path) -> list[Path]:
    """The article files under *root* (a folder, searched recursively, or one file)."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.md") if p.is_file() and not p.name.startswith("."))


def load_articles(paths: Iterable[Path]) -> LoadResult:
    """Load every file; collect errors instead of stopping; refuse duplicate ids."""
    result = LoadResult()
    seen: dict[str, str] = {}
    for path in paths:
        try:
            article = read_article_file(path)
        except ArticleError as exc:
            result.errors.append(LoadError(str(path), exc.line, exc.reason))
            continue
        except OSError as exc:
            result.errors.append(LoadError(str(path), 0, f"cannot read: {exc.strerror}"))
            continue
        if article.id in seen:
            result.errors.append(
                LoadError(
                    str(path), 2, f"duplicate id {article.id!r} (also in {seen[article.id]})"
                )
            )
            continue
        seen[article.id] = str(path)
        result.articles.append(article)
    return result
