"""The assistant: one entry point, `handle(Incoming) -> Outcome`, for every transport, and the
only router. A button arrives as a typed :class:`Action`; text is understood once; then exactly
one desk acts (a confirmed need goes on to the matching desk).

The router's parts are the assistant's bases, one module each: typed text
(dialogs.routing), a form's turns (dialogs.form_turns), answers to what it asked
(dialogs.open_asks), photos and voice (dialogs.media_routing); dialogs.router is what they
know of the whole. Buttons and the turn itself are here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session

from dialogs.achievements import AchievementDesk
from dialogs.actions import (
    CASE_ACTS,
    ORDER_ACTS,
    SHARE_ACTS,
    VOTE_ACTS,
    Act,
    Action,
)
from dialogs.context import Turn
from dialogs.curation import CurationDesk, Shelf
from dialogs.enterprise import EnterpriseDesk
from dialogs.feedback import on_vote
from dialogs.form_turns import FormTurns
from dialogs.form_words import is_control
from dialogs.formdesk import FormDesk
from dialogs.i18n import t
from dialogs.llm.client import ChatModel
from dialogs.llm.extraction import llm_understand
from dialogs.matching import MatchDesk
from dialogs.media import MediaDesk
from dialogs.media_routing import MediaRouting, attached_document
from dialogs.mydata import DataDesk
from dialogs.nlu.intents import Intent, Parse, understand
from dialogs.open_asks import OpenAsks
from dialogs.orders import OrderDesk
from dialogs.parties import PartyDesk
from dialogs.personal import PersonalDesk
from dialogs.projects import ProjectDesk
from dialogs.records import RecordsDesk
from dialogs.routing import TextRouting
from dialogs.science import ScienceDesk
from dialogs.service import ServiceDesk
from dialogs.state import ConversationState
from dialogs.stats import StatsDesk
from dialogs.teams import TeamDesk
from dialogs.trust import TrustDesk
from dialogs.types import Incoming, Outcome
from knowledge.lexicons import default_lexicon
from retrieval.achievements import AchievementIndex
from retrieval.index import HybridIndex
from retrieval.matching import ExpertMatcher
from retrieval.safety import PesticideGuard
from retrieval.speech import Transcriber
from retrieval.tokenizer import Tokenize
from store.conversations import save_state, saved_state, user_and_state
from store.media import MediaStorage
from store.privacy import is_forgotten
from store.trust import MarketRules
from store.users import Role, User, get_or_create_user
from store.validation import normalise_text

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Assistant(TextRouting, FormTurns, OpenAsks, MediaRouting):
    """Transport-agnostic conversation over the store and the indexes.

    Each desk owns one area: ``forms`` (filling and committing needs, expert profiles and
    subscriptions), ``orders`` (接单 … rating), ``matching`` (experts for a need, browsing,
    scheduled re-matching), ``science`` (answers), ``personal`` (profile and subscriptions),
    ``stats`` (indicators), ``trust`` (administrators verifying and suspending);
    ``enterprise`` (enterprises, 找人才), ``teams``, ``achievements`` (科技成果, 对接) and
    ``projects`` (找项目 and its digest). Build one with :meth:`build`.
    """

    session_factory: Callable[[], Session]
    forms: FormDesk
    orders: OrderDesk
    matching: MatchDesk
    science: ScienceDesk
    personal: PersonalDesk
    trust: TrustDesk
    enterprise: EnterpriseDesk
    teams: TeamDesk
    achievements: AchievementDesk
    projects: ProjectDesk
    stats: StatsDesk | None = None
    locale: str = "zh"
    llm: ChatModel | None = None
    data: DataDesk = field(default_factory=DataDesk)  # /mydata and /delete_me
    media: MediaDesk = field(default_factory=MediaDesk)  # photos and voice (issue 16)
    curation: CurationDesk | None = None  # issue 19: shared solutions, `/kb review`
    records: RecordsDesk = field(default_factory=RecordsDesk)  # 我的资料 and its edits
    service: ServiceDesk = field(default_factory=ServiceDesk)  # 你是机器人吗, 转人工, 收费不

    @classmethod
    def build(
        cls,
        session_factory: Callable[[], Session],
        knowledge: HybridIndex | None,
        tokenize: Tokenize,
        matcher: ExpertMatcher,
        *,
        stats: StatsDesk | None = None,
        llm: ChatModel | None = None,
        locale: str = "zh",
        top_n: int = 5,
        match_timeout: timedelta = timedelta(hours=2),
        auto_close_days: int = 7,
        field_categories: Mapping[str, str] | None = None,
        crop_groups: Mapping[str, str] | None = None,
        rules: MarketRules | None = None,
        is_admin: Callable[[User], bool] | None = None,
        achievements: AchievementIndex | None = None,
        media: MediaStorage | None = None,
        transcriber: Transcriber | None = None,
        guard: PesticideGuard | None = None,  # issue 19: the banned-pesticide list
        shelf: Shelf | None = None,  # issue 19: where curated articles are published
        support_contact: str = "",  # how people reach the platform ("" its administrator)
    ) -> Assistant:
        """The assistant with its desks over these indexes (the one way to make one).

        *field_categories* (expert field -> problem category) and *crop_groups* (crop ->
        group) default to the bundled lexicon's. *rules*: who may accept and when contacts
        are exchanged; *is_admin*: who may verify and suspend (default: the admin role).
        *media*: where photos and voice are kept (None: they are refused); *transcriber*:
        speech to text for voice (None: voice is kept for the expert, not read);
        *achievements*: the achievements' search index (None: nothing is found).
        """
        if field_categories is None or crop_groups is None:
            lexicon = default_lexicon()
            field_categories = dict(lexicon.fields)
            crop_groups = {name: term.kind for name, term in lexicon.crops.items()}
        matching = MatchDesk(
            matcher,
            field_categories=field_categories,
            crop_groups=crop_groups,
            top_n=top_n,
            match_timeout=match_timeout,
            auto_close_days=auto_close_days,
        )
        personal = PersonalDesk()
        rules = rules or MarketRules()
        science = ScienceDesk(knowledge, tokenize, llm, guard)
        curation = CurationDesk(is_admin or _has_admin_role, science, shelf)
        orders = OrderDesk(matching, rules, PartyDesk(rules), curation)
        enterprise, teams = EnterpriseDesk(matching), TeamDesk()
        catalogue = AchievementDesk(achievements)
        return cls(
            session_factory=session_factory,
            forms=FormDesk(personal, enterprise, teams, catalogue),
            enterprise=enterprise,
            teams=teams,
            achievements=catalogue,
            projects=ProjectDesk(orders),
            orders=orders,
            matching=matching,
            science=science,
            personal=personal,
            trust=TrustDesk(is_admin or _has_admin_role, orders.parties),
            stats=stats,
            locale=locale,
            llm=llm,
            data=DataDesk(media),
            media=MediaDesk(media, transcriber),
            curation=curation,
            service=ServiceDesk(support_contact),
        )

    def handle(
        self, incoming: Incoming, session: Session | None = None, *, commit: bool = True
    ) -> Outcome:
        """Process one message or button press; nothing is sent, everything is returned.

        *session* is the unit of work of this update when the transport opened one (a
        per-update middleware); otherwise the assistant opens its own. With *commit* False
        the caller commits the turn (its conversation state included) together with what
        it adds itself (a Telegram turn: its outbox rows and handled-update row), so a turn
        is one transaction.
        """
        if session is not None:
            return self._handle(session, incoming, commit)
        with self.session_factory() as own:
            return self._handle(own, incoming, commit=True)

    def _handle(self, session: Session, incoming: Incoming, commit: bool = True) -> Outcome:
        who = {"channel": incoming.channel, "external_id": incoming.user_id}
        user, data = user_and_state(session=session, **who)  # one read for both, most turns
        if user is None:  # a new person, or one writing from a linked identity
            user = get_or_create_user(
                session=session,
                **who,
                display_name=incoming.display_name[:64],
                locale=incoming.locale if incoming.locale in ("zh", "en") else self.locale,
                home_checked=True,
            )
            data = saved_state(session=session, **who)
        state = ConversationState.from_json(data or {})
        turn = Turn(session, user, incoming, state, user.locale or self.locale)
        try:
            with self.llm.turn() if self.llm is not None else nullcontext():
                if incoming.action is not None:
                    self._on_action(turn, incoming.action)
                elif (document := attached_document(incoming)) is not None:
                    self.achievements.import_file(turn, document)  # a file of achievements
                elif incoming.media:
                    self._on_media(turn, normalise_text(incoming.text or ""))
                else:
                    self._on_text(turn, normalise_text(incoming.text or ""))
        except Exception:
            log.exception(
                "failed to handle a message from %s:%s", incoming.channel, incoming.user_id
            )
            session.rollback()
            return _apology(turn.locale)
        if is_forgotten(turn.user):
            return turn.out  # erased this turn: no state is kept for them
        # no state row was read (data None): it is inserted without trying an UPDATE first
        save_state(
            session=session, **who, data=turn.state.to_json(), commit=commit, new=data is None
        )
        return turn.out

    # ---- buttons ---------------------------------------------------------------------------
    def _on_action(self, turn: Turn, action: Action) -> None:
        st = turn.state
        if self.data.asked(turn) and action.kind not in (Act.DELETE_ME, Act.KEEP_ME):
            st.yes = None  # another button: the deletion question is left unanswered
        match action.kind:
            case kind if kind in ORDER_ACTS:
                self.orders.on_action(turn, action)
            case kind if kind in VOTE_ACTS:
                on_vote(turn, action)
            case kind if kind in SHARE_ACTS and self.curation is not None:
                self.curation.on_share(turn, action.order_id, kind is Act.SHARE_CASE)
            case kind if kind in CASE_ACTS and self.curation is not None:
                self.curation.on_action(turn, action)
            case Act.CONFIRM if st.form is not None and st.form.confirming:
                self._commit(turn, st.form)
            case Act.EDIT if st.form is not None:
                turn.say(turn.t("edit_prompt"))
            case Act.SKIP if st.form is not None:
                self._form_text(turn, "跳过", understand("跳过"))
            case Act.CANCEL:
                turn.say(turn.t(self.forms.abandon(turn)))
            case Act.PICK if st.options is not None and action.n is not None:
                self._pick(turn, action.n)
            case Act.FIND_EXPERT if st.offer is not None:
                self._accept_offer(turn)
            case Act.NO_THANKS:
                st.offer = None
                turn.say(turn.t("ok_no_expert"))
            case Act.WANT_EXPERT | Act.WANT_ANSWER if st.pending is not None:
                wants = Intent.NEED if action.kind is Act.WANT_EXPERT else Intent.QUESTION
                self._clarified(turn, wants)
            case Act.ROLE:
                self._choose_role(turn, action.arg)
            case Act.TOPIC if action.n is not None:
                self.personal.topic(turn, action.n)
            case Act.UNSUBSCRIBE:
                self.personal.unsubscribe(turn, "/unsubscribe")
            case Act.CLEAR_PROFILE:
                self.personal.clear(turn)
            case Act.DELETE_ME:
                self.data.delete(turn)
            case Act.KEEP_ME:
                self.data.keep(turn)
                self.forms.repeat(turn)  # the form the question interrupted, if any
            case Act.QUIT_EXPERT:
                self.records.quit_expert(turn)
                self.matching.refresh(turn.session)
            case Act.SAVE_PHONE if action.arg:
                self.records.save_phone(turn, action.arg)
            case Act.DOCK if action.n is not None:
                self._dock(turn, action.n, "")
            case _:
                # a spent button (the form it belonged to is gone)
                turn.say(turn.t("nothing_to_cancel"))

    def understand(self, text: str, turn: Turn | None = None) -> Parse:
        """Intent and slots offline, with the model's validated additions in LLM mode.

        An answer to "what is your name / phone" is personal data the offline path reads
        anyway: it never goes to the model. Known names are hidden from it too.
        """
        parse = turn.understood(text) if turn is not None else understand(text)
        if self.llm is None or not self.llm.extracts:
            return parse
        if parse.intent in (Intent.ORDER, Intent.HELP, Intent.SMALLTALK) or is_control(text):
            return parse  # exact commands and "好的 / 确认": the rules are sure, save the call
        names: tuple[str, ...] = ()
        if turn is not None:
            form = turn.state.form
            if form is not None and form.awaiting in ("name", "phone"):
                return parse
            slots = form.slots if form is not None else {}
            names = tuple(str(n) for n in (turn.user.display_name, slots.get("name")) if n)
        return llm_understand(self.llm, text, parse, names=names)


def _has_admin_role(user: User) -> bool:
    return user.has_role(Role.ADMIN)


def _apology(locale: str) -> Outcome:
    out = Outcome()
    out.say(t("error", locale))
    return out
