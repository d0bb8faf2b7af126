"""The indicator rollups recomputed on PostgreSQL in a few passes over the needs, for
`store.rollup_check` (``rebuild`` after a bulk load, ``check`` every night).

The generic recount (SQLite) reads the needs once per level and per chain: 26 passes, each
sorting wide rows with three region names, which does not finish in an hour at 10 million
needs. Here the needs are read four times: once for the distinct places, once into a narrow
staged copy (person, place number, day, kind, served, wait: no names), and once each for the
need days and the unmet days. Everything per level then reads the staged copy or the rows it
was reduced to, with places as numbers joined to their names only at the end:

- the waits are counted per place, day and minute once; each level sums those counts;
- a requester chain at a level is a window over that person's distinct (place at the level,
  day) rows - one sort of narrow rows per chain;
- an expert lives in one place, so their chain of accepting days is one window, counted at
  every level by cutting the expert's place.

The statements return the same rows, in the same column order, as `rollup_check.recompute`'s
generic ones; the staged tables are temporary and dropped at the end of the transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, TextClause, text
from sqlalchemy.schema import CreateIndex
from sqlmodel import Session

from store.rollup_tables import (
    EXPERT_DAYS,
    KIND_DAYS,
    LEVELS,
    MINUTE,
    NO_DAY,
    REQUESTER_DAYS,
    WAIT_BANDS,
    WAIT_EDGES,
    WAIT_MINUTES,
)

_EDGES = f"ARRAY[{', '.join(str(e) for e in WAIT_EDGES)}]"
_NO_DAY = f"DATE '{NO_DAY.isoformat()}'"

# name -> the statement that stages it (in this order); temporary, dropped on commit/rollback
_STAGE = {
    # every place a need names, numbered
    "rollup_places": """
        SELECT (row_number() OVER ())::int AS place, province, city, county
        FROM (SELECT DISTINCT province, city, county FROM needs) s
    """,
    # each place cut to each level (0 country .. 3 county): the cut's number and names
    "rollup_cuts": f"""
        SELECT place, level, (dense_rank() OVER (PARTITION BY level ORDER BY p, c, k))::int AS cut,
            p AS province, c AS city, k AS county
        FROM (
            SELECT place, level,
                CASE WHEN level >= 1 THEN province ELSE '' END AS p,
                CASE WHEN level >= 2 THEN city ELSE '' END AS c,
                CASE WHEN level >= 3 THEN county ELSE '' END AS k
            FROM rollup_places CROSS JOIN generate_series(0, {len(LEVELS) - 1}) AS l(level)
        ) s
    """,
    # the needs, narrow: what the chains and the waits read
    "rollup_src": """
        SELECT n.requester_id AS person, p.place, CAST(n.created_at AS date) AS day,
            n.requester_kind AS kind, n.accepted_at IS NOT NULL AS served,
            n.accept_seconds AS wait
        FROM needs n JOIN rollup_places p
            ON p.province = n.province AND p.city = n.city AND p.county = n.county
    """,
    # accepted needs per place, day and minute of waiting (the finest the waits are kept)
    "rollup_src_waits": f"""
        SELECT place, day, width_bucket(wait, {_EDGES}) - 1 AS band,
            (wait - (wait % {MINUTE} + {MINUTE}) % {MINUTE}) / {MINUTE} AS minutes,
            count(*) AS accepted
        FROM rollup_src WHERE wait IS NOT NULL
        GROUP BY place, day, band, minutes
    """,
    # people whose needs are in more than one place (their chains differ by level)
    "rollup_movers": """
        SELECT person FROM rollup_src GROUP BY person HAVING min(place) <> max(place)
    """,
    # each expert's distinct accepting days, each with the day before it (where they live)
    "rollup_src_experts": """
        SELECT u.province, u.city, u.county, d.day,
            lag(d.day) OVER (PARTITION BY d.expert ORDER BY d.day) AS prev
        FROM (
            SELECT DISTINCT o.expert_id AS expert, CAST(o.accepted_at AS date) AS day
            FROM orders o WHERE o.accepted_at IS NOT NULL
        ) d
        JOIN users u ON u.id = d.expert
        JOIN expert_profiles e ON e.user_id = u.id
    """,
}


def stage(session: Session) -> None:
    """Make the staged tables in *session*'s transaction (replacing any made before in it)."""
    session.execute(text("SET LOCAL work_mem = '1GB'"))  # a chain's sort in memory at 10 M needs
    for name, select in _STAGE.items():
        session.execute(text(f"DROP TABLE IF EXISTS pg_temp.{name}"))
        session.execute(text(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}"))
        session.execute(text(f"ANALYZE {name}"))


def _cut_names(level: int) -> str:
    return f"(SELECT DISTINCT cut, province, city, county FROM rollup_cuts WHERE level = {level})"


def _waits(*, minutes: bool) -> str:
    """The wait bands (or minutes) of every level from the staged per-place counts."""
    per = ", minutes" if minutes else ""
    parts = [
        f"""
        SELECT k.province, k.city, k.county, w.day, {level} AS level, w.band{per}, w.accepted
        FROM (
            SELECT m.cut, s.day, s.band{per}, sum(s.accepted)::int AS accepted
            FROM rollup_src_waits s
            JOIN rollup_cuts m ON m.place = s.place AND m.level = {level}
            GROUP BY m.cut, s.day, s.band{per}
        ) w JOIN {_cut_names(level)} k ON k.cut = w.cut
        """
        for level in range(len(LEVELS))
    ]
    return " UNION ALL ".join(parts)


def _chains(*, served: bool, kinds: bool) -> str:
    """The requester chain rows of every level (served: over needs that reached an expert;
    kinds: per requester kind). A person whose needs are all in one place has the same chain
    at every level: one window over their days, cut to each level. The others (movers) are
    chained level by level, over their distinct (place at that level, day)."""
    kind = ", kind" if kinds else ""
    skind = kind.replace(", ", ", s.")
    flag = "true" if served else "false"
    also = "AND s.served" if served else ""
    movers = " UNION ALL ".join(
        f"""
        SELECT {level} AS level, cut, day, coalesce(prev, {_NO_DAY}) AS prev_day{kind},
            count(*) AS n
        FROM (
            SELECT cut, day{kind},
                lag(day) OVER (PARTITION BY person, cut{kind} ORDER BY day) AS prev
            FROM (
                SELECT DISTINCT s.person, m.cut{skind}, s.day
                FROM rollup_src s
                JOIN rollup_cuts m ON m.place = s.place AND m.level = {level}
                WHERE s.person IN (SELECT person FROM rollup_movers) {also}
                ORDER BY s.person, m.cut{skind}, s.day
            ) d
        ) w
        GROUP BY cut, day, prev_day{kind}
        """
        for level in range(len(LEVELS))
    )
    # the distinct rows come sorted as the window reads them: one sort
    return f"""
        SELECT k.province, k.city, k.county, c.day, c.level, c.prev_day,
            {flag} AS served{kind}, c.requesters
        FROM (
            SELECT level, cut, day, prev_day{kind}, sum(n)::int AS requesters
            FROM (
                SELECT m.level, m.cut, w.day, coalesce(w.prev, {_NO_DAY}) AS prev_day{kind},
                    count(*) AS n
                FROM (
                    SELECT place, day{kind},
                        lag(day) OVER (PARTITION BY person{kind} ORDER BY day) AS prev
                    FROM (
                        SELECT DISTINCT s.person{skind}, s.day, s.place
                        FROM rollup_src s
                        WHERE NOT EXISTS (
                            SELECT 1 FROM rollup_movers v WHERE v.person = s.person
                        ) {also}
                        ORDER BY s.person{skind}, s.day, s.place
                    ) d
                ) w
                JOIN rollup_cuts m ON m.place = w.place
                GROUP BY m.level, m.cut, w.day, prev_day{kind}
                UNION ALL {movers}
            ) x
            GROUP BY level, cut, day, prev_day{kind}
        ) c
        JOIN (SELECT DISTINCT level, cut, province, city, county FROM rollup_cuts) k
            ON k.level = c.level AND k.cut = c.cut
    """


def _experts() -> str:
    parts = []
    names = ("province", "city", "county")
    for level in range(len(LEVELS)):
        place = [name if i < level else f"'' AS {name}" for i, name in enumerate(names)]
        group = ", ".join([*names[:level], "day", "prev_day"])
        parts.append(
            f"""
            SELECT {", ".join(place)}, day, {level} AS level,
                coalesce(prev, {_NO_DAY}) AS prev_day, count(*)::int AS experts
            FROM rollup_src_experts GROUP BY {group}
            """
        )
    return " UNION ALL ".join(parts)


def statements(generic: dict[Table, Any]) -> dict[Table, Any]:
    """*generic* (table -> SELECT, from rollup_check.recompute) with the tables the staged
    copies serve replaced by statements over them (call `stage` first, in the same
    transaction). The need days, unmet days, question days and registrations read their
    base tables once each already and are kept."""
    out = dict(generic)
    served = (False, True)
    out[WAIT_BANDS] = text(_waits(minutes=False))
    out[WAIT_MINUTES] = text(_waits(minutes=True))
    out[REQUESTER_DAYS] = text(" UNION ALL ".join(_chains(served=s, kinds=False) for s in served))
    out[KIND_DAYS] = text(" UNION ALL ".join(_chains(served=s, kinds=True) for s in served))
    out[EXPERT_DAYS] = text(_experts())
    return out


def refill(session: Session, table: Table, select: Any) -> None:
    """Replace every row of *table* with those of *select* (a statement of `statements`):
    emptied, its indexes dropped, filled, then its key and indexes built again - one sort
    each, instead of millions of inserts in random order into three-name keys."""
    name = table.name
    columns = ", ".join(c.name for c in table.columns)
    keys = ", ".join(c.name for c in table.primary_key.columns)
    session.execute(text(f"TRUNCATE {name}"))
    for index in table.indexes:
        session.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
    session.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT IF EXISTS {name}_pkey"))
    if isinstance(select, TextClause):
        session.execute(text(f"INSERT INTO {name} ({columns}) {select.text}"))
    else:
        session.execute(table.insert().from_select([c.name for c in table.columns], select))
    session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))  # the index sorts
    session.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_pkey PRIMARY KEY ({keys})"))
    for index in table.indexes:
        session.execute(CreateIndex(index))
