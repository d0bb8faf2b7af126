"""A form's turns in the assistant: opening one, a message while it is open, a step the
engine decided, committing it (then matching), and the forms a button opens."""

from __future__ import annotations

import copy

from dialogs import forms as engine
from dialogs.context import Turn
from dialogs.followup import described_problem, recent
from dialogs.form_rules import EXPERTS_ONLY, FORM_OF, LOOKUPS, fills_form, switches_form
from dialogs.form_specs import FORMS, FREE_TEXT, NEED_LIKE, value
from dialogs.form_steps import Commit, Digress, Step
from dialogs.form_words import HANDOFF, is_control
from dialogs.formdesk import FOLLOWED_BEFORE
from dialogs.media import SLOT as MEDIA_SLOT
from dialogs.nlu.intents import Intent, Parse, is_question_shaped, understand
from dialogs.nlu.regions import resolve
from dialogs.router import Router
from dialogs.state import FormState
from store.users import Role


class FormTurns(Router):
    """The assistant's part that moves a form along (the engine decides, the desk shows)."""

    __slots__ = ()

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

    def _form_text(self, turn: Turn, text: str, parse: Parse) -> None:
        form = turn.state.form
        assert form is not None
        clean = parse.clean or text
        fills = fills_form(form, parse) or engine.skips(form, clean)
        fills = fills or engine.drops_optional(form, clean)
        # "叶子上好多黑斑 果子也烂了" at the phone question: more of the need's problem
        # (not "我想订阅柑橘病虫害": another task, whose words name a problem)
        named = bool(parse.slots.problem or parse.slots.pests)
        named = named and form.name in FORM_OF.get(parse.intent, (form.name,))
        fills = fills or (
            named and FORMS[form.name] in NEED_LIKE and engine.adds_problem(form, parse, clean)
        )
        moved_on = parse.intent in (Intent.NEED, Intent.QUESTION, Intent.CAPABILITY)
        if (
            form.name == "expert"
            and parse.intent in EXPERTS_ONLY
            and not turn.user.has_role(Role.EXPERT)
            and switches_form(form, parse, clean, fills)
        ):
            # "登记成果" halfway through signing up: that needs the sign-up, which goes on
            later = turn.t(f"form_{FORM_OF[parse.intent][0]}")
            turn.say(turn.t("expert_sign_up_first", task=later))
            self.forms.repeat(turn)
            return
        if switches_form(form, parse, clean, fills) or (
            # a third message in a row that has nothing to do with the form: they moved on
            form.misses >= 2 and moved_on and not fills and not is_control(clean)
        ):
            # "我想订阅柑橘病虫害" at the phone question: another task, clearly; the form goes
            self._leave_form(turn, form)
            self._route(turn, text, parse)
            return
        looks_up = parse.intent in LOOKUPS and form.awaiting not in FREE_TEXT
        # "你们有没有懂鸡的专家" while the need is being written: what the form is doing
        restates = parse.intent == Intent.NEED and FORMS[form.name] in NEED_LIKE
        restates = restates and not HANDOFF.search(clean)  # "别问了直接找专家": post it
        if restates and not fills and form.awaiting != "problem" and not parse.unsure:
            turn.say(turn.t("on_it"))
            self.forms.repeat(turn)
        elif looks_up and not fills:
            # "找人才 食品发酵方向" while posting a need: shown at once, then back to the form
            self._form_step(turn, Digress(form), text, parse)
        elif (
            form.awaiting != "problem"
            and is_question_shaped(clean)
            and not fills
            and not is_control(clean)  # "发嘛" at the summary: post it
        ):
            # a question in passing, even at a free-text question ("请问怎么称呼您？"): answer
            # it, then ask again; the form never swallows a question
            self._form_step(turn, Digress(form), text, parse)
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
        self, turn: Turn, step: Step, text: str = "", parse: Parse | None = None
    ) -> None:
        match step:
            case Commit(state=state, said_back=said_back):
                if said_back:
                    summary = self.forms.summary(turn, state)
                    turn.say(turn.t("confirmed_early", summary=summary))
                self._commit(turn, state)
            case Digress(state=state) if parse is not None and (FOLLOWED_BEFORE in state.slots):
                # a question after subscribing: the subscription is done, answer as usual
                self._leave_form(turn, state)
                self._route(turn, text, parse)
            case Digress(state=state) if parse is not None:
                turn.state.form = state
                if parse.intent in LOOKUPS or (parse.intent == Intent.HELP and not parse.unsure):
                    # "你能做啥子" in a form: what the assistant does, not a knowledge search
                    self._route(turn, text, parse)
                else:
                    about = str(value(state.slots, "crop") or "")
                    self.science.answer_question(turn, text, parse, offer=False, about=about)
                turn.state.offer = None
                question = self.forms.question(turn)
                name = turn.t(f"form_{state.name}")
                turn.say(turn.t("resume", form=name, question=question))
                if state.confirming:
                    self.forms.confirm(turn, FORMS[state.name])
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
