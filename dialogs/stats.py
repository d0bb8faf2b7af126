"""Regional indicators for administrators: `/stats [地区] [起始日期]` and shared formatting."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from dialogs.context import Turn
from dialogs.gaps import grouped
from dialogs.i18n import ZH, t
from dialogs.nlu.periods import find_period
from dialogs.nlu.regions import RegionLookupError, lookup, resolve
from dialogs.state import StatsMemory
from dialogs.types import Outcome
from store.clock import utcnow
from store.metrics import Indicators, RegionReport, region_report
from store.rollup_check import check
from store.users import User
from store.validation import Region

log = logging.getLogger(__name__)

_COMMAND = re.compile(r"^\s*/stats(?:@\w+)?", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_FILLER = re.compile(
    r"查看|看看|看一下|查一下|查询|请|给我|一下|的|地区|服务|科技|指标|统计数据|统计|数据|情况|"
    r"获取率|供给率|看板|从|以来|开始|起|期间|这段时间|近期|怎么样|咋样|如何|呢|喃|[，,。.!！?？\s]"
)
# "三台县呢", "那上个月的呢", "换成绵阳市看看": another region or period for the same figures
_FOLLOW_TRIM = re.compile(
    r"^(?:那么?|那个|还有|换成|换到|改成|再看看?|看看|再查查?)|(?:的|的情况|的数据|的指标)?"
    r"(?:呢|喃|咧|嘞|怎么样|咋样|如何)?[，,。.!！?？\s]*$"
)
_FOLLOW_MAX = 16  # a follow-up is short: a longer message says what it wants itself
FRESH = timedelta(minutes=30)  # an older answer is not what "三台县呢" refers to
CHILD_LINES = 8
GAP_LINES = 5


FIRST_YEAR, LAST_YEAR = 2000, 2099  # indicators are about this platform's years


def parse_date(value: str) -> datetime:
    """A calendar date (2026-01-01, 2026/1/1, 2026年1月1日) as midnight UTC.

    Raises:
        ValueError: naming the value that is not a date, or a year out of range (Chinese).
    """
    m = _DATE.fullmatch(value.strip())
    try:
        if not m:
            raise ValueError(value)
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        msg = f"日期“{value}”无效，请写成 YYYY-MM-DD，例如 2026-01-01"
        raise ValueError(msg) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        msg = f"日期“{value}”超出范围：只能统计 {FIRST_YEAR} 至 {LAST_YEAR} 年"
        raise ValueError(msg)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def pct(rate: float | None, locale: str) -> str:
    return t("no_data", locale) if rate is None else f"{rate * 100:.1f}%"


def duration(seconds: float | None, locale: str) -> str:
    if seconds is None:
        return t("no_data", locale)
    if seconds < 3600:
        return t("minutes", locale, n=seconds / 60)
    if seconds < 48 * 3600:
        return t("hours", locale, n=seconds / 3600)
    return t("days", locale, n=seconds / 86400)


def region_name(region: Region, locale: str) -> str:
    if not region:
        return t("stats_nationwide", locale)
    if region.county:
        return region.county
    return region.city or region.province


def category_name(category: str, locale: str) -> str:
    key = f"cat_{category}"
    return t(key, locale) if key in ZH else category


COLUMNS = (
    "col_region",
    "col_requesters",
    "col_needs",
    "col_acquisition",
    "col_experts",
    "col_active_experts",
    "col_supply",
    "col_median_hours",
    "col_resolution",
    "col_rating",
    "col_questions",
    "col_unanswered",
    # issue 18
    "col_acq_enterprise",
    "col_acq_individual",
    "col_achievements",
    "col_dockings",
)


def _pct_value(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def table(report: RegionReport, locale: str = "zh") -> tuple[list[str], list[list[Any]]]:
    """Header and rows (the region itself, then its children) for a terminal table or CSV.

    Rates are percentages; a cell with no data is ``None``.
    """
    header = [t(c, locale) for c in COLUMNS]
    rows = []
    for ind in [report.total, *report.children]:
        hours = ind.median_accept_seconds
        rows.append(
            [
                region_name(ind.region, locale),
                ind.requesters,
                ind.needs,
                _pct_value(ind.acquisition_rate),
                ind.experts,
                ind.active_experts,
                _pct_value(ind.supply_rate),
                None if hours is None else round(hours / 3600, 1),
                _pct_value(ind.resolution_rate),
                None if ind.rating_avg is None else round(ind.rating_avg, 2),
                ind.questions,
                _pct_value(ind.unanswered_rate),
                _pct_value(ind.enterprise_acquisition_rate),
                _pct_value(ind.individual_acquisition_rate),
                ind.achievements,
                ind.dockings_done,
            ]
        )
    return header, rows


def render(report: RegionReport, locale: str = "zh") -> str:
    """The report as one chat message."""
    tot = report.total
    lines = [
        t(
            "stats_head",
            locale,
            region=report.region.label or t("stats_nationwide", locale),
            since=report.since.date().isoformat(),
            until=_last_day(report.until).isoformat(),
        )
    ]
    if not tot.has_data:
        lines.append(t("stats_no_data", locale))
        return "\n".join(lines)
    lines += [
        t(
            "stats_needs",
            locale,
            needs=tot.needs,
            accepted=tot.accepted_needs,
            resolved=tot.resolved_needs,
            unmet=tot.unmet_needs,
        ),
        t(
            "stats_acquisition",
            locale,
            rate=pct(tot.acquisition_rate, locale),
            num=tot.served_requesters,
            den=tot.requesters,
        ),
        t(
            "stats_acq_kinds",
            locale,
            ent=pct(tot.enterprise_acquisition_rate, locale),
            ent_num=tot.enterprise_served,
            ent_den=tot.enterprise_requesters,
            ind=pct(tot.individual_acquisition_rate, locale),
            ind_num=tot.individual_served,
            ind_den=tot.individual_requesters,
        ),
        t(
            "stats_achievements",
            locale,
            n=tot.achievements,
            done=tot.dockings_done,
        ),
        t(
            "stats_supply",
            locale,
            rate=pct(tot.supply_rate, locale),
            num=tot.active_experts,
            den=tot.experts,
        ),
        t("stats_median", locale, value=duration(tot.median_accept_seconds, locale)),
        t(
            "stats_resolution",
            locale,
            rate=pct(tot.resolution_rate, locale),
            rating=t("no_data", locale)
            if tot.rating_avg is None
            else t("stats_rating", locale, n=tot.rating_avg, count=tot.rating_count),
        ),
        t("stats_questions", locale, n=tot.questions, rate=pct(tot.unanswered_rate, locale)),
    ]
    unmet = [f"{category_name(c.label, locale)} {c.count}" for c in report.unmet_categories]
    unmet += [f"{c.label} {c.count}" for c in report.unmet_crops]
    if unmet:
        lines.append(t("stats_unmet", locale, items="、".join(unmet)))
    lines += _children_lines(report.children, locale)
    gaps = grouped(report.gaps, GAP_LINES)
    if gaps:
        lines.append(t("stats_gaps", locale))
        for g in gaps:
            kind = t(f"gap_{g.kind}", locale)
            lines.append(t("stats_gap_line", locale, kind=kind, text=g.text, n=g.count))
            if g.variants:
                lines.append(t("stats_gap_variants", locale, items="；".join(g.variants)))
    return "\n".join(lines)


def _last_day(until: datetime) -> date:
    """The last day a period ending at *until* (exclusive) covers: a period ending at a
    midnight (上个月: until December 1st) ends the day before."""
    if until.time() == datetime.min.time():
        return (until - timedelta(days=1)).date()
    return until.date()


def _children_lines(children: list[Indicators], locale: str) -> list[str]:
    if not children:
        return []
    active = sorted((c for c in children if c.has_data), key=lambda c: (-c.needs, -c.experts))
    lines = [t("stats_children", locale)]
    for c in active[:CHILD_LINES]:
        lines.append(
            t(
                "stats_child_line",
                locale,
                region=region_name(c.region, locale),
                needs=c.needs,
                acq=pct(c.acquisition_rate, locale),
                experts=c.experts,
                supply=pct(c.supply_rate, locale),
            )
        )
    rest = len(children) - min(len(active), CHILD_LINES)
    if rest:
        lines.append(t("stats_children_rest", locale, n=rest))
    return lines


def region_from_text(text: str) -> Region | None:
    """The region named in a /stats message, None when none is named.

    Raises:
        RegionLookupError: a name was given that names no place or several.
    """
    rest = _DATE.sub(" ", _COMMAND.sub("", text))
    name = _FILLER.sub("", rest)
    if not name:
        return None
    try:
        return lookup(name)
    except RegionLookupError:
        # a sentence around the name: "看看宜宾翠屏区这个月" -> 宜宾市翠屏区
        res = resolve(rest)
        if res.best is not None:
            return res.best
        raise


@dataclass(slots=True)
class StatsDesk:
    """The `/stats` desk: indicators for administrators.

    Args:
        is_admin: whether a user may see indicators.
        default_region: shown when the message names no region.
    """

    is_admin: Callable[[User], bool]
    default_region: Region = Region("四川省")

    def on_text(self, turn: Turn, text: str, follow_up: bool = False) -> None:
        """The indicators the message asks for. The region is the one named, else the one
        shown last, else the person's own, else the default; the period is the one named
        (a date, or words: 上个月, 今年, 最近一周), else in a follow-up (*follow_up*: "三台县呢")
        the one shown last, else the last twelve weeks."""
        if not self.is_admin(turn.user):
            turn.say(turn.t("stats_denied"))
            return
        now = utcnow()
        memo = turn.state.stats
        since: datetime | None = None
        until: datetime | None = None
        rest = text
        if m := _DATE.search(text):
            try:
                since = parse_date(m.group(0))
            except ValueError:
                turn.say(turn.t("stats_bad_date", value=m.group(0)))
                return
        elif (period := find_period(text, now)) is not None:
            since, until = period.since, period.until
            rest = text[: period.start] + " " + text[period.end :]
        elif follow_up and memo is not None:
            since = datetime.fromisoformat(memo.since) if memo.since else None
            until = datetime.fromisoformat(memo.until) if memo.until else None
        try:
            region = region_from_text(_FOLLOW_TRIM.sub("", rest.strip()))
        except RegionLookupError as err:
            turn.say(_lookup_reply(err, turn.locale))
            return
        if region is None:
            region = self._usual_region(turn)
        try:
            report = region_report(session=turn.session, region=region, since=since, until=until)
        except ValueError:
            value = since.date().isoformat() if since else ""
            turn.say(turn.t("stats_future_date", value=value))
            return
        turn.state.stats = StatsMemory(
            region.province,
            region.city,
            region.county,
            since.isoformat() if since else "",
            until.isoformat() if until else "",
            now.isoformat(),
        )
        turn.say(render(report, turn.locale))

    def _usual_region(self, turn: Turn) -> Region:
        """The region shown last, else the person's own, else the default one."""
        memo, user = turn.state.stats, turn.user
        if memo is not None and memo.province:
            return Region(memo.province, memo.city, memo.county)
        if user.province:
            return Region(user.province, user.city, user.county)
        return self.default_region

    def follows_up(self, turn: Turn, text: str) -> bool:
        """ "三台县呢", "那上个月的呢", "换成绵阳市": a short message naming only another region
        or period, soon after indicators were shown to this administrator."""
        memo = turn.state.stats
        if memo is None or len(text) > _FOLLOW_MAX or not self.is_admin(turn.user):
            return False
        try:
            if utcnow() - datetime.fromisoformat(memo.at) > FRESH:
                return False
        except ValueError:
            return False
        core = _FOLLOW_TRIM.sub("", text.strip())
        period = find_period(core, utcnow())
        if period is not None:
            core = core[: period.start] + core[period.end :]
        core = core.strip()
        if not core:
            return period is not None
        try:
            lookup(core)
        except RegionLookupError as err:
            return err.ambiguous  # "那个区呢" names no place; "城关镇" names several
        return True


def _lookup_reply(err: RegionLookupError, locale: str) -> str:
    if err.ambiguous:
        return t(
            "stats_ambiguous_region",
            locale,
            name=err.name,
            options="、".join(err.options),
            first=err.options[0],
        )
    hint = t("stats_did_you_mean", locale, options="、".join(err.options)) if err.options else ""
    return t("stats_unknown_region", locale, name=err.name, hint=hint)


@dataclass(slots=True)
class RollupCheck:
    """A scheduler job: once a day, from *hour* (UTC), recount the indicator rollups from
    the records and repair any difference (store.rollups.check), each one logged by table,
    region and day. Running it in several processes only repeats an exact recount."""

    hour: int = 3
    last: date | None = None

    def run_due(
        self, session_factory: Callable[[], Session], now: datetime | None = None
    ) -> Outcome:
        now = (now or utcnow()).astimezone(UTC)
        if now.hour < self.hour or self.last == now.date():
            return Outcome()
        with session_factory() as session:
            found = check(session, repair=True)
        for diff in found:
            log.warning(
                "indicator rollup %s differed for %s on %s %s: stored %s, recounted %s",
                diff.table,
                diff.region or "the whole country",
                diff.day.isoformat(),
                diff.key[4:],
                diff.stored,
                diff.expected,
            )
        self.last = now.date()
        return Outcome()
