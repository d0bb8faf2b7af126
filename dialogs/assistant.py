"""The assistant: one entry point, `handle(Incoming) -> Outcome`, for every transport, and the
only router. A button arrives as a typed :class:`Action`; text is understood once; then exactly
one desk acts (a confirmed need goes on to the matching desk)."""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlmodel import Session

from dialogs import forms as engine
from dialogs.achievements import AchievementDesk, dock_command
from dialogs.actions import (
    CASE_ACTS,
    ORDER_ACTS,
    SHARE_ACTS,
    VOTE_ACTS,
    Act,
    Action,
    parse_action,
)
from dialogs.context import Turn
from dialogs.curation import CurationDesk, Shelf, case_ref, is_review_command
from dialogs.enterprise import EnterpriseDesk
from dialogs.feedback import on_vote
from dialogs.followup import described_problem, elliptical, recent
from dialogs.formdesk import FOLLOWED_BEFORE, FormDesk
from dialogs.i18n import t
from dialogs.link import is_link_command, on_link  # /link (issue 16)
from dialogs.llm.client import ChatModel
from dialogs.llm.extraction import llm_understand
from dialogs.lookups import Entry, entry_of, find, refine, refinement
from dialogs.matching import MatchDesk
from dialogs.media import SLOT as MEDIA_SLOT
from dialogs.media import Kept, MediaDesk
from dialogs.mydata import DataDesk, is_data_command
from dialogs.nlu.commands import admin_command, is_order_text
from dialogs.nlu.enterprise import introduces_enterprise
from dialogs.nlu.intents import Intent, Parse, is_question_shaped, rule_intent, understand
from dialogs.nlu.regions import resolve
from dialogs.orders import OrderDesk, order_ref
from dialogs.parties import PartyDesk
from dialogs.personal import PersonalDesk
from dialogs.projects import ProjectDesk
from dialogs.records import RecordsDesk, bare_number
from dialogs.science import ScienceDesk
from dialogs.state import ConversationState, FormState
from dialogs.stats import StatsDesk
from dialogs.teams import TeamDesk
from dialogs.topics import edit_topics, edits_topics, topics_from
from dialogs.trust import TrustDesk
from dialogs.types import Incoming, MediaIn, Outcome
from knowledge.lexicons import default_lexicon
from retrieval.achievements import AchievementIndex
from retrieval.index import HybridIndex
from retrieval.matching import ExpertMatcher
from retrieval.safety import PesticideGuard
from retrieval.speech import Transcriber
from retrieval.tokenizer import Tokenize
from store.conversations import save_state, saved_state, user_and_state
from store.media import MediaStorage, latest_open_need
from store.privacy import is_forgotten
from store.subscriptions import topics_of
from store.trust import MarketRules
from store.users import Role, User, get_or_create_user
from store.validation import normalise_text

log = logging.getLogger(__name__)

MAX_CHARS = 2000
_READABLE = re.compile(r"[\w\u4e00-\u9fff]")
_HELLO = re.compile(r"你好|您好|嗨|哈喽|hello|hi|在吗|在不在|有人吗|早|晚上好|下午好")
_THANKS = re.compile(r"谢|感谢|辛苦")
# personal commands that work even in the middle of a form
_PERSONAL_COMMAND = re.compile(r"^\s*/(?:subscribe|unsubscribe|stop|profile)\b")
# Asking for other people's personal data (also the usual prompt-injection goal).
_OTHERS_DATA = re.compile(
    r"(?:所有|全部|其他|其它|别的|别人|他人|每个)[\u4e00-\u9fff]{0,4}?(?:的)?"
    r"(?:电话|手机|号码|联系方式|地址|身份证|个人信息|隐私|名单|密码)"
    r"|(?:all|other)\s+users?'?s?\s+(?:phone|contact|personal)"
)
# a yes to an offer: "要得", "是的 麻烦了", "要得 谢谢老师" (thanks only after a yes)
_YES_WORD = (
    r"(?:找专家|帮我找|要得|要的|要|好的?|好嘛|需要|可以|行|嗯+|是的?|对的?|对头|确认|确定|没错|"
    r"麻烦(?:你|您)?了?)"
)
_THANKS_WORD = r"(?:谢谢(?:老师|你|您|了)?|多谢|感谢|辛苦了?|麻烦(?:你|您)?了?)"
_YES_TAIL = r"\s*[吧嘛哈啊呀嘞哦了]*\s*[。.!！~]*\s*$"
_YES_OFFER = re.compile(rf"^\s*{_YES_WORD}(?:[，,\s]*(?:{_YES_WORD}|{_THANKS_WORD}))*{_YES_TAIL}")
# "是的 取消", "要得 取消嘛", "撤销吧": a yes to "要撤销这条需求吗？" may name the withdrawal
_WITHDRAW_WORD = r"(?:取消掉?|撤销掉?|撤掉|撤了|撤|不要了)"
_YES_WITHDRAW = re.compile(
    rf"^\s*(?:{_YES_WORD}|{_WITHDRAW_WORD})"
    rf"(?:[，,\s]*(?:{_YES_WORD}|{_WITHDRAW_WORD}|{_THANKS_WORD}))*{_YES_TAIL}"
)
_NO_OFFER = re.compile(r"^\s*(?:不用了?|不要|不需要|算了|no)\s*[。!！]?\s*$")
_KEEP = re.compile(r"^\s*(?:不|否|保留|留着|先留着|不撤|不撤了|不取消)\s*[。!！]?\s*$")
_SUBSCRIPTION_WORD = re.compile(r"订|推送")
_HELP_WORDS = ("/help", "帮助", "help", "菜单")
# intents under which a question-shaped message is still answered when retrieval is sure
_ANSWERABLE_ASIDE = (
    Intent.CAPABILITY,
    Intent.OTHER,
    Intent.HELP,
    Intent.SMALLTALK,
    Intent.PROFILE,
)
# what a bare place or phone after the expert offer reads as
_ANSWERS_OFFER = (Intent.OTHER, Intent.SMALLTALK)
# typed answers to "请专家上门帮忙，还是先问个问题？" (the buttons are the usual way)
_WANT_EXPERT = re.compile(
    r"^\s*(?:请专家上门帮忙|请专家|找专家|要专家|专家|上门|请专家上门|第一个|1)\s*[。!！]?\s*$"
)
_WANT_ANSWER = re.compile(
    r"^\s*(?:先问个问题|先问问题|问个问题|问问题|先问|问题|提问|第二个|2)\s*[。!！]?\s*$"
)


@dataclass(slots=True)
class Assistant:
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
                elif (document := _document(incoming)) is not None:
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
            case Act.SAVE_PHONE if action.arg:
                self.records.save_phone(turn, action.arg)
            case Act.DOCK if action.n is not None:
                self._dock(turn, action.n, "")
            case _:
                # a spent button (the form it belonged to is gone)
                turn.say(turn.t("nothing_to_cancel"))

    # ---- text ------------------------------------------------------------------------------
    def _on_text(self, turn: Turn, text: str) -> None:
        st = turn.state
        if not text:
            turn.say(turn.t("empty"))
            return
        if len(text) > MAX_CHARS:
            turn.say(turn.t("too_long", n=len(text), limit=MAX_CHARS))
            return
        if not _READABLE.search(text):
            turn.say(turn.t("no_text"))
            return
        if self.data.asked(turn) and self.data.answer(turn, text):
            # "确定要删除您的个人信息吗？" was open: answered by this message alone
            if not is_forgotten(turn.user):
                self.forms.repeat(turn)
            return
        if text == "/start":
            st.clear_form()
            turn.say(
                turn.t("welcome"),
                [
                    [turn.button("start_need", Action(Act.ROLE, arg="need"))],
                    [turn.button("start_expert", Action(Act.ROLE, arg="expert"))],
                    [turn.button("start_citizen", Action(Act.ROLE, arg="citizen"))],
                ],
            )
            return
        if text in _HELP_WORDS:
            if st.form is not None:
                self.forms.show(turn, engine.Help(st.form))
            else:
                turn.say(turn.t("welcome"))
            return
        if st.yes is not None and st.form is None and _YES_WITHDRAW.match(text):
            # "是的 取消" to "要撤销这条需求吗？": a yes, though 取消 alone would cancel
            yes = parse_action(st.yes)
            if yes is not None and yes.kind == Act.CANCEL_ORDER:
                st.yes = None
                self._on_action(turn, yes)
                return
        if is_data_command(text):
            self.data.on_text(turn, text)  # in a form too; then back to the form
            # (before cancelling: "我不想用了 把我的记录都删掉" asks to erase, not to stop)
            if not is_forgotten(turn.user) and not self.data.asked(turn):
                self.forms.repeat(turn)
            return
        if engine.cancels(text):
            # "不订了" with no form open is about the saved subscriptions
            about_subscriptions = bool(_SUBSCRIPTION_WORD.search(text))
            offered = st.offer is not None or st.pending is not None or st.lookup is not None
            if st.form is not None or (offered and not about_subscriptions):
                # "算了" to "shall I find an expert?" declines it; nothing was being filled in
                declines = st.form is None
                said = self.forms.abandon(turn)
                turn.say(turn.t("ok_no_expert" if declines else said))
                return
            if not about_subscriptions:
                if not self.orders.offer_cancel(turn):
                    turn.say(turn.t("nothing_to_cancel"))
                return
        if is_link_command(text):  # /link (issue 16): in a form too; then back to it
            on_link(turn, text)
            self.forms.repeat(turn)
            return
        if _PERSONAL_COMMAND.match(text):
            self._route(turn, text, self.understand(text, turn))
            return
        if (admin := admin_command(text)) is not None:
            self.trust.on_command(turn, admin)
            if st.form is not None:
                self.forms.repeat(turn)
            return
        if st.form is None and self.orders.not_solved(turn, text):
            return  # "没解决" to "问题解决了吗？请给专家打分": back to the expert
        ref = turn.incoming.reply_to_ref
        if self.curation is not None and (
            is_review_command(text) or (case_ref(ref) and not text.startswith("/"))
        ):
            # issue 19: the curation queue, and a reply editing one of its drafts
            if is_review_command(text):
                self.curation.review(turn)
            else:
                self.curation.edit(turn, case_ref(ref) or 0, text)
            return
        if ref.startswith("order:") and not is_order_text(text):
            # a reply to an order's message is for the other party of that order
            self.orders.parties.relay(turn, order_ref(ref), text)
            if st.form is not None:
                self.forms.repeat(turn)
            return
        if _OTHERS_DATA.search(text):
            turn.say(turn.t("private_data"))
            return
        if st.form is None and (dock := dock_command(text)) is not None:
            self._dock(turn, *dock)  # "对接 3 …": ask for an achievement
            return
        if st.form is None and self.records.edit(turn, text):
            # "服务地区加上蒲江县", "电话改成139…": a stored record changed at once
            self.matching.refresh(turn.session)
            return
        if self._on_pending(turn, text):
            return
        if st.form is None and bare_number(text):
            # "13900001111" with nothing asked: their contact? (never a profile or a need)
            self.records.offer_phone(turn, text)
            return
        parse = self.understand(text, turn)
        if st.form is not None:
            if _leaves_form(text, parse) and not _answers_form(st.form, parse):
                # a command in the middle of a form: do it, then come back to the form
                if parse.intent == Intent.UNSUBSCRIBE and st.form.name == "subscribe":
                    st.clear_form()  # they changed their mind about subscribing
                elif _rejects_form(st.form, parse):
                    self._leave_form(turn, st.form)  # "不对我要退订": not this form at all
                    text = _after_correction(parse.clean)  # the command alone: "我要退订"
                    parse = self.understand(text, turn)
                self._route(turn, text, parse)
                self.forms.repeat(turn)
                return
            self._form_text(turn, text, parse)
            return
        self._route(turn, text, parse)

    # ---- photos and voice ------------------------------------------------------------------
    def _on_media(self, turn: Turn, text: str) -> None:
        """Photos and voice (with a caption, or a transcript): kept on the need being
        written, added to the person's latest open need and forwarded to its experts, or
        the start of a new need. A transcript is understood like typed text."""
        st = turn.state
        form = st.form
        if form is not None and form.name != "need":
            turn.say(turn.t("media_other_form", form=turn.t(f"form_{form.name}")))
            self.forms.repeat(turn)
            return
        posted = None
        if form is None:
            posted = latest_open_need(session=turn.session, requester_id=turn.user.id or 0)
        if form is not None:
            have = self.media.form_counts(turn)
        elif posted is not None:
            have = self.media.need_counts(turn, posted[1])
        else:
            have = {}
        kept = self.media.keep(turn, have)
        heard = normalise_text(kept.transcript)
        if heard:
            turn.say(turn.t("voice_heard", text=heard))
        words = " ".join(x for x in (text, heard) if x)
        if not kept:
            if text:
                self._on_text(turn, text)
            elif form is not None:
                self.forms.repeat(turn)
            return
        if form is not None:
            self.media.to_form(turn, kept)
            self.media.say_in_form(turn, kept)
            if words:
                self._on_text(turn, words)
            else:
                self.forms.repeat(turn)
            return
        if posted is not None:
            self.media.to_need(turn, *posted, kept, note=words)
            return
        self._media_starts_need(turn, kept, words)

    def _media_starts_need(self, turn: Turn, kept: Kept, words: str) -> None:
        """Files with no need to go to: a new need, with them kept on its form."""
        st = turn.state
        if words and not kept.photos:
            # a voice with its words and no photo: whatever it says (a question too)
            self._on_text(turn, words)
            if st.form is not None and st.form.name == "need":
                self.media.to_form(turn, kept)
            return
        if words:
            parse = self.understand(words, turn)
            self.science.answer_quietly(turn, focus_query(words, parse), set(parse.slots.crops))
            self._start(turn, "need", words, parse, media=kept.ids)
            return
        if st.offer is not None:  # a photo right after "shall I find an expert?"
            self._accept_offer(turn, media=kept.ids)
            return
        st.clear_form()
        state = FormState("need", {**self.forms.prefill(turn, "need"), MEDIA_SLOT: kept.ids})
        if kept.photos:
            turn.say(turn.t("photo_starts_need"))
            self.forms.show(turn, engine.advance(state))
        else:
            state.awaiting = "problem"  # the voice reply asks for the problem in words
            st.form = state
            turn.say(turn.t("voice_kept"))

    def _route(self, turn: Turn, text: str, parse: Parse) -> None:
        """A message outside any form, by its intent: one desk."""
        if self.stats is not None and self.stats.follows_up(turn, text):
            self.stats.on_text(turn, text, follow_up=True)  # "三台县呢" after the figures
            return
        if (entry := entry_of(parse.clean or text)) is not None:
            self._find(turn, entry, parse)  # 找人才 · 找技术 · 找成果, alike
            return
        asks = is_question_shaped(parse.clean) and not text.startswith("/")
        # "姜瘟", "稻曲病": a pest or disease named alone is a question, whatever its shape
        names_pest = parse.intent in _ANSWERS_OFFER and bool(parse.slots.pests)
        # "你能做什么" names nothing to look up: help, even right after an answer it could be
        # read as following up
        bare_help = parse.intent == Intent.HELP and not (
            parse.slots.crops or parse.slots.pests or parse.slots.problem
        )
        aside = asks and parse.intent in _ANSWERABLE_ASIDE and not bare_help
        if parse.unsure or aside or names_pest:
            # a question the knowledge base answers is answered, whatever the intent model
            # thought; the answer carries the expert offer, which covers "they wanted a person"
            if self.science.answer_if_sure(turn, text, parse):
                return
            if parse.unsure and parse.intent in (Intent.NEED, Intent.QUESTION):
                self._ask_need_or_question(turn, text)
                return
        if self._edits_topics(turn, text, parse):
            return
        follows = parse.intent in _ANSWERS_OFFER and elliptical(parse.clean or text)
        if follows and recent(turn.state.memory) is not None:
            # "那在外头呢" after a question: that question again, about somewhere else
            self.science.answer_question(turn, text, parse, offer=True)
            return
        match parse.intent:
            case Intent.NEED:
                self.science.answer_quietly(turn, focus_query(text, parse), set(parse.slots.crops))
                self._start(turn, self.enterprise.need_form(turn, text), text, parse)
            # ---- enterprises, teams and achievements (issue 18) ----
            case Intent.ENTERPRISE:
                self._start(turn, "enterprise", text, parse)
            case Intent.TEAM:
                if not self.teams.on_text(turn, text):
                    self._start(turn, "team", text, parse)
            case Intent.ACHIEVEMENT:
                if self.achievements.may_register(turn):
                    self._start(turn, "achievement", text, parse)
            case Intent.FIND_ACHIEVEMENT:
                self.achievements.search(turn, parse.clean or text)
            case Intent.FIND_TALENT:
                self.enterprise.find_talent(turn, text, parse)
            case Intent.PROJECTS:
                self.projects.on_text(turn, text)
            case Intent.CAPABILITY:
                self._start(turn, "expert", text, parse)
            case Intent.SUBSCRIBE:
                self._start(turn, "subscribe", text, parse)
            case Intent.UNSUBSCRIBE:
                self.personal.unsubscribe(turn, text, parse)
            case Intent.PROFILE:
                self.personal.profile(turn, text)
            case Intent.QUESTION:
                self.science.answer_question(turn, text, parse, offer=True)
            case Intent.ORDER if parse.command is not None:
                self.orders.on_command(turn, parse.command)
            case Intent.STATS if self.stats is not None:
                self.stats.on_text(turn, text)
            case Intent.HELP:
                turn.say(turn.t("welcome"))
            case Intent.SMALLTALK:
                if _THANKS.search(text):
                    turn.say(turn.t("smalltalk_thanks"))
                elif _HELLO.search(text):
                    turn.say(turn.t("smalltalk_hello"))
                else:
                    turn.say(turn.t("smalltalk_other"))
            case _:
                turn.say(turn.t("other"))

    def understand(self, text: str, turn: Turn | None = None) -> Parse:
        """Intent and slots offline, with the model's validated additions in LLM mode.

        An answer to "what is your name / phone" is personal data the offline path reads
        anyway: it never goes to the model. Known names are hidden from it too.
        """
        parse = turn.understood(text) if turn is not None else understand(text)
        if self.llm is None or not self.llm.extracts:
            return parse
        if parse.intent in (Intent.ORDER, Intent.HELP, Intent.SMALLTALK) or engine.is_control(
            text
        ):
            return parse  # exact commands and "好的 / 确认": the rules are sure, save the call
        names: tuple[str, ...] = ()
        if turn is not None:
            form = turn.state.form
            if form is not None and form.awaiting in ("name", "phone"):
                return parse
            slots = form.slots if form is not None else {}
            names = tuple(str(n) for n in (turn.user.display_name, slots.get("name")) if n)
        return llm_understand(self.llm, text, parse, names=names)

    # ---- forms -----------------------------------------------------------------------------
    def _start(
        self, turn: Turn, name: str, text: str, parse: Parse, media: list[int] | None = None
    ) -> None:
        s = parse.slots
        if name == "need" and not (s.crops or s.pests or s.problem or s.category):
            # "我想请专家来看一下" right after asking about 黄龙病: the problem is what the
            # person described before (the symptoms, not a later question on fertiliser),
            # else what they last asked; the request itself says no more than "an expert"
            asked = recent(turn.state.memory)
            if asked is not None and asked.turns:
                problem = described_problem(asked) or asked.turns[-1]["question"]
                parse = understand(f"{problem} {text}")  # a place or phone said with it
                text = problem
        turn.state.clear_form()
        prefill = self.forms.prefill(turn, name)
        if media:
            prefill[MEDIA_SLOT] = list(media)  # photos / voice that came first
        step = engine.begin(name, prefill, parse, text)
        if name != "subscribe":
            understood = self.forms.summary(turn, step.state, skip=("problem",))
            if understood:
                turn.say(turn.t("understood", summary=understood))
                step.state.listed = copy.deepcopy(step.state.slots)
        self._form_step(turn, step)

    def _edits_topics(self, turn: Turn, text: str, parse: Parse) -> bool:
        """ "不要健康的了 换成防灾", "再加个养猪的" from someone with subscriptions: the new
        topics, followed at once like any subscription and undone by a cancel (removals alone
        are unsubscribing)."""
        if is_order_text(text) or not edits_topics(parse.clean, dropping=False):
            return False
        have = topics_of(session=turn.session, user_id=turn.user.id or 0)
        if not have:
            return False
        topics = edit_topics(have, parse.clean, parse.slots)
        if not topics or not set(topics) - set(have):
            return False
        # what is kept counts as followed before: the topics left out are unfollowed
        kept = [x for x in have if x in topics]
        state = FormState("subscribe", {"topics": topics, FOLLOWED_BEFORE: kept})
        state.confirming = True
        self.forms.show(turn, engine.Confirm(state))  # says the topics it now follows
        return True

    def _form_text(self, turn: Turn, text: str, parse: Parse) -> None:
        form = turn.state.form
        assert form is not None
        clean = parse.clean or text
        fills = _fills(form, parse) or engine.skips(form, clean)
        fills = fills or engine.drops_optional(form, clean)
        moved_on = parse.intent in (Intent.NEED, Intent.QUESTION, Intent.CAPABILITY)
        if (
            form.name == "expert"
            and parse.intent in _EXPERTS_ONLY
            and not turn.user.has_role(Role.EXPERT)
            and _switches(form, parse, clean, fills)
        ):
            # "登记成果" halfway through signing up: that needs the sign-up, which goes on
            later = turn.t(f"form_{_FORM_OF[parse.intent][0]}")
            turn.say(turn.t("expert_sign_up_first", task=later))
            self.forms.repeat(turn)
            return
        if _switches(form, parse, clean, fills) or (
            # a third message in a row that has nothing to do with the form: they moved on
            form.misses >= 2 and moved_on and not fills and not engine.is_control(clean)
        ):
            # "我想订阅柑橘病虫害" at the phone question: another task, clearly; the form goes
            self._leave_form(turn, form)
            self._route(turn, text, parse)
            return
        looks_up = parse.intent in _LOOKUPS and form.awaiting not in engine.FREE_TEXT
        # "你们有没有懂鸡的专家" while the need is being written: what the form is doing
        restates = parse.intent == Intent.NEED and engine.FORMS[form.name] in engine.NEED_LIKE
        restates = restates and not engine.HANDOFF.search(clean)  # "别问了直接找专家": post it
        if restates and not fills and form.awaiting != "problem" and not parse.unsure:
            turn.say(turn.t("on_it"))
            self.forms.repeat(turn)
        elif looks_up and not fills:
            # "找人才 食品发酵方向" while posting a need: shown at once, then back to the form
            self._form_step(turn, engine.Digress(form), text, parse)
        elif (
            form.awaiting != "problem"
            and is_question_shaped(clean)
            and not fills
            and not engine.is_control(clean)  # "发嘛" at the summary: post it
        ):
            # a question in passing, even at a free-text question ("请问怎么称呼您？"): answer
            # it, then ask again; the form never swallows a question
            self._form_step(turn, engine.Digress(form), text, parse)
        else:
            # the engine reads the normalised text (確認 is 确认); a digression as typed
            self._form_step(turn, engine.step(form, parse, clean), text, parse)
        after = turn.state.form
        if after is not None:
            moved = (after.slots, after.awaiting, after.confirming) != (
                form.slots,
                form.awaiting,
                form.confirming,
            )
            after.misses = 0 if moved else form.misses + 1

    def _leave_form(self, turn: Turn, form: FormState) -> None:
        """The person went on to something else: the form is put aside (a subscription
        already saved stays, and needs no word)."""
        turn.state.clear_form()
        if FOLLOWED_BEFORE not in form.slots:
            turn.say(turn.t("form_dropped", form=turn.t(f"form_{form.name}")))

    def _form_step(
        self, turn: Turn, step: engine.Step, text: str = "", parse: Parse | None = None
    ) -> None:
        match step:
            case engine.Commit(state=state, said_back=said_back):
                if said_back:
                    summary = self.forms.summary(turn, state)
                    turn.say(turn.t("confirmed_early", summary=summary))
                self._commit(turn, state)
            case engine.Digress(state=state) if parse is not None and (
                FOLLOWED_BEFORE in state.slots
            ):
                # a question after subscribing: the subscription is done, answer as usual
                self._leave_form(turn, state)
                self._route(turn, text, parse)
            case engine.Digress(state=state) if parse is not None:
                turn.state.form = state
                if parse.intent in _LOOKUPS or (parse.intent == Intent.HELP and not parse.unsure):
                    # "你能做啥子" in a form: what the assistant does, not a knowledge search
                    self._route(turn, text, parse)
                else:
                    about = str(engine.value(state.slots, "crop") or "")
                    self.science.answer_question(turn, text, parse, offer=False, about=about)
                turn.state.offer = None
                question = self.forms.question(turn)
                name = turn.t(f"form_{state.name}")
                turn.say(turn.t("resume", form=name, question=question))
                if state.confirming:
                    self.forms.confirm(turn, engine.FORMS[state.name])
            case _:
                self.forms.show(turn, step)

    def _commit(self, turn: Turn, state: FormState) -> None:
        media = [int(i) for i in state.slots.get(MEDIA_SLOT, [])]
        saved = self.forms.commit(turn, state)
        if saved is None:
            return
        if saved.posted is not None:
            self.media.attach_form(turn, media, saved.posted.need)
            self.matching.on_need_posted(turn, saved.posted)
        elif saved.expert_id is not None:
            self.matching.refresh(turn.session)

    def _pick(self, turn: Turn, index: int) -> None:
        options = turn.state.options
        turn.state.options = None
        form = turn.state.form
        if options is None or form is None or not 0 <= index < len(options.labels):
            return
        place = resolve(options.labels[index]).best
        if place is None:
            return
        self._form_step(turn, engine.pick(form, options.slot, place))

    def _find(self, turn: Turn, entry: Entry, parse: Parse | None = None) -> None:
        find(turn, entry, talent=self.enterprise, catalogue=self.achievements, parse=parse)

    def _on_pending(self, turn: Turn, text: str) -> bool:
        """Typed answers to an open clarification or offer. True when the text was used."""
        st = turn.state
        if st.lookup is not None:
            # "您想找哪方面的人才？": this names it, unless it is another request altogether
            kind, st.lookup = st.lookup, None
            if self._names_subject(turn, text):
                self._find(turn, entry_of(text) or Entry(kind, text))
                self.forms.repeat(turn)
                return True
        if st.yes is not None:
            yes, st.yes = parse_action(st.yes), None  # asked once: any answer closes it
            if yes is not None and _YES_OFFER.match(text):
                self._on_action(turn, yes)
                return True
            if _NO_OFFER.match(text) or _KEEP.match(text):
                self._on_action(turn, Action(Act.NO_THANKS))  # as the no button does
                return True
        if st.pending is not None:
            if _WANT_EXPERT.match(text):
                self._clarified(turn, Intent.NEED)
                return True
            if _WANT_ANSWER.match(text):
                self._clarified(turn, Intent.QUESTION)
                return True
            st.pending = None  # they moved on; handle the text normally
        if st.options is not None:
            pick = text.strip().rstrip("。.")
            labels = st.options.labels
            if pick.isdigit() and 1 <= int(pick) <= len(labels):
                self._pick(turn, int(pick) - 1)
                return True
            for i, label in enumerate(labels):
                if pick and (pick == label or pick in label and len(pick) >= 3):
                    self._pick(turn, i)
                    return True
            st.options = None  # they moved on; handle the text normally
            return False
        if st.searched is not None and st.form is None:
            # "要成都的", "只看专利" right after a list of experts or achievements: narrow it
            by = refinement(text, turn.understood(text))
            if by is not None:
                refine(turn, by, talent=self.enterprise, catalogue=self.achievements)
                return True
            st.searched = None  # they moved on
        if st.offer is not None and st.form is None:
            if _YES_OFFER.match(text):
                self._accept_offer(turn)
                return True
            if _NO_OFFER.match(text):
                st.offer = None
                turn.say(turn.t("ok_no_expert"))
                return True
            parse = turn.understood(text)
            s = parse.slots
            own_problem = s.crops or s.pests or s.category or len(text) > 30
            if (s.places or s.phone) and not own_problem and parse.intent in _ANSWERS_OFFER:
                # "隆昌" or a phone right after the offer: they are telling the expert where;
                # the form opens with it already filled in (said back, not asked for again)
                self._accept_offer(turn, said=text)
                return True
            if parse.intent == Intent.ENTERPRISE and introduces_enterprise(text):
                # "我们是蒲江的企业" to "要发布成需求吗？": who is asking, not a registration;
                # the company's technical need opens with it
                self._accept_offer(turn, said=text)
                return True
            st.offer = None
        return False

    def _names_subject(self, turn: Turn, text: str) -> bool:
        """An answer to "您想找哪方面的…？": not a command, control word or another task
        the intent model is sure of."""
        if text.startswith("/") or is_order_text(text) or engine.is_control(text):
            return False
        parse = self.understand(text, turn)
        other = parse.intent in _FORM_OF or parse.intent in _ELSEWHERE
        return not (other and parse.confidence >= SWITCH_SURE)

    def _ask_need_or_question(self, turn: Turn, text: str) -> None:
        """The model cannot tell a request for an expert from a question: ask, keep the text."""
        turn.state.pending = text
        turn.say(
            turn.t("need_or_question"),
            [
                [
                    turn.button("btn_want_expert", Action(Act.WANT_EXPERT)),
                    turn.button("btn_want_answer", Action(Act.WANT_ANSWER)),
                ]
            ],
        )

    def _clarified(self, turn: Turn, intent: Intent) -> None:
        """The clarification answered: the kept message goes where the person said."""
        text = turn.state.pending or ""
        turn.state.pending = None
        parse = replace(self.understand(text, turn), intent=intent, unsure=False)
        self._route(turn, text, parse)

    def _accept_offer(self, turn: Turn, media: list[int] | None = None, said: str = "") -> None:
        """Open the need form for the question just answered; *said* is what the person added
        in accepting (a place, a phone), read together with the question."""
        text = turn.state.offer or ""
        turn.state.offer = None
        parse = understand(f"{text} {said}".strip())
        self._start(turn, self.enterprise.need_form(turn, text), text, parse, media=media)

    def _dock(self, turn: Turn, achievement_id: int, note: str) -> None:
        """A 对接 request: the docking form, prefilled with the achievement and the person's
        phone and place (it posts a need for the owner alone)."""
        slots = self.achievements.docking_slots(turn, achievement_id, note)
        if slots is None:
            return
        turn.state.clear_form()
        state = FormState("docking", {**self.forms.prefill(turn, "docking"), **slots})
        self.forms.show(turn, engine.advance(state))

    def _choose_role(self, turn: Turn, role: str) -> None:
        """The /start role choice: open the matching form, or invite a question."""
        turn.state.clear_form()
        if role in ("need", "expert"):
            state = FormState(role, self.forms.prefill(turn, role))
            self.forms.show(turn, engine.advance(state))
        else:
            turn.say(turn.t("start_citizen_hint"))


# looked up and shown at once, inside a form too (then the form goes on): they open no form
_LOOKUPS = frozenset({Intent.FIND_ACHIEVEMENT, Intent.FIND_TALENT, Intent.STATS})


def _fills(form: FormState, parse: Parse) -> bool:
    """Whether the message states a value the form can use, other than the free text of a
    name, unit or title (a question is none of those)."""
    updates = engine.updates_from(engine.FORMS[form.name], parse.slots, parse.clean, None)
    return bool(set(updates) - {"problem", "category", "crop", "crops", "service_kind"})


# what each intent that starts a form starts
_FORM_OF = {
    Intent.NEED: ("need", "tech", "docking"),
    Intent.CAPABILITY: ("expert",),
    Intent.SUBSCRIBE: ("subscribe",),
    Intent.ENTERPRISE: ("enterprise",),
    Intent.TEAM: ("team",),
    Intent.ACHIEVEMENT: ("achievement",),
}
# tasks only an expert may start: asked for while signing up, the sign-up is finished first
_EXPERTS_ONLY = (Intent.ACHIEVEMENT, Intent.TEAM)
# intents that are another task than naming what 找人才 / 找技术 / 找成果 seeks
_ELSEWHERE = (Intent.UNSUBSCRIBE, Intent.PROFILE, Intent.STATS, Intent.PROJECTS)
# how sure the intent model must be that a message starts another form; surer still at a
# free-text question, whose answer (a unit's name, a skill) may read like a request
SWITCH_SURE = 0.9
SWITCH_SURE_FREE_TEXT = 0.98


def _switches(form: FormState, parse: Parse, clean: str, fills: bool) -> bool:
    """Whether the message starts another form ("我要登记专家" while posting a need) and
    answers nothing of this one."""
    other = _FORM_OF.get(parse.intent)
    if other is None or form.name in other or parse.unsure:
        return False
    # any words may be read as topics: only an edit of them answers a subscription form
    if fills and not (form.name == "subscribe" and not edits_topics(clean)):
        return False
    if engine.is_control(clean) or engine.cancels(clean):
        return False
    free = form.awaiting in engine.FREE_TEXT and not form.confirming
    return parse.confidence >= (SWITCH_SURE_FREE_TEXT if free else SWITCH_SURE)


def _answers_form(form: FormState, parse: Parse) -> bool:
    """The message answers the open form rather than commanding something else: "个人干 没有
    单位" at the unit question, a phone, or "养鸡的不要了 只要猪" while choosing topics (an
    edit of those, not a request to unsubscribe from what was saved before)."""
    if parse.command is not None:
        return False
    if form.confirming and engine.CONFIRM.match(parse.clean):
        return True  # "是的 提交" under the summary, whatever intent the words lean to
    if engine.CORRECTION.match(parse.clean):
        # "联系人写错了 应该是王大明": a correction of what the form holds; "不对我要退订":
        # the form itself was wrong, and what follows is the command
        return not _rejects_form(form, parse)
    if form.name != "subscribe":  # any leftover words read as topics there ("退订")
        return engine.skips(form, parse.clean) or _fills(form, parse)
    if parse.intent != Intent.UNSUBSCRIBE:
        return False
    if edits_topics(parse.clean, dropping=False):
        return True  # "只要李子": narrows the topics being chosen
    named = topics_from(parse.clean, parse.slots)
    return bool(set(named) & set(form.slots.get("topics", [])))


def _after_correction(text: str) -> str:
    """ "不对我要退订" -> "我要退订" (*text* itself when it starts with no correction word)."""
    lead = engine.CORRECTION.match(text)
    return text if lead is None else text[lead.end() :].strip(" ，,。")


def _rejects_form(form: FormState, parse: Parse) -> bool:
    """ "不对我要退订", "不是 我要看我的需求": a correction word, then a command that states
    nothing for the form (the words after the correction word alone decide)."""
    rest = _after_correction(parse.clean)
    if rest == parse.clean or not rest:
        return False
    after = understand(rest)
    if after.intent not in (Intent.UNSUBSCRIBE, Intent.PROFILE, Intent.ORDER, Intent.PROJECTS):
        return False
    return after.confidence >= SWITCH_SURE and not _fills(form, after)


def _leaves_form(text: str, parse: Parse) -> bool:
    """Order, stats and personal-data commands are done at once, whatever form is open
    ("接单", "找项目" typed as the whole message too: a command, never a name)."""
    if parse.intent == Intent.STATS and text.lstrip().startswith("/"):
        return True
    if parse.intent in (Intent.UNSUBSCRIBE, Intent.PROFILE, Intent.PROJECTS):
        return True
    cmd = parse.command
    if cmd is None or (cmd.verb == "cancel" and cmd.order_id is None):
        return False  # "取消需求" inside a form stops that form (the form reads it)
    exact = rule_intent(parse.clean) is Intent.ORDER
    return exact or text.lstrip().startswith("/") or cmd.order_id is not None


def focus_query(text: str, parse: Parse) -> str:
    """The problem part of a need message (crop and symptoms), for a self-help search."""
    s = parse.slots
    bits = [*s.crops[:1], *s.pests, *(s.problem.split("、") if s.problem else [])]
    query = " ".join(dict.fromkeys(b for b in bits if b))
    # a crop alone is no problem to look up ("橘子卖了八百多斤" would fetch any citrus
    # article): then the whole message is searched and retrieval decides
    if len(query) >= 2 and (s.pests or s.problem):
        return query
    return parse.clean if parse.text == text else text


def _document(incoming: Incoming) -> MediaIn | None:
    return next((m for m in incoming.media if m.kind == "document"), None)


def _has_admin_role(user: User) -> bool:
    return user.has_role(Role.ADMIN)


def _apology(locale: str) -> Outcome:
    out = Outcome()
    out.say(t("error", locale))
    return out
