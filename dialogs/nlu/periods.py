"""Periods said in words, for indicators: 上个月, 今年, 最近一周, 近30天, 去年, 3月份, 2025年,
2025年11月.

Calendar periods are whole UTC days (the indicator rollups count by UTC day, and a date typed
as 2026-01-01 means that UTC midnight too). The end is exclusive; an open end is "until now".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cn2an

_N = r"(?:\d{1,3}|[一二两三四五六七八九十]{1,3}|半)"
_UNITS = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "月": 30, "个月": 30, "年": 365}
_PERIOD = re.compile(
    r"(?P<day>今天|今日|昨天|昨日)"
    r"|(?P<week>本周|这周|这一?个?星期|本星期|这个?礼拜|上周|上一?个?星期|上个?礼拜)"
    r"|(?P<month>本月|这个?月|当月|上个?月)(?!份?[0-9一二三四五六七八九十])"
    r"|(?P<quarter>本季度|这个?季度|上个?季度)"
    r"|(?P<year>今年|本年度?|这一年|去年|上一年|前年)"
    rf"|(?:最近|近|过去|前)的?\s*(?P<n>{_N})?\s*(?P<unit>天|日|周|星期|礼拜|个月|月|年)(?:以来|内|里)?"
    r"|(?P<ym>20\d{2})\s*[年/-]\s*(?P<ym_mon>1[0-2]|0?[1-9])\s*月?份?(?![0-9]|\s*[/.-]?\s*[0-9]|[日号])"
    r"|(?P<y4>20\d{2})\s*年(?:全年|一年|度)?(?![0-9一二三四五六七八九十]{1,2}\s*月)"
    r"|(?<![个0-9])(?P<mon>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])\s*月份?(?![0-9一二三四五六七八九十]|[日号底初中])"
)


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime
    until: datetime | None  # None: until now
    start: int  # where the words are in the text
    end: int


def _midnight(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _month_start(year: int, month: int) -> datetime:
    year, index = divmod(year * 12 + month - 1, 12)
    return datetime(year, index + 1, 1, tzinfo=UTC)


def _count(word: str | None) -> float:
    if not word:
        return 1
    if word == "半":
        return 0.5
    return float(cn2an.cn2an(word, "smart"))


def find_period(text: str, now: datetime) -> Period | None:
    """The first period *text* names, as of *now* (UTC), or None."""
    m = _PERIOD.search(text)
    if m is None:
        return None
    now = now.astimezone(UTC)
    today = _midnight(now)
    word = m.group(0)
    since: datetime
    until: datetime | None = None
    if m.group("day"):
        since = today if word.startswith("今") else today - timedelta(days=1)
        until = None if word.startswith("今") else today
    elif m.group("week"):
        monday = today - timedelta(days=today.weekday())
        since, until = (monday - timedelta(weeks=1), monday) if "上" in word else (monday, None)
    elif m.group("month"):
        first = _month_start(now.year, now.month)
        since, until = (
            (_month_start(now.year, now.month - 1), first) if "上" in word else (first, None)
        )
    elif m.group("quarter"):
        first = _month_start(now.year, now.month - (now.month - 1) % 3)
        if "上" in word:
            since, until = _month_start(first.year, first.month - 3), first
        else:
            since = first
    elif m.group("year"):
        back = {"去年": 1, "上一年": 1, "前年": 2}.get(word, 0)
        since = datetime(now.year - back, 1, 1, tzinfo=UTC)
        until = datetime(now.year - back + 1, 1, 1, tzinfo=UTC) if back else None
    elif m.group("unit"):
        unit = m.group("unit")
        days = _count(m.group("n")) * _UNITS[unit]
        since = today - timedelta(days=max(1, round(days)) - 1)
    elif m.group("ym"):
        year, month = int(m.group("ym")), int(m.group("ym_mon"))
        since = _month_start(year, month)
        until = _month_start(year, month + 1) if (year, month) != (now.year, now.month) else None
    elif m.group("y4"):
        year = int(m.group("y4"))
        since = datetime(year, 1, 1, tzinfo=UTC)
        until = datetime(year + 1, 1, 1, tzinfo=UTC) if year < now.year else None
    else:
        month = int(cn2an.cn2an(m.group("mon"), "smart"))
        year = now.year if month <= now.month else now.year - 1  # 11月份 said in March
        since = _month_start(year, month)
        until = _month_start(year, month + 1) if (year, month) != (now.year, now.month) else None
    return Period(since, until, m.start(), m.end())
