"""The matching desk: expert cards read from the database, notifying the best experts for a
need, browsing open needs; the scheduled re-match / expiry / auto-close jobs are its base
(dialogs.match_jobs), messages for others dialogs.notices.

Every process reads experts from the database: before ranking, cards changed since the last
look (by profile count and latest ``updated_at``) are reloaded, so an expert registered in
another process (the console beside the bot, a second worker) is matched at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.i18n import t
from dialogs.match_jobs import MatchJobs
from dialogs.notices import need_summary
from dialogs.order_refs import UNTAKEN_S
from dialogs.types import Button, Outbound, Outcome
from retrieval.matching import ExpertCard, ExpertMatcher, Match, NeedQuery, Scope
from store import orders as o
from store.achievements import get_achievement
from store.errors import NotFound
from store.experts import ExpertProfile, experts_version, experts_with_users
from store.lifecycle import InvalidTransition
from store.media import media_for_need
from store.needs import Need
from store.notifications import notified_experts, notified_teams, record_notified
from store.order_reads import open_needs, open_order_counts, order_ids
from store.order_tables import Order
from store.teams import member_ids, teams_version, teams_with_members
from store.trust import suspended_ids
from store.users import User, users_by_id
from store.validation import Region

log = logging.getLogger(__name__)

# crop group -> another word experts use for it in their fields (果树栽培, 畜牧兽医 ...)
CROP_GROUPS = {
    "果树": "水果",
    "蔬菜": "设施",
    "粮油": "粮食",
    "经济作物": "中药材",
    "食用菌": "菌",
    "畜禽": "畜牧",
    "水产": "渔",
}
# what a field's name ends with that says how, not what: 发酵工程 is about 发酵
_FIELD_SUFFIXES = (
    "工程", "工艺", "技术", "科学", "研发", "加工", "检测", "安全", "防治", "栽培", "养殖",
    "管理", "学",
)  # fmt: skip
# stems too broad to tie a message to a field (农业机械 is not about every 农业 word)
_BROAD_STEMS = frozenset({"农业", "农村", "乡村", "作物", "植物", "动物", "产品", "农产品"})


@dataclass(slots=True)
class MatchDesk(MatchJobs):
    """Ranks and notifies experts; cards come from the database.

    Args:
        matcher: the ranking over the expert-profile index.
        field_categories: lexicon field -> problem category (e.g. 植保 -> disease).
        crop_groups: lexicon crop -> its group (柑橘 -> 果树).
    """

    matcher: ExpertMatcher
    field_categories: Mapping[str, str] = field(default_factory=dict)
    crop_groups: Mapping[str, str] = field(default_factory=dict)
    top_n: int = 5
    match_timeout: timedelta = timedelta(hours=2)
    auto_close_days: int = 7
    _version: tuple[int, datetime | None] = (0, None)
    _team_version: tuple[int, datetime | None] | None = None
    _field_terms: tuple[str, ...] = ()
    _field_stems: tuple[tuple[str, str], ...] = ()

    # ---- expert cards ------------------------------------------------------------------
    def refresh(self, session: Session) -> None:
        """Bring the cards in step with the database (cheap when nothing changed)."""
        version = experts_version(session=session)
        team_version = teams_version(session=session)
        shrunk = self._team_version is not None and team_version[0] < self._team_version[0]
        if version != self._version or shrunk:
            count, latest = self._version
            grown = version[0] >= count and latest is not None and not shrunk
            rows = experts_with_users(session=session, changed_since=latest if grown else None)
            cards = [self.card(p, u) for p, u in rows]
            if not grown:  # a full reload: team cards are part of the set
                cards += self.team_cards(session)
                self._team_version = team_version
            self.matcher.sync(cards, remove_missing=not grown)
            self._version = version
        if team_version != self._team_version:
            self.matcher.sync(self.team_cards(session), remove_missing=False)
            self._team_version = team_version
        # open load moves with every accept and resolve: read it each time
        load = open_order_counts(session=session)
        for uid, card in self.matcher.cards.items():
            card.open_orders = load.get(uid, 0)

    def card(self, profile: ExpertProfile, user: User) -> ExpertCard:
        terms = (*profile.fields, *profile.skills)
        cats = {self.category_of(f) for f in terms}
        groups = tuple(g for g in CROP_GROUPS if any(g in f or CROP_GROUPS[g] in f for f in terms))
        return ExpertCard(
            user_id=user.id or 0,
            name=user.display_name,
            organisation=profile.organisation,
            title=profile.title,
            fields=tuple(profile.fields),
            skills=tuple(profile.skills),
            crops=tuple(profile.crops),
            crop_groups=groups,
            categories=tuple(sorted(c for c in cats if c)),
            home=Region(user.province, user.city, user.county),
            regions=tuple(Region(**r) for r in profile.service_regions),
            available=profile.available,
            rating_avg=profile.rating_avg,
        )

    def team_cards(self, session: Session) -> list[ExpertCard]:
        """Teams as cards under negative ids (-team id): matched like one expert."""
        out = []
        for team, members in teams_with_members(session=session):
            if not members or team.id is None:
                continue
            lead = self.matcher.cards.get(team.lead_id)
            cats = {self.category_of(f) for f in team.fields}
            groups = tuple(
                g for g in CROP_GROUPS if any(g in f or CROP_GROUPS[g] in f for f in team.fields)
            )
            out.append(
                ExpertCard(
                    user_id=-team.id,
                    name=team.name,
                    organisation=t("team_word", "zh"),
                    fields=tuple(team.fields),
                    crops=tuple(team.crops),
                    crop_groups=groups,
                    categories=tuple(sorted(c for c in cats if c)),
                    home=lead.home if lead is not None else Region(),
                    regions=tuple(Region(**r) for r in team.service_regions),
                    rating_avg=team.rating_avg,
                )
            )
        return out

    def card_of(self, session: Session, user_id: int) -> ExpertCard | None:
        self.refresh(session)
        return self.matcher.cards.get(user_id)

    def in_scope(self, session: Session, expert_id: int, need: Need) -> bool:
        """The need lies in the expert's service regions and fields: by crop, crop group or
        problem category (what a verified expert may take from browsing)."""
        card = self.card_of(session, expert_id)
        return card is not None and self.fits(card, need)

    def fits(self, card: ExpertCard, need: Need, named: tuple[str, ...] | None = None) -> bool:
        """:meth:`in_scope` for a card in hand (no database); *named*: the need's fields,
        when the caller has them already."""
        area = Region(need.province, need.city, need.county)
        if self.matcher.region_level(card, area)[0] == "elsewhere":
            return False
        group = self.crop_groups.get(need.crop, "")
        return (
            (bool(need.crop) and need.crop in card.crops)
            or (bool(need.category) and need.category in card.categories)
            or (bool(group) and group in card.crop_groups)
            or self.field_fit(card, need, named)
        )

    def field_fit(
        self, card: ExpertCard, need: Need, named: tuple[str, ...] | None = None
    ) -> bool:
        """The need names one of the expert's fields (an enterprise's 发酵工程 project)."""
        terms = set(self.fields_in(need.text) if named is None else named)
        return bool(terms & {*card.fields, *card.skills})

    # ---- matching ------------------------------------------------------------------------
    def on_need_posted(self, turn: Turn, posted: o.Posted) -> None:
        out = self.match(turn.session, posted.need, posted.order, Scope.CITY, locale=turn.locale)
        turn.out.outbound.extend(out.outbound)
        for reply in out.replies:
            turn.say(reply.text)

    def match(
        self,
        session: Session,
        need: Need,
        order: Order,
        scope: Scope,
        *,
        locale: str = "zh",
        now: datetime | None = None,
    ) -> Outcome:
        """Notify the best experts not yet told, widening the scope until someone fits.

        *now* is the time the scheduler runs at (the order's clock for timeouts)."""
        out = Outcome()
        if order.id is None:
            out.say(t("no_expert_yet", locale))
            return out
        self.refresh(session)
        already = set(notified_experts(session=session, order_id=order.id))
        barred = suspended_ids(session=session)
        if need.achievement_id is not None:
            return self._to_owner(session, need, order, already | barred, locale, now)
        query = NeedQuery(
            need.text,
            need.crop,
            need.category,
            Region(need.province, need.city, need.county),
            self.crop_groups.get(need.crop, ""),
            fields=self.fields_in(need.text),
        )
        told_teams = {-tid for tid in notified_teams(session=session, order_id=order.id)}
        while True:
            matches = self.matcher.rank(
                query,
                k=self.top_n,
                scope=scope,
                exclude=already | barred | told_teams | {need.requester_id},
                locale=locale,
            )
            if matches or scope == Scope.ANYWHERE:
                break
            scope = Scope(scope + 1)
        if not matches:
            out.say(t("no_expert_yet", locale))
            return out
        return self._notify(
            session, need, order, matches, scope, already | barred, out, now, locale=locale
        )

    def category_of(self, field_name: str) -> str | None:
        """The problem category of an expert's field: its own, else that of the longest
        lexicon field inside it (果树病虫害防治 is 病虫害防治's)."""
        got = self.field_categories.get(field_name)
        if got is not None:
            return got
        inside = next((f for f in self.fields_in(field_name) if f != field_name), None)
        return self.field_categories.get(inside) if inside else None

    def fields_in(self, text: str) -> tuple[str, ...]:
        """Expert fields a need's text names, longest first (发酵工程, 农产品检测 ...)."""
        if not self._field_terms:
            self._field_terms = tuple(
                f for f in sorted(self.field_categories, key=len, reverse=True) if len(f) >= 2
            )
        out: list[str] = []
        rest = text
        for term in self._field_terms:
            if term in rest:
                out.append(term)
                rest = rest.replace(term, " ")
        return tuple(out)

    def related_fields(self, text: str) -> tuple[str, ...]:
        """The fields *text* names, then those sharing its subject word: "食品发酵" is about
        发酵工程 and 发酵工艺 (stem 发酵) and 食品科学, 食品工程 ... (stem 食品)."""
        if not self._field_stems:
            stems = []
            for term in self.field_categories:
                ends = (x for x in _FIELD_SUFFIXES if term.endswith(x))
                stem = term.removesuffix(next(ends, term))
                if len(stem) >= 2 and stem not in _BROAD_STEMS:
                    stems.append((stem, term))
            self._field_stems = tuple(stems)
        named = self.fields_in(text)
        near = [term for stem, term in self._field_stems if stem in text and term not in named]
        return (*named, *near)

    def category_of_text(self, fields: tuple[str, ...]) -> str:
        """The problem category most of *fields* belong to ("" for none)."""
        votes: dict[str, int] = {}
        for name in fields:
            cat = self.category_of(name)
            if cat:
                votes[cat] = votes.get(cat, 0) + 1
        return max(votes, key=lambda c: votes[c]) if votes else ""

    def _to_owner(
        self,
        session: Session,
        need: Need,
        order: Order,
        skip: set[int],
        locale: str,
        now: datetime | None,
    ) -> Outcome:
        """A 对接 request goes to the achievement's owner (or its team's members) only."""
        out = Outcome()
        try:
            found = get_achievement(session=session, achievement_id=need.achievement_id or 0)
        except NotFound:
            return out
        owners = [found.owner_id]
        if found.team_id is not None:
            owners += [m for m in member_ids(session=session, team_id=found.team_id)]
        targets = [u for u in dict.fromkeys(owners) if u not in skip and u != need.requester_id]
        if not targets:
            return out
        reason = t("dock_reason", locale, title=found.title)
        matches = [Match(u, 1.0, reason, "owner") for u in targets]
        team = {u: found.team_id for u in targets if found.team_id is not None}
        return self._notify(
            session, need, order, matches, Scope.ANYWHERE, skip, out, now, team, locale
        )

    def _notify(
        self,
        session: Session,
        need: Need,
        order: Order,
        matches: list[Match],
        scope: Scope,
        skip: set[int],
        out: Outcome,
        now: datetime | None,
        teams: dict[int, int] | None = None,
        locale: str = "zh",
    ) -> Outcome:
        """Tell *matches* (a team: each of its members) about the order; say who was told."""
        assert order.id is not None
        teams = dict(teams or {})
        once: dict[int, Match] = {}
        # a matched team is told first, through each member (on its behalf); a member who
        # also matched alone is told once, for the team
        for m in sorted(matches, key=lambda m: m.user_id >= 0):
            if m.user_id >= 0:
                once.setdefault(m.user_id, m)
                continue
            team_id = -m.user_id
            card = self.matcher.cards.get(m.user_id)
            reason = t("team_reason", locale, team=card.name if card else "", reason=m.reason)
            for uid in member_ids(session=session, team_id=team_id):
                if uid not in skip and uid != need.requester_id and uid not in once:
                    once[uid] = Match(uid, m.score, reason, m.region_level)
                    teams[uid] = team_id
        people = list(once.values())
        if not people:
            out.say(t("no_expert_yet", locale))
            return out
        try:
            o.mark_matched(
                session=session, order_id=order.id, note=f"scope={scope.name.lower()}", now=now
            )
        except InvalidTransition:
            return out  # accepted, cancelled or matched by another loop meanwhile
        new = record_notified(
            session=session,
            order_id=order.id,
            round_=scope.value,
            matches=[(m.user_id, m.score, m.reason) for m in people],
            teams=teams,
        )
        experts = users_by_id(session=session, user_ids=list(new))
        summary = need_summary(need)
        # the need's photos and voice go with the notice (notified experts may see them)
        media = tuple(m.id for m in media_for_need(session=session, need_id=need.id or 0) if m.id)
        lines: list[str] = []
        key = "new_dock" if need.achievement_id is not None else "new_need"
        for m in people:
            user = experts.get(m.user_id)
            if user is None:
                continue
            card = self.matcher.cards.get(m.user_id)
            org = f"（{card.organisation}）" if card and card.organisation else ""
            # numbered: "不合适 2" names the second one
            lines.append(f"{len(lines) + 1}. {user.display_name}{org}：{m.reason}")
            out.outbound.append(
                Outbound(
                    channel=user.channel,
                    external_id=user.external_id,
                    text=t(key, user.locale, id=order.id, summary=summary, reason=m.reason),
                    buttons=[
                        [
                            Button(t("btn_accept", user.locale), _order_act("accept", order.id)),
                            Button(t("btn_decline", user.locale), _order_act("decline", order.id)),
                        ]
                    ],
                    kind="new_need",
                    ref=f"order:{order.id}",
                    media=media,
                )
            )
        said = "dock_sent" if need.achievement_id is not None else "notified"
        out.say(t(said, locale, n=len(lines), lines="\n".join(lines)))
        return out

    # ---- browsing (找项目) -----------------------------------------------------------------
    def browse(self, turn: Turn, note: str = "", *, may_take: bool = True) -> None:
        """Open needs near the expert and in their fields, best fit first; *note* (what the
        expert may take) closes the list. An expert who may not take what they browse
        (*may_take* False: unverified) gets 接单 only under the needs they were told of, so
        no button promises what 接单 then refuses."""
        card = self.card_of(turn.session, turn.user.id or 0)
        if card is None:
            turn.say(turn.t("not_expert"))
            return
        fits = []
        for order, need in open_needs(session=turn.session, exclude_requester=card.user_id):
            area = Region(need.province, need.city, need.county)
            level, _ = self.matcher.region_level(card, area)
            if level == "elsewhere":
                continue
            topical = (
                need.crop in card.crops
                or need.category in card.categories
                or self.field_fit(card, need)
            )
            rank = (0 if topical else 1, {"county": 0, "city": 1, "province": 2}[level])
            fits.append((*rank, -(need.id or 0), need, order))
        fits.sort(key=lambda x: x[:3])
        if not fits:
            turn.say(turn.t("needs_none"))
            return
        lines = [turn.t("needs_head")]
        buttons = []
        told = set(
            order_ids(
                session=turn.session,
                statuses=UNTAKEN_S,
                notified_expert_id=card.user_id,
            )
            if not may_take
            else ()
        )
        for *_, need, order in fits[:8]:
            region = need.county or need.city or need.province
            text = need_summary(need, with_place=False)
            lines.append(turn.t("need_line", id=order.id, region=region, text=text))
            if not may_take and order.id not in told:
                continue
            buttons.append(
                [Button(f"{turn.t('btn_accept')} #{order.id}", _order_act("accept", order.id))]
            )
        if note:
            lines.append(note)
        turn.say("\n".join(lines), buttons)


def _order_act(kind: str, order_id: int | None) -> Action:
    return Action(Act(kind), order_id=order_id)
