"""`tianfu kb import`: question-and-answer rows from CSV or JSONL into the knowledge base.

Rows are checked one by one (a bad row is reported with its line and reason, the others are
kept); near-duplicate questions are merged (rapidfuzz on normalised questions); phones and
names are masked; an answer recommending a banned pesticide is refused. Items are stored
(``store.qa``) and indexed as documents whose title is the question, so answers cite them like
articles, naming their source; a whole source can be removed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process
from sqlmodel import Session

from knowledge.anonymise import mask_personal
from retrieval.index import Document, HybridIndex
from retrieval.safety import PesticideGuard
from store.qa import (
    DOC_PREFIX,
    MAX_ANSWER,
    MAX_QUESTION,
    MAX_SOURCE,
    QAItem,
    qa_items,
    remove_qa_source,
    save_qa_items,
)

MAX_FILE_BYTES = 50 * 1024 * 1024
DUPLICATE = 90  # rapidfuzz ratio (0-100) of two normalised questions that are the same
QA_KIND = "qa"
_PUNCT = re.compile(r"[\W_]+")
_CJK_OR_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z]")


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class ImportReport:
    source: str = ""
    read: int = 0
    added: int = 0
    updated: int = 0
    merged: int = 0  # rows folded into another row or item with the same question
    masked: int = 0  # rows in which personal data was masked
    bad: list[BadRow] = field(default_factory=list)


@dataclass(slots=True)
class _Row:
    line: int
    question: str
    answer: str
    source: str


def normalise_question(text: str) -> str:
    """What near-duplicates compare: NFKC, lower case, no punctuation or spaces."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text).lower())


def read_rows(path: Path, default_source: str = "") -> Iterator[_Row | BadRow]:
    """Rows of a CSV (header: question, answer[, source]) or JSONL file, or why not.

    Raises:
        ValueError: the file cannot be read at all (too big, unknown type, no header).
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        msg = f"{path}: {size} bytes; the limit is {MAX_FILE_BYTES}"
        raise ValueError(msg)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="strict")  # Excel in China saves GBK
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        yield from _jsonl_rows(text, default_source)
    elif suffix in (".csv", ".tsv", ".txt"):
        yield from _csv_rows(text, default_source, "\t" if suffix == ".tsv" else ",")
    else:
        msg = f"{path}: expected a .csv or .jsonl file"
        raise ValueError(msg)


def _jsonl_rows(text: str, default_source: str) -> Iterator[_Row | BadRow]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            yield BadRow(line, f"not JSON ({err.msg})")
            continue
        if not isinstance(data, dict):
            yield BadRow(line, "expected a JSON object with question and answer")
            continue
        yield _row(line, data, default_source)


def _csv_rows(text: str, default_source: str, delimiter: str) -> Iterator[_Row | BadRow]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    line = 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if header is None:
            header = [c.strip().lower() for c in cells]
            aliases = {"问题": "question", "答案": "answer", "回答": "answer", "来源": "source"}
            header = [aliases.get(h, h) for h in header]
            if "question" not in header or "answer" not in header:
                msg = f"the first line must name the columns question and answer, got {cells}"
                raise ValueError(msg)
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            yield BadRow(start, f"{len(cells)} cells for {len(header)} columns")
            continue
        yield _row(start, dict(zip(header, cells, strict=False)), default_source)


def _row(line: int, data: dict[str, object], default_source: str) -> _Row | BadRow:
    values = {}
    for key in ("question", "answer", "source"):
        value = data.get(key)
        if value is not None and not isinstance(value, str | int | float):
            return BadRow(line, f"{key} must be text")
        values[key] = unicodedata.normalize("NFC", str(value or "")).strip()
    source = values["source"] or default_source
    question, answer = values["question"], values["answer"]
    if not question:
        return BadRow(line, "no question")
    if not answer:
        return BadRow(line, "no answer")
    if not source:
        return BadRow(line, "no source (give a source column or --source NAME)")
    if len(question) > MAX_QUESTION:
        return BadRow(line, f"question has {len(question)} characters; the limit is 300")
    if len(answer) > MAX_ANSWER:
        return BadRow(line, f"answer has {len(answer)} characters; the limit is 3000")
    if len(source) > MAX_SOURCE:
        return BadRow(line, f"source has {len(source)} characters; the limit is 64")
    if len(normalise_question(question)) < 4 or not _CJK_OR_WORD.search(question):
        return BadRow(line, f"question {question!r} is too short to be a question")
    if len(normalise_question(answer)) < 8:
        return BadRow(line, f"answer {answer!r} is too short to help anyone")
    return _Row(line, question, answer, source)


def doc_id(source: str, norm: str) -> str:
    """A stable index id for a source's question."""
    return DOC_PREFIX + hashlib.sha1(f"{source}\n{norm}".encode()).hexdigest()[:16]


def qa_document(item: QAItem, crops: Iterable[str] = ()) -> Document:
    """How an item is indexed: the question is its title and its typical question."""
    sha = hashlib.sha256(f"{item.question}\n{item.answer}\n{item.source}".encode()).hexdigest()
    return Document(
        id=item.doc_id,
        text=item.answer,
        title=item.question,
        questions=(item.question,),
        sha256=sha,
        metadata={
            "title": item.question,
            "category": QA_KIND,
            "kind": QA_KIND,
            "crops": sorted(crops),
            "audience": ["farmer", "citizen"],
            "source": item.source,
            "questions": [item.question],
            "path": "",
        },
    )


def import_qa(
    *,
    session: Session,
    index: HybridIndex,
    path: Path,
    guard: PesticideGuard,
    source: str = "",
) -> ImportReport:
    """Read, check, merge, mask, store and index the rows of *path*.

    Raises:
        ValueError: the file cannot be read at all.
    """
    report = ImportReport(source=source)
    merged: dict[str, _Row] = {}  # normalised question -> the row that stands for it
    for row in read_rows(path, source):
        report.read += 1
        if isinstance(row, BadRow):
            report.bad.append(row)
            continue
        question, answer = mask_personal(row.question), mask_personal(row.answer)
        if (question, answer) != (row.question, row.answer):
            report.masked += 1
        crops = guard.crops_in(question)
        found = guard.violations(answer, sorted(crops))
        if found:
            why = f"the answer recommends {found[0].rule.name}, banned"
            where = "、".join(found[0].crops)
            report.bad.append(BadRow(row.line, f"{why} on {where}" if where else why))
            continue
        norm = normalise_question(question)
        same = process.extractOne(
            norm,
            [k for k, r in merged.items() if r.source == row.source],
            scorer=fuzz.ratio,
            score_cutoff=DUPLICATE,
        )
        if same is not None:
            kept = merged[same[0]]
            if fuzz.ratio(normalise_question(kept.answer), normalise_question(answer)) < DUPLICATE:
                kept.answer = f"{kept.answer}\n\n{answer}"[:MAX_ANSWER]
            report.merged += 1
            continue
        merged[norm] = _Row(row.line, question, answer, row.source)
    items = _against_stored(session, merged, report)
    saved = save_qa_items(session=session, items=items)
    index.sync(
        [qa_document(i, guard.crops_in(i.question + i.answer)) for i in saved],
        remove_missing=False,
    )
    return report


def _against_stored(session: Session, rows: dict[str, _Row], report: ImportReport) -> list[QAItem]:
    """Items to save: a question already stored for the same source is updated (its answer
    replaced); one that is a near-duplicate of a stored item is merged into it."""
    stored = qa_items(session=session)
    by_norm = {i.norm: i for i in stored}
    out: list[QAItem] = []
    for norm, row in rows.items():
        same = process.extractOne(
            norm,
            [i.norm for i in stored if i.source == row.source],
            scorer=fuzz.ratio,
            score_cutoff=DUPLICATE,
        )
        if same is not None:
            item = by_norm[same[0]]
            item.answer = row.answer
            out.append(item)
            report.updated += 1
            continue
        out.append(
            QAItem(
                doc_id=doc_id(row.source, norm),
                source=row.source,
                question=row.question,
                answer=row.answer,
                norm=norm,
            )
        )
        report.added += 1
    return out


def remove_source(*, session: Session, index: HybridIndex, source: str) -> int:
    """Take every item of *source* out of the store and the index; how many went."""
    ids = remove_qa_source(session=session, source=source)
    index.remove(ids)
    return len(ids)


def sync_qa(*, session: Session, index: HybridIndex, guard: PesticideGuard) -> int:
    """Index every stored item (unchanged ones are skipped) and drop indexed items that are
    no longer stored; the number of items. Run at start-up, so each process's index agrees
    with the database."""
    items = qa_items(session=session)
    docs = [qa_document(i, guard.crops_in(i.question + i.answer)) for i in items]
    stored = {d.id for d in docs}
    stale = [
        doc
        for doc, entry in index.manifest.items()
        if entry.get("metadata", {}).get("kind") == QA_KIND and doc not in stored
    ]
    index.remove(stale)
    index.sync(docs, remove_missing=False)
    return len(items)
