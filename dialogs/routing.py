"""Text routing: the checks every message passes, then one desk by its intent."""

from __future__ import annotations

import re

from dialogs.achievements import dock_command
from dialogs.actions import Act, Action, parse_action
from dialogs.context import Turn
from dialogs.curation import case_ref, is_review_command
from dialogs.followup import elliptical, recent
from dialogs.form_rules import after_correction, answers_form, leaves_form, rejects_form
from dialogs.form_steps import Confirm, Help
from dialogs.form_words import cancels
from dialogs.formdesk import FOLLOWED_BEFORE
from dialogs.link import is_link_command, on_link  # /link (issue 16)
from dialogs.lookups import entry_of
from dialogs.mydata import is_data_command
from dialogs.need_edits import correct_posted
from dialogs.nlu.commands import admin_command, is_order_text
from dialogs.nlu.intents import Intent, Parse, is_question_shaped
from dialogs.open_asks import ANSWERS_OFFER, YES_WITHDRAW
from dialogs.order_refs import only_held, only_resolved, order_ref
from dialogs.personal import names_own_records
from dialogs.records import bare_number
from dialogs.router import Router
from dialogs.service import Topic, topic_of
from dialogs.state import FormState
from dialogs.topics import edit_topics, edits_topics
from store.privacy import is_forgotten
from store.subscriptions import topics_of

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
# ... and under which a message of any shape is, when the intent model is this unsure of it:
# what is seen, told without a question word ("吃了虾全身起疹子，喉咙发紧喘不过气" read as
# small talk at 0.35, "有人打电话说我快递丢了要理赔" as profile at 0.30). On the spent splits
# below 0.85 it answered 11 such questions right and one unanswerable one, and no command,
# thanks or expert sign-up ("收到", "看看我的个人信息" are read at 0.97 and above; an expert
# telling what they do is capability, which stays out).
_UNSURE_ASIDE = (Intent.OTHER, Intent.SMALLTALK, Intent.PROFILE)
UNSURE_ASIDE_BELOW = 0.85


class TextRouting(Router):
    """The assistant's routing of typed text."""

    __slots__ = ()

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
                self.forms.show(turn, Help(st.form))
            else:
                turn.say(turn.t("welcome"))
            return
        if st.yes is not None and st.form is None and YES_WITHDRAW.match(text):
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
        if st.form is None and self.records.offer_quit_expert(turn, text):
            return  # "我不想当专家了" from an expert: withdraw the registration?
        if cancels(text):
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
        if st.form is None and correct_posted(turn, text, self.matching):
            return  # "搞错了 地方是营山县" after posting: the need itself changes
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
            if leaves_form(text, parse) and not answers_form(st.form, parse):
                # a command in the middle of a form: do it, then come back to the form
                if parse.intent == Intent.UNSUBSCRIBE and st.form.name == "subscribe":
                    st.clear_form()  # they changed their mind about subscribing
                elif rejects_form(st.form, parse):
                    self._leave_form(turn, st.form)  # "不对我要退订": not this form at all
                    text = after_correction(parse.clean)  # the command alone: "我要退订"
                    parse = self.understand(text, turn)
                self._route(turn, text, parse)
                self.forms.repeat(turn)
                return
            self._form_text(turn, text, parse)
            return
        self._route(turn, text, parse)

    def _route(self, turn: Turn, text: str, parse: Parse) -> None:
        """A message outside any form, by its intent: one desk."""
        if self.stats is not None and self.stats.follows_up(turn, text):
            self.stats.on_text(turn, text, follow_up=True)  # "三台县呢" after the figures
            return
        if (entry := entry_of(parse.clean or text)) is not None:
            self._find(turn, entry, parse)  # 找人才 · 找技术 · 找成果, alike
            return
        if self.science.forecast(turn, text, parse):
            return  # "明天成都下不下雨": no forecast here, and where to find one
        if (topic := topic_of(parse.clean or text)) is not None:
            # "你是机器人还是真人", "转人工", "收费不": about the service itself; a complaint
            # with an expert on one need is a report on that expert
            held = only_held(turn) or only_resolved(turn) if topic is Topic.COMPLAIN else None
            if held is not None:
                self.orders.parties.report(turn, held, text)
            else:
                self.service.answer(turn, topic)
            return
        asks = is_question_shaped(parse.clean) and not text.startswith("/")
        # "姜瘟", "稻曲病": a pest or disease named alone is a question, whatever its shape
        names_pest = parse.intent in ANSWERS_OFFER and bool(parse.slots.pests)
        # "你能做什么" names nothing to look up: help, even right after an answer it could be
        # read as following up
        bare_help = parse.intent == Intent.HELP and not (
            parse.slots.crops or parse.slots.pests or parse.slots.problem
        )
        # "我订了啥" right after an answer asks the menu, not the article again
        own = parse.intent == Intent.PROFILE and names_own_records(parse.clean or text)
        aside = not own and (
            (asks and parse.intent in _ANSWERABLE_ASIDE and not bare_help)
            or (parse.intent in _UNSURE_ASIDE and parse.confidence < UNSURE_ASIDE_BELOW)
        )
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
        follows = parse.intent in ANSWERS_OFFER and elliptical(parse.clean or text)
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
        self.forms.show(turn, Confirm(state))  # says the topics it now follows
        return True


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
