"""Personalised 科普 push: per person, the unseen article that best fits their subscriptions,
profile, place and the season, inside the push window and under the weekly cap.

`PushPlanner.run_due` is a scheduler job beside the order desk's: the Telegram scheduler loop
and the console call both after each other; messages come back as an Outcome and reach people
through the notifier's rate-limited queue (kind "push"), which checks again at send time that
the push is still wanted.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dialogs.actions import Act, Action
from dialogs.feedback import feedback_buttons
from dialogs.i18n import t
from dialogs.topics import keyword_parts, parts
from dialogs.types import Button, Outbound, Outcome
from retrieval.answer import as_list
from retrieval.index import HybridIndex
from store.clock import utcnow
from store.feedback import FeedbackSource
from store.interests import Profile, profiles_of
from store.push import PUSH_REF, History, histories, record_pushes
from store.qa import is_qa_doc
from store.subscriptions import subscriber_ids, topics_by_user
from store.users import addresses
from store.validation import Region

log = logging.getLogger(__name__)

# General topic words stand for article categories; any other topic is a crop or a keyword.
TOPIC_CATEGORIES: dict[str, frozenset[str]] = {
    "病虫害": frozenset({"disease", "pest"}),
    "病害": frozenset({"disease"}),
    "虫害": frozenset({"pest"}),
    "土壤": frozenset({"soil"}),
    "施肥": frozenset({"soil"}),
    "种植": frozenset({"cultivation"}),
    "养殖": frozenset({"livestock"}),
    "加工": frozenset({"processing"}),
    "防灾": frozenset({"disaster"}),
    "健康": frozenset({"health"}),
    "政策": frozenset({"policy"}),
}
CROP_WEIGHT, CATEGORY_WEIGHT, KEYWORD_WEIGHT = 3.0, 2.0, 2.0
PROFILE_CROP_WEIGHT, PROFILE_CATEGORY_WEIGHT = 1.0, 0.5
SEASON_BONUS, REGION_BONUS = 1.5, 1.0
SUMMARY_CHARS = 120


@dataclass(frozen=True, slots=True)
class Entry:
    """One pushable article, as the planner needs it."""

    id: str
    title: str
    category: str
    crops: frozenset[str]
    months: frozenset[int]
    regions: tuple[str, ...]
    words: str  # title, tags and typical questions, for keyword topics
    summary: str
    source: str

    def in_season(self, month: int) -> bool | None:
        """True in one of its months, False outside them, None for an all-year article."""
        return (month in self.months) if self.months else None

    def fits_region(self, region: Region) -> bool | None:
        """True when written for the person's place, False for elsewhere, None when either
        side does not say."""
        if not self.regions or not region:
            return None
        names = {region.province, region.city, region.county} - {""}
        return any(r in names or any(r in n or n in r for n in names) for r in self.regions)


@dataclass(slots=True)
class Catalogue:
    """The pushable articles with a cache of which articles each topic matches."""

    entries: list[Entry]
    _by_topic: dict[str, dict[int, float]] = field(default_factory=dict)
    _by_crop: dict[str, list[int]] = field(default_factory=dict)
    _by_category: dict[str, list[int]] = field(default_factory=dict)
    # people with the same topics, interests, place and month share one ranking
    _rankings: dict[tuple[Any, ...], list[tuple[int, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, e in enumerate(self.entries):
            for crop in e.crops:
                self._by_crop.setdefault(crop, []).append(i)
            self._by_category.setdefault(e.category, []).append(i)

    @classmethod
    def from_index(cls, index: HybridIndex) -> Catalogue:
        """Read article metadata from the index manifest (no files are parsed)."""
        entries = []
        for doc_id, entry in index.manifest.items():
            if is_qa_doc(doc_id):
                continue  # imported Q&A answers questions; only articles are pushed
            chunks = index.chunk_texts(doc_id)
            entries.append(_entry(doc_id, entry.get("metadata", {}), chunks[0] if chunks else ""))
        return cls(entries)

    @classmethod
    def from_metadata(cls, rows: Iterable[tuple[str, Mapping[str, Any], str]]) -> Catalogue:
        """From (id, metadata, first paragraph) rows, e.g. loaded articles in a benchmark."""
        return cls([_entry(i, meta, text) for i, meta, text in rows])

    def matches(self, topic: str) -> dict[int, float]:
        """Entry index -> weight for a subscription topic (computed once per distinct topic)."""
        cached = self._by_topic.get(topic)
        if cached is not None:
            return cached
        found: dict[int, float] = {}
        crop, word = parts(topic)
        if word:  # 柑橘病虫害: the crop's articles about that kind of problem only
            kinds = TOPIC_CATEGORIES.get(word, frozenset())
            for i in self._by_crop.get(crop, []):
                if self.entries[i].category in kinds:
                    found[i] = CROP_WEIGHT + CATEGORY_WEIGHT
            self._by_topic[topic] = found
            return found
        for i in self._by_crop.get(topic, []):
            found[i] = CROP_WEIGHT
        for category in TOPIC_CATEGORIES.get(topic, frozenset()):
            for i in self._by_category.get(category, []):
                found[i] = max(found.get(i, 0.0), CATEGORY_WEIGHT)
        if len(topic) >= 2 and topic not in TOPIC_CATEGORIES:
            words = keyword_parts(topic)  # "防诈骗": articles on 诈骗
            for i, e in enumerate(self.entries):
                if any(w in e.words for w in words):
                    found[i] = max(found.get(i, 0.0), KEYWORD_WEIGHT)
        self._by_topic[topic] = found
        return found

    def pick(
        self,
        topics: list[str],
        profile: Profile | None,
        seen: set[str],
        month: int,
    ) -> tuple[Entry, str] | None:
        """The best unseen, in-season article for one person and the topic it answers
        ("" when only the profile chose it); None when nothing fits."""
        crops = tuple(list(profile.crops)[:5]) if profile else ()
        categories = tuple(list(profile.categories)[:3]) if profile else ()
        region = profile.region if profile else Region()
        key = (tuple(topics), crops, categories, region, month)
        ranking = self._rankings.get(key)
        if ranking is None:
            if len(self._rankings) > 100_000:
                self._rankings.clear()
            ranking = self._rank(topics, crops, categories, region, month)
            self._rankings[key] = ranking
        for i, topic in ranking:
            if self.entries[i].id not in seen:
                return self.entries[i], topic
        return None

    def _rank(
        self,
        topics: list[str],
        crops: tuple[str, ...],
        categories: tuple[str, ...],
        region: Region,
        month: int,
    ) -> list[tuple[int, str]]:
        """Fitting articles, best first (ties: smaller id), each with the topic it answers."""
        score: dict[int, float] = defaultdict(float)
        reason: dict[int, tuple[float, str]] = {}
        for topic in topics:
            for i, w in self.matches(topic).items():
                score[i] += w
                if w > reason.get(i, (0.0, ""))[0]:
                    reason[i] = (w, topic)
        for crop in crops:
            for i in self._by_crop.get(crop, []):
                score[i] += PROFILE_CROP_WEIGHT
        for category in categories:
            for i in self._by_category.get(category, []):
                score[i] += PROFILE_CATEGORY_WEIGHT
        ranked: list[tuple[float, str, int]] = []
        for i, s in score.items():
            e = self.entries[i]
            season = e.in_season(month)
            place = e.fits_region(region)
            if season is False or place is False:
                continue
            total = s + (SEASON_BONUS if season else 0.0) + (REGION_BONUS if place else 0.0)
            ranked.append((-total, e.id, i))
        ranked.sort()  # highest score first; ties go to the smaller id, so rounds reproduce
        return [(i, reason.get(i, (0.0, ""))[1]) for _, _, i in ranked]


def _entry(doc_id: str, meta: Mapping[str, Any], first: str) -> Entry:
    title = str(meta.get("title", doc_id))
    words = " ".join([title, *as_list(meta.get("tags")), *as_list(meta.get("questions"))])
    summary = first.strip().replace("\n", " ")
    if len(summary) > SUMMARY_CHARS:
        summary = summary[:SUMMARY_CHARS].rstrip("，,；; ") + "……"
    months = frozenset(int(m) for m in meta.get("months") or [] if str(m).isdigit())
    return Entry(
        id=doc_id,
        title=title,
        category=str(meta.get("category", "")),
        crops=frozenset(as_list(meta.get("crops"))),
        months=months,
        regions=tuple(as_list(meta.get("regions"))),
        words=words,
        summary=summary,
        source=str(meta.get("source", "")),
    )


def parse_window(value: str) -> tuple[time, time]:
    """ "08:00-20:00" -> (08:00, 20:00).

    Raises:
        ValueError: naming the bad value.
    """
    try:
        start, end = (time.fromisoformat(p.strip()) for p in value.split("-"))
    except ValueError:
        msg = f"expected a window like '08:00-20:00', got {value!r}"
        raise ValueError(msg) from None
    if start == end:
        msg = f"the push window {value!r} is empty"
        raise ValueError(msg)
    return start, end


def in_window(moment: time, window: tuple[time, time]) -> bool:
    start, end = window
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # a window across midnight, e.g. 20:00-02:00


@dataclass(slots=True)
class PushPlanner:
    """The push job.

    Args:
        catalogue: returns the current catalogue (so articles added at run time are pushed).
        per_week: at most this many pushes per person in any 7 days (0 switches pushes off);
            pushes are also spread out, at least 7 days / per_week apart.
        window: local wall-clock hours in which pushes are planned.
        timezone: the zone of *window* and of the season.
        batch: people planned per database round trip.
    """

    catalogue: Callable[[], Catalogue | None]
    per_week: int = 3
    window: tuple[time, time] = (time(8), time(20))
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    batch: int = 2000

    def run_due(
        self, session_factory: Callable[[], Session], now: datetime | None = None
    ) -> Outcome:
        """Plan one round: one article for each subscriber who is due for one."""
        now = now or utcnow()
        out = Outcome()
        local = now.astimezone(self.timezone)
        if self.per_week <= 0 or not in_window(local.time(), self.window):
            return out
        catalogue = self.catalogue()
        if catalogue is None or not catalogue.entries:
            return out
        since = now - timedelta(days=7)
        spacing = timedelta(days=7) / self.per_week
        after = 0
        with session_factory() as session:
            while True:
                ids = subscriber_ids(session=session, after=after, limit=self.batch)
                if not ids:
                    break
                after = ids[-1]
                self._plan_batch(session, catalogue, ids, now, since, spacing, local.month, out)
        if out.outbound:
            log.info("push round planned %d messages", len(out.outbound))
        return out

    def _plan_batch(
        self,
        session: Session,
        catalogue: Catalogue,
        ids: list[int],
        now: datetime,
        since: datetime,
        spacing: timedelta,
        month: int,
        out: Outcome,
    ) -> None:
        topics = topics_by_user(session=session, user_ids=ids)
        profiles = profiles_of(session=session, user_ids=ids)
        history = histories(session=session, user_ids=ids, since=since)
        planned: list[tuple[int, Entry, str]] = []
        for uid in ids:
            if not self._due(history[uid], now, spacing):
                continue
            picked = catalogue.pick(
                topics.get(uid, []), profiles.get(uid), history[uid].seen, month
            )
            if picked is not None:
                planned.append((uid, *picked))
        if not planned:
            return
        # plain columns, not User objects: a round may cover a hundred thousand people
        users = {
            uid: Recipient(*address)
            for uid, address in addresses(
                session=session, user_ids=[p[0] for p in planned]
            ).items()
        }
        ids = record_pushes(
            session=session,
            pushes=[(uid, entry.id, topic) for uid, entry, topic in planned],
            at=now,
        )
        if not ids:
            return  # another loop planned this round; its messages go out instead
        for push_id, (uid, entry, _) in zip(ids, planned, strict=True):
            out.outbound.append(push_message(users[uid], entry, push_id))

    def _due(self, hist: History, now: datetime, spacing: timedelta) -> bool:
        if hist.recent >= self.per_week:
            return False
        return hist.last_at is None or now - hist.last_at >= spacing


@dataclass(frozen=True, slots=True)
class Recipient:
    channel: str
    external_id: str
    locale: str


def push_message(user: Recipient, entry: Entry, push_id: int) -> Outbound:
    """The push for one person, in their language, with 有用 / 没用 / 退订 buttons."""
    locale = user.locale
    text = t("push", locale, title=entry.title, summary=entry.summary, source=entry.source)
    buttons: list[list[Button]] = [
        *feedback_buttons(locale, FeedbackSource.PUSH, push_id),
        [Button(t("btn_unsubscribe", locale), Action(Act.UNSUBSCRIBE))],
    ]
    return Outbound(
        user.channel, user.external_id, text, buttons, kind="push", ref=f"{PUSH_REF}{push_id}"
    )
