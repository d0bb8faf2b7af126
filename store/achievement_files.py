"""A file of several achievements (CSV with a header row, or JSON Lines): every good row is
registered, every bad row is reported with its line number and the reason, nothing is lost.

Columns (English or Chinese names): title/成果名称, kind/类型, maturity/成熟度,
transfer_mode/转化方式, fields/领域, crops/作物, applied_in/应用地区, price/价格,
description/简介. Lists are separated by 、 , ; or |.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from store.achievements import Achievement, AchievementIn, add_achievement
from store.errors import InvalidInput
from store.users import User

MAX_BYTES = 1_000_000
MAX_ROWS = 500
COLUMNS: dict[str, str] = {
    "title": "title",
    "成果名称": "title",
    "名称": "title",
    "成果": "title",
    "kind": "kind",
    "类型": "kind",
    "成果类型": "kind",
    "maturity": "maturity",
    "成熟度": "maturity",
    "transfer_mode": "transfer_mode",
    "转化方式": "transfer_mode",
    "转让方式": "transfer_mode",
    "fields": "fields",
    "领域": "fields",
    "crops": "crops",
    "作物": "crops",
    "applied_in": "applied_in",
    "应用地区": "applied_in",
    "应用情况": "applied_in",
    "price": "price",
    "价格": "price",
    "价格区间": "price",
    "description": "description",
    "简介": "description",
    "说明": "description",
}
REQUIRED = ("title", "kind", "maturity", "transfer_mode")
# what a refused field is called in a report line
FIELD_ZH = {
    "title": "成果名称",
    "kind": "类型",
    "maturity": "成熟度",
    "transfer_mode": "转化方式",
    "fields": "领域",
    "crops": "作物",
    "owner": "持有人",
}
_HINT = {
    "kind": "新品种、技术、专利、装备、软件、标准",
    "maturity": "实验室、中试、示范、推广",
    "transfer_mode": "转让、许可、技术服务、合作开发",
}


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int  # 1-based line of the file
    reason: str  # a readable sentence (Chinese), naming the bad value


@dataclass(slots=True)
class ImportReport:
    added: list[Achievement] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (format, encoding, size, header)."""


def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        msg = f"文件太大（{len(data)} 字节），最多 {MAX_BYTES} 字节"
        raise UnreadableFile(msg)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    msg = "文件不是 UTF-8 或 GBK 编码的文本"
    raise UnreadableFile(msg)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value).strip()


def _row(raw: dict[str, Any]) -> AchievementIn:
    values = {COLUMNS[k.strip()]: _cell(v) for k, v in raw.items() if k and k.strip() in COLUMNS}
    return AchievementIn(
        title=values.get("title", ""),
        kind=values.get("kind", ""),
        maturity=values.get("maturity", ""),
        transfer_mode=values.get("transfer_mode", ""),
        fields=(values.get("fields", ""),),
        crops=(values.get("crops", ""),),
        applied_in=values.get("applied_in", ""),
        price=values.get("price", ""),
        description=values.get("description", ""),
    )


def read_rows(name: str, data: bytes) -> tuple[list[tuple[int, AchievementIn]], list[BadRow]]:
    """The rows of a .csv or .jsonl file as (line, values), and the lines that are no row.

    Raises:
        UnreadableFile: another format, a bad encoding, too big, a CSV without its columns.
    """
    text = _text(data)
    lower = name.lower()
    rows: list[tuple[int, AchievementIn]] = []
    bad: list[BadRow] = []
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as err:
                bad.append(BadRow(number, f"不是有效的 JSON（{err.msg}）"))
                continue
            if not isinstance(raw, dict):
                bad.append(BadRow(number, "每行应是一个 JSON 对象"))
                continue
            rows.append((number, _row(raw)))
    elif lower.endswith((".csv", ".txt")):
        reader = csv.DictReader(io.StringIO(text))
        header = {COLUMNS.get((h or "").strip()) for h in reader.fieldnames or []}
        missing = [FIELD_ZH[c] for c in REQUIRED if c not in header]
        if missing:
            msg = f"表头缺少列：{'、'.join(missing)}"
            raise UnreadableFile(msg)
        for raw in reader:
            if not any(_cell(v) for v in raw.values()):
                continue
            rows.append((reader.line_num, _row({k: v for k, v in raw.items() if k})))
    else:
        msg = f"不支持的文件类型“{name}”：请用 .csv 或 .jsonl"
        raise UnreadableFile(msg)
    if len(rows) > MAX_ROWS:
        msg = f"一次最多导入 {MAX_ROWS} 条，这个文件有 {len(rows)} 条"
        raise UnreadableFile(msg)
    return rows, bad


def refusal(err: InvalidInput) -> str:
    """A store refusal as a report sentence: which column, which value, why."""
    label = FIELD_ZH.get(err.field, err.field)
    shown = _cell(err.value) if not isinstance(err.value, tuple) else "、".join(err.value)
    if err.reason == "must not be empty" or not shown:
        return f"{label}不能为空"
    if err.field in _HINT:
        return f"{label}“{shown[:30]}”无法识别，可填：{_HINT[err.field]}"
    return f"{label}“{shown[:30]}”无法识别：{err.reason}"


def import_achievements(
    *, session: Session, owner: User, name: str, data: bytes, team_id: int | None = None
) -> ImportReport:
    """Register every good row of the file *name* for *owner*; report the bad ones by line.

    Raises:
        UnreadableFile: the file as a whole cannot be read (nothing is written).
        InvalidInput: the owner may not register achievements (nothing is written).
    """
    rows, bad = read_rows(name, data)
    report = ImportReport(bad=bad)
    for number, values in rows:
        try:
            report.added.append(
                add_achievement(
                    session=session, owner=owner, data=values, team_id=team_id, commit=False
                )
            )
        except InvalidInput as err:
            if err.field == "owner":
                session.rollback()
                raise
            report.bad.append(BadRow(number, refusal(err)))
    session.commit()
    for row in report.added:
        session.refresh(row)
    report.bad.sort(key=lambda b: b.line)
    return report
