"""Scientific achievements (科技成果) that experts and teams offer for transfer: the catalogue
records, their vocabulary (kind, maturity, transfer mode) and validation.

Reading a file of several is store.achievement_files's; finding them by a question is the
retrieval index's (kept in step by the achievements desk).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, update
from sqlmodel import Field, Session, SQLModel, col, func, select

from store.clock import utcnow
from store.errors import InvalidInput, NotFound
from store.users import Role, User
from store.validation import clean_text, validate_region


class Kind(StrEnum):
    VARIETY = "variety"
    TECHNIQUE = "technique"
    PATENT = "patent"
    EQUIPMENT = "equipment"
    SOFTWARE = "software"
    STANDARD = "standard"


class Maturity(StrEnum):
    LAB = "lab"
    PILOT = "pilot"
    DEMONSTRATED = "demonstrated"
    WIDELY_USED = "widely_used"


class TransferMode(StrEnum):
    TRANSFER = "transfer"
    LICENCE = "licence"
    SERVICE = "service"
    JOINT = "joint"


# How people name each value (the first word is how it is shown). Longer words first where
# one contains another (技术服务 before 技术).
KIND_WORDS: dict[Kind, tuple[str, ...]] = {
    Kind.VARIETY: ("新品种", "品种", "品系", "种苗", "良种"),
    Kind.PATENT: ("专利", "发明专利", "实用新型"),
    Kind.EQUIPMENT: ("装备", "设备", "农机", "机械", "机具", "装置", "机器"),
    Kind.SOFTWARE: ("软件", "系统", "平台", "APP", "app", "小程序"),
    Kind.STANDARD: ("标准", "规范", "地方标准", "行业标准"),
    Kind.TECHNIQUE: ("技术", "工艺", "方法", "技术规程", "模式", "配方"),
}
MATURITY_WORDS: dict[Maturity, tuple[str, ...]] = {
    Maturity.WIDELY_USED: ("大面积推广", "广泛应用", "推广应用", "已推广", "大面积应用", "推广"),
    Maturity.DEMONSTRATED: ("示范应用", "示范", "试点应用", "小面积应用", "已应用"),
    Maturity.PILOT: ("中试", "小试", "试验阶段", "田间试验", "样机", "试验"),
    Maturity.LAB: ("实验室", "研发阶段", "研究阶段", "原理样机"),
}
MODE_WORDS: dict[TransferMode, tuple[str, ...]] = {
    TransferMode.SERVICE: ("技术服务", "技术咨询", "技术指导", "服务"),
    TransferMode.JOINT: ("合作开发", "联合开发", "共同开发", "合作研发", "合作"),
    TransferMode.LICENCE: ("许可", "授权", "许可使用", "普通许可", "独占许可"),
    TransferMode.TRANSFER: ("转让", "买断", "出售", "卖断"),
}


def _read(table: dict[Any, tuple[str, ...]], text: str) -> Any | None:
    """The value whose word appears first in *text* (longest word on a tie), else None."""
    best: tuple[int, int, Any] | None = None
    for value, words in table.items():
        if str(value) == text.strip():
            return value
        for word in words:
            at = text.find(word)
            if at >= 0 and (best is None or (at, -len(word)) < (best[0], best[1])):
                best = (at, -len(word), value)
    return best[2] if best else None


def read_kind(text: str) -> Kind | None:
    return _read(KIND_WORDS, text)


def read_maturity(text: str) -> Maturity | None:
    return _read(MATURITY_WORDS, text)


def read_mode(text: str) -> TransferMode | None:
    return _read(MODE_WORDS, text)


_PRICE_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万|千|元)?")
MAX_PRICE = 1_000_000_000


def read_price(text: str) -> tuple[int | None, int | None]:
    """(low, high) yuan from "5-10万", "20万元", "3000元"; (None, None) for "面议"."""
    pairs = _PRICE_NUMBER.findall(text.replace(",", "").replace("，", ""))
    values = []
    for i, (number, unit) in enumerate(pairs):
        # "5-10万": a number without a unit takes the next one's
        unit = unit or next((u for _, u in pairs[i + 1 :] if u), "")
        value = float(number) * {"万": 10_000, "千": 1_000}.get(unit, 1)
        if 0 < value <= MAX_PRICE:
            values.append(int(value))
    if not values:
        return None, None
    return min(values), max(values)


class Achievement(SQLModel, table=True):
    __tablename__ = "achievements"
    __table_args__ = (Index("ix_achievements_region", "province", "city", "county", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    title: str = Field(max_length=128)
    kind: str = Field(max_length=16)
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    crops: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    maturity: str = Field(max_length=16)
    applied_in: str = Field(default="", max_length=200)  # where it has been applied
    transfer_mode: str = Field(max_length=16)
    price_low: int | None = None  # yuan; None: 面议
    price_high: int | None = None
    description: str = Field(default="", max_length=2000)
    # the owner's region when registered: achievements are counted where they come from
    province: str = Field(default="", max_length=32)
    city: str = Field(default="", max_length=32)
    county: str = Field(default="", max_length=32)
    withdrawn: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class AchievementIn:
    """An achievement as given (by a form or a file row), before validation."""

    title: str
    kind: str
    maturity: str
    transfer_mode: str
    fields: tuple[str, ...] = ()
    crops: tuple[str, ...] = ()
    applied_in: str = ""
    price: str = ""
    description: str = ""


def _terms(values: tuple[str, ...], field: str) -> list[str]:
    out: list[str] = []
    for v in values:
        for part in re.split(r"[、,，;；|/\s]+", v):
            term = part.strip()[:32]
            if term and term not in out:
                out.append(term)
    if len(out) > 12:
        raise InvalidInput(field, values, "at most 12 terms")
    return out


def validate_achievement(data: AchievementIn) -> dict[str, Any]:
    """Checked column values.

    Raises:
        InvalidInput: an empty or over-long title, an unknown kind, maturity or transfer mode.
    """
    title = clean_text(data.title, field="title", max_len=128)
    kind = read_kind(data.kind) if data.kind else None
    if kind is None:
        raise InvalidInput("kind", data.kind, "unknown kind (新品种/技术/专利/装备/软件/标准)")
    maturity = read_maturity(data.maturity) if data.maturity else None
    if maturity is None:
        raise InvalidInput("maturity", data.maturity, "unknown maturity (实验室/中试/示范/推广)")
    mode = read_mode(data.transfer_mode) if data.transfer_mode else None
    if mode is None:
        raise InvalidInput(
            "transfer_mode",
            data.transfer_mode,
            "unknown transfer mode (转让/许可/技术服务/合作开发)",
        )
    low, high = read_price(data.price) if data.price else (None, None)
    return {
        "title": title,
        "kind": kind.value,
        "maturity": maturity.value,
        "transfer_mode": mode.value,
        "fields": _terms(data.fields, "fields"),
        "crops": _terms(data.crops, "crops"),
        "applied_in": data.applied_in.strip()[:200],
        "price_low": low,
        "price_high": high,
        "description": data.description.strip()[:2000],
    }


def add_achievement(
    *,
    session: Session,
    owner: User,
    data: AchievementIn,
    team_id: int | None = None,
    commit: bool = True,
) -> Achievement:
    """Register one achievement of *owner* (an expert), optionally on behalf of a team.

    Raises:
        InvalidInput: the owner is no expert, or a value is refused (nothing is written).
    """
    if owner.id is None or not owner.has_role(Role.EXPERT):
        raise InvalidInput("owner", owner.id, "achievements are registered by experts")
    values = validate_achievement(data)
    region = validate_region(owner.province, owner.city, owner.county)
    row = Achievement(
        owner_id=owner.id,
        team_id=team_id,
        province=region.province,
        city=region.city,
        county=region.county,
        **values,
    )
    session.add(row)
    if commit:
        session.commit()
        session.refresh(row)
    return row


def get_achievement(*, session: Session, achievement_id: int) -> Achievement:
    row = session.get(Achievement, achievement_id) if 0 < achievement_id < 2**31 else None
    if row is None or row.withdrawn:
        raise NotFound("achievement", achievement_id)
    return row


def achievements_of(*, session: Session, owner_id: int) -> list[Achievement]:
    stmt = select(Achievement).where(
        Achievement.owner_id == owner_id, col(Achievement.withdrawn).is_(False)
    )
    return list(session.exec(stmt.order_by(col(Achievement.id))).all())


def listed(*, session: Session, ids: list[int] | None = None) -> list[Achievement]:
    """Achievements on offer (all, or those of *ids*), oldest first."""
    stmt = select(Achievement).where(col(Achievement.withdrawn).is_(False))
    if ids is not None:
        stmt = stmt.where(col(Achievement.id).in_(ids))
    return list(session.exec(stmt.order_by(col(Achievement.id))).all())


def catalogue_version(*, session: Session) -> tuple[int, datetime | None]:
    """(rows, latest change): when either moves, the search index is stale."""
    count, latest = session.exec(select(func.count(), func.max(Achievement.updated_at))).one()
    return int(count), latest


def export_achievements(*, session: Session, user_id: int) -> list[dict[str, Any]]:
    stmt = select(Achievement).where(Achievement.owner_id == user_id)
    return [a.model_dump(mode="json") for a in session.exec(stmt).all()]


def forget_achievements(*, session: Session, user_id: int) -> int:
    """Withdraw a forgotten person's achievements and empty their texts; kind, maturity,
    region and time stay for the indicators (not committed)."""
    result = session.execute(
        update(Achievement)
        .where(col(Achievement.owner_id) == user_id)
        .values(
            title="",
            description="",
            applied_in="",
            fields=[],
            crops=[],
            withdrawn=True,
            updated_at=utcnow(),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
