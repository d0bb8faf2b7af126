"""The indicator rollup tables (described in store.rollups), their keys, the bands of time to
accept and the day arithmetic the tracking, the check and the reads share."""

from __future__ import annotations

import bisect
import hashlib
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import Index, Table
from sqlmodel import Field, SQLModel

from store.clock import as_utc
from store.lifecycle import UNMET_STATUSES
from store.needs import Need

NO_DAY = date(1970, 1, 1)  # the previous day of a requester's first day
LEVELS = ("", "province", "city", "county")  # level number -> the deepest column kept
UNMET = sorted(s.value for s in UNMET_STATUSES)
MINUTE = 60  # the resolution of a median time to accept, in seconds
# Bands of time to accept (seconds, whole minutes): 0, 1 minute, then about 15 % wider each;
# the last is open.
WAIT_EDGES: tuple[int, ...] = (0, *sorted({MINUTE * round(1.15**i) for i in range(110)}))


def wait_band(seconds: int) -> int:
    """The band of a time to accept (-1 below zero: a clock that went backwards)."""
    return bisect.bisect_right(WAIT_EDGES, seconds) - 1


def band_range(band: int) -> tuple[int | None, int | None]:
    """[low, high) seconds of a band (None: unbounded)."""
    low = WAIT_EDGES[band] if band >= 0 else None
    high = WAIT_EDGES[band + 1] if band + 1 < len(WAIT_EDGES) else None
    return low, high


def _level_index(table: str, *columns: str) -> Index:
    """The index a view reads one level of one region of *table* by (that level's rows only):
    level, region, day, then *columns*."""
    return Index(f"ix_{table}_level", "level", "province", "city", "county", "day", *columns)


def chain_index(table: str) -> Index:
    """The index a view reads a chain table by: level, province, then day and previous day
    before the rest of the region, so that "the region's days in the period whose previous
    day is before it" is one short range per day (`day IN (...)`: an index descent each)
    whatever the number of rows per region and day, then the table's CHAIN_INDEXES columns."""
    return Index(
        f"ix_{table}_chain",
        *("level", "province", "day", "prev_day", "city", "county", *CHAIN_INDEXES[table]),
    )


CHAIN_INDEXES = {
    "rollup_requester_days": ("served", "requesters"),
    "rollup_kind_days": ("served", "kind", "requesters"),
    "rollup_expert_days": ("experts",),
}


class _Region(SQLModel):
    province: str = Field(default="", primary_key=True, max_length=32)
    city: str = Field(default="", primary_key=True, max_length=32)
    county: str = Field(default="", primary_key=True, max_length=32)
    day: date = Field(primary_key=True)


class NeedDay(_Region, table=True):
    __tablename__ = "rollup_need_days"
    __table_args__ = (_level_index("rollup_need_days"),)

    level: int = Field(primary_key=True)
    requester_kind: str = Field(default="individual", primary_key=True, max_length=16)
    needs: int = 0
    accepted: int = 0
    resolved: int = 0
    unmet: int = 0
    rating_sum: int = 0
    rating_count: int = 0
    docked: int = 0  # 对接 requests (needs on an achievement) resolved


class WaitBand(_Region, table=True):
    __tablename__ = "rollup_wait_bands"
    __table_args__ = (_level_index("rollup_wait_bands", "band", "accepted"),)

    level: int = Field(primary_key=True)
    band: int = Field(primary_key=True)
    accepted: int = 0


class WaitMinute(_Region, table=True):
    __tablename__ = "rollup_wait_minutes"
    # a median reads the minutes of one band of one region
    __table_args__ = (
        Index(
            "ix_rollup_wait_minutes_band",
            "level",
            "band",
            "province",
            "city",
            "county",
            "day",
            "minutes",
            "accepted",
        ),
    )

    level: int = Field(primary_key=True)
    band: int = Field(primary_key=True)
    minutes: int = Field(primary_key=True)
    accepted: int = 0


class UnmetDay(_Region, table=True):
    __tablename__ = "rollup_unmet_days"
    __table_args__ = (_level_index("rollup_unmet_days"),)

    level: int = Field(primary_key=True)
    category: str = Field(primary_key=True, max_length=16)
    crop: str = Field(primary_key=True, max_length=32)
    unmet: int = 0


class RequesterDay(_Region, table=True):
    __tablename__ = "rollup_requester_days"
    # a view reads the first days in a period of one level of one region (chain_index)
    __table_args__ = (chain_index("rollup_requester_days"),)

    level: int = Field(primary_key=True)
    prev_day: date = Field(primary_key=True)
    served: bool = Field(primary_key=True)
    requesters: int = 0


class ExpertRegistration(_Region, table=True):
    """Expert profiles by the day they were made, where the expert lives, per level: the
    registered experts of a region up to a day are the sum of its rows before that day."""

    __tablename__ = "rollup_expert_registrations"
    __table_args__ = (_level_index("rollup_expert_registrations", "experts"),)

    level: int = Field(primary_key=True)
    experts: int = 0


class KindDay(_Region, table=True):
    """As RequesterDay, per requester kind (enterprise, individual): issue 18's acquisition
    rates by kind. A requester with needs of both kinds is in both chains."""

    __tablename__ = "rollup_kind_days"
    __table_args__ = (chain_index("rollup_kind_days"),)

    level: int = Field(primary_key=True)
    prev_day: date = Field(primary_key=True)
    served: bool = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=16)
    requesters: int = 0


class QuestionDay(_Region, table=True):
    __tablename__ = "rollup_question_days"
    __table_args__ = (_level_index("rollup_question_days"),)

    level: int = Field(primary_key=True)
    questions: int = 0
    unanswered: int = 0


class GapDay(_Region, table=True):
    """The knowledge gap: per level, region cut to that level, day, kind ("unanswered": no
    answer found, "unhelpful": an answer rated 没用) and question text (by its md5, *qhash*:
    a text may be longer than an index entry), the logged questions of that text, the last
    time it was asked and the greatest article offered (store.rollup_gaps)."""

    __tablename__ = "rollup_gap_days"
    __table_args__ = (_level_index("rollup_gap_days", "kind"),)

    level: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=16)
    qhash: str = Field(primary_key=True, max_length=32)
    asked: int = 0
    question: str = Field(default="", max_length=2000)
    last_at: datetime | None = None
    top_hit: str = Field(default="", max_length=128)


class ExpertDay(_Region, table=True):
    __tablename__ = "rollup_expert_days"
    __table_args__ = (chain_index("rollup_expert_days"),)

    level: int = Field(primary_key=True)
    prev_day: date = Field(primary_key=True)
    experts: int = 0


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined]


NEED_DAYS, UNMET_DAYS = _table(NeedDay), _table(UnmetDay)
WAIT_BANDS, WAIT_MINUTES = _table(WaitBand), _table(WaitMinute)
REQUESTER_DAYS, QUESTION_DAYS = _table(RequesterDay), _table(QuestionDay)
EXPERT_DAYS, KIND_DAYS = _table(ExpertDay), _table(KindDay)
GAP_DAYS = _table(GapDay)
REGISTRATIONS = _table(ExpertRegistration)
NEEDS = _table(Need)
TABLES = (
    NEED_DAYS,
    WAIT_BANDS,
    WAIT_MINUTES,
    UNMET_DAYS,
    REQUESTER_DAYS,
    KIND_DAYS,
    QUESTION_DAYS,
    EXPERT_DAYS,
    REGISTRATIONS,
    GAP_DAYS,
)


@lru_cache(maxsize=16)
def keys_of(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def values_of(table: Table) -> list[str]:
    return [c.name for c in table.columns if not c.primary_key]


def text_hash(text: str) -> str:
    """The key of a question text in rollup_gap_days (PostgreSQL's md5() of the same text)."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def utc_day(at: datetime) -> date:
    return as_utc(at).astimezone(UTC).date()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def cut(region: tuple[str, str, str], level: int) -> tuple[str, str, str]:
    """The region at *level* (0 country .. 3 county): deeper parts emptied."""
    return (
        region[0] if level >= 1 else "",
        region[1] if level >= 2 else "",
        region[2] if level >= 3 else "",
    )


def question_table() -> Table:
    # store.questions imports this module to count its rows: its table is found by name
    return SQLModel.metadata.tables["question_log"]


def user_table() -> Table:
    # store.users imports this module (an expert's region changes): found by name
    return SQLModel.metadata.tables["users"]


def expert_table() -> Table:
    return SQLModel.metadata.tables["expert_profiles"]  # by name, as question_table


def order_table() -> Table:
    return SQLModel.metadata.tables["orders"]  # store.orders imports this module


def day_range(since: datetime, until: datetime) -> tuple[date, date] | None:
    """(first day, day after the last) when the period is whole UTC days, else None."""
    since, until = as_utc(since).astimezone(UTC), as_utc(until).astimezone(UTC)
    if since.timetz() != time(tzinfo=UTC) or until.timetz() != time(tzinfo=UTC):
        return None
    return since.date(), until.date()


def whole_days(*, until: datetime) -> datetime:
    """The next midnight (UTC) at or after *until*."""
    day = utc_day(until)
    start = midnight(day)
    return start if start == as_utc(until) else midnight(day + timedelta(days=1))
