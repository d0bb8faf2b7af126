"""The enterprise desk: enterprises registering by talking (or on their first technical need),
which need form a message opens (a farmer's need or an enterprise's 找技术), and 找人才
(experts and teams for a field, no contacts shown)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.matching import MatchDesk
from dialogs.nlu.enterprise import speaks_for_enterprise
from dialogs.nlu.intents import Parse
from retrieval.matching import ExpertCard, NeedQuery, Scope
from store.enterprises import RequesterKind, enterprise_of, save_enterprise
from store.trust import suspended_ids
from store.users import update_user
from store.validation import Region

TALENT_LINES = 6


@dataclass(slots=True)
class EnterpriseDesk:
    matching: MatchDesk

    # ---- forms ---------------------------------------------------------------------------
    def prefill(self, turn: Turn, name: str) -> dict[str, Any]:
        """An enterprise's technical need starts with its company's name."""
        if name != "tech":
            return {}
        found = enterprise_of(session=turn.session, user_id=turn.user.id or 0)
        return {"company": found.name} if found is not None else {}

    def need_form(self, turn: Turn, text: str) -> str:
        """ "tech" for a company's technical need (找技术), "need" for a person's."""
        if enterprise_of(session=turn.session, user_id=turn.user.id or 0) is not None:
            return "tech"
        return "tech" if speaks_for_enterprise(text) else "need"

    def requester_kind(self, turn: Turn, form: str, slots: dict[str, Any]) -> str:
        """Who posts this need; an enterprise posting its first need is registered on the
        way (with the company it named, the need's place and the person as its contact)."""
        session, user = turn.session, turn.user
        found = enterprise_of(session=session, user_id=user.id or 0)
        if found is not None:
            return RequesterKind.ENTERPRISE.value
        if form != "tech" and not speaks_for_enterprise(str(slots.get("problem", ""))):
            return RequesterKind.INDIVIDUAL.value
        company = slots.get("company")
        region = Region.from_dict(slots.get("region"))
        save_enterprise(
            session=session,
            user=user,
            name=company if isinstance(company, str) and company else turn.t("unnamed_company"),
            contact_name=user.display_name,
            province=region.province,
            city=region.city,
            county=region.county,
        )
        return RequesterKind.ENTERPRISE.value

    def commit(self, turn: Turn, slots: dict[str, Any]) -> None:
        """Save a confirmed enterprise registration.

        Raises:
            InvalidInput: a value the store refuses (the form asks again).
        """
        region = Region.from_dict(slots.get("region"))
        size = slots.get("size")
        saved = save_enterprise(
            session=turn.session,
            user=turn.user,
            name=str(slots.get("company", "")),
            industry=str(slots.get("industry", "")),
            size=size if isinstance(size, str) and size != "__skipped__" else "",
            contact_name=str(slots.get("contact", "")),
            province=region.province,
            city=region.city,
            county=region.county,
        )
        user = turn.user
        update_user(
            session=turn.session,
            user=user,
            phone=user.phone or slots.get("phone"),
            province=user.province or region.province,
            city=user.city if user.province else region.city,
            county=user.county if user.province else region.county,
        )
        turn.state.clear_form()
        turn.say(turn.t("enterprise_saved", name=saved.name, region=region.label))

    # ---- 找人才 ----------------------------------------------------------------------------
    def find_talent(
        self, turn: Turn, text: str, parse: Parse, *, near: Region | None = None
    ) -> None:
        """Experts and teams whose fields, crops and region fit the message, best first, each
        with why it was found; then the offer to post it as a need (their contacts come
        only through an order). *near*: only those serving that place ("要成都的")."""
        session, user = turn.session, turn.user
        desk = self.matching
        desk.refresh(session)
        s = parse.slots
        subject = parse.clean or text
        fields = desk.related_fields(subject)
        place = near or s.place
        query = NeedQuery(
            " ".join((subject, *fields)),  # the related fields' words find their holders
            s.crop,
            s.category or desk.category_of_text(fields),
            place or Region(user.province, user.city, user.county),
            desk.crop_groups.get(s.crop, ""),
            fields=fields,
        )
        matches = desk.matcher.rank(
            query,
            k=TALENT_LINES * 4,  # some are dropped below: nothing to say why they fit
            scope=Scope.ANYWHERE,
            exclude={user.id or 0, *suspended_ids(session=session)},
            locale=turn.locale,
        )
        lines = [turn.t("talent_head")]
        for m in matches:
            card = desk.matcher.cards.get(m.user_id)
            serves = _serves(card, near) if card is not None and near is not None else None
            if card is None or (near is not None and serves is None):
                continue
            why = self._why(turn, card, query, place, serves)
            if not why:
                continue
            who = turn.t("talent_team", name=card.name) if m.user_id < 0 else card.name
            org = f"（{card.organisation}）" if card.organisation and m.user_id > 0 else ""
            rated = f" ★{card.rating_avg:.1f}" if card.rating_avg is not None else ""
            lines.append(f"· {who}{org}：{why}{rated}")
            if len(lines) > TALENT_LINES:
                break
        turn.state.offer = text
        turn.state.searched = {
            "kind": "talent",
            "text": text,
            "near": near.as_dict() if near else None,
            "only": "",
        }
        if len(lines) == 1:
            where = turn.t("talent_none_near", area=near.label) if near is not None else ""
            turn.say(where + turn.t("talent_none"), _offer_buttons(turn))
            return
        lines.append(turn.t("talent_tail"))
        turn.say("\n".join(lines), _offer_buttons(turn))

    def _why(
        self,
        turn: Turn,
        card: ExpertCard,
        query: NeedQuery,
        place: Region | None,
        serves: Region | None = None,
    ) -> str:
        """Why *card* fits *query*, in words ("" when it shares nothing with what is sought:
        a word of the request alone, such as 研发, is no reason)."""
        desk = self.matching
        terms = tuple(dict.fromkeys((*card.fields, *card.skills)))
        same = [f for f in terms if f in query.fields]
        if not same and query.category and query.category in card.categories:
            same = [f for f in terms if desk.category_of(f) == query.category]
        crop = query.crop if query.crop and query.crop in card.crops else ""
        topical = bool(query.fields or query.crop or query.category)
        if topical and not (same or crop):
            return ""
        parts = [turn.t("talent_why_field", fields="、".join((same or list(terms))[:2]))]
        if crop:
            parts.append(turn.t("talent_why_crop", crop=crop))
        if serves is not None:
            parts.append(turn.t("talent_why_area", area=serves.label))
        elif place:
            level, area = desk.matcher.region_level(card, place)
            if area is not None and level != "elsewhere":
                parts.append(turn.t("talent_why_area", area=area.label))
        return turn.t("talent_why_sep").join(parts)


def _serves(card: ExpertCard, near: Region) -> Region | None:
    """Where *card* serves in or around *near* (a county of that city counts), else None."""
    for region in (*card.regions, card.home):
        if region and (near.covers(region) or region.covers(near)):
            return region
    return None


def _offer_buttons(turn: Turn) -> list[list[Any]]:
    return [
        [
            turn.button("btn_post_need", Action(Act.FIND_EXPERT)),
            turn.button("btn_no_thanks", Action(Act.NO_THANKS)),
        ]
    ]
