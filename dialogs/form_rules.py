"""Whether a message answers the open form, starts another one or leaves it for a command:
pure predicates over the form and the parse, for the assistant's routing."""

from __future__ import annotations

from dialogs import forms as engine
from dialogs.form_reading import updates_from
from dialogs.form_specs import FORMS, FREE_TEXT
from dialogs.form_words import CONFIRM, CORRECTION, cancels, is_control
from dialogs.nlu.intents import Intent, Parse, rule_intent, understand
from dialogs.state import FormState
from dialogs.topics import edits_topics, topics_from

# looked up and shown at once, inside a form too (then the form goes on): they open no form
LOOKUPS = frozenset({Intent.FIND_ACHIEVEMENT, Intent.FIND_TALENT, Intent.STATS})


def fills_form(form: FormState, parse: Parse) -> bool:
    """Whether the message states a value the form can use, other than the free text of a
    name, unit or title (a question is none of those)."""
    updates = updates_from(FORMS[form.name], parse.slots, parse.clean, None)
    return bool(set(updates) - {"problem", "category", "crop", "crops", "service_kind"})


# what each intent that starts a form starts
FORM_OF = {
    Intent.NEED: ("need", "tech", "docking"),
    Intent.CAPABILITY: ("expert",),
    Intent.SUBSCRIBE: ("subscribe",),
    Intent.ENTERPRISE: ("enterprise",),
    Intent.TEAM: ("team",),
    Intent.ACHIEVEMENT: ("achievement",),
}
# tasks only an expert may start: asked for while signing up, the sign-up is finished first
EXPERTS_ONLY = (Intent.ACHIEVEMENT, Intent.TEAM)
# intents that are another task than naming what 找人才 / 找技术 / 找成果 seeks
ELSEWHERE = (Intent.UNSUBSCRIBE, Intent.PROFILE, Intent.STATS, Intent.PROJECTS)
# how sure the intent model must be that a message starts another form; surer still at a
# free-text question, whose answer (a unit's name, a skill) may read like a request
SWITCH_SURE = 0.9
SWITCH_SURE_FREE_TEXT = 0.98


def switches_form(form: FormState, parse: Parse, clean: str, fills: bool) -> bool:
    """Whether the message starts another form ("我要登记专家" while posting a need) and
    answers nothing of this one."""
    other = FORM_OF.get(parse.intent)
    if other is None or form.name in other or parse.unsure:
        return False
    # any words may be read as topics: only an edit of them answers a subscription form
    if fills and not (form.name == "subscribe" and not edits_topics(clean)):
        return False
    if is_control(clean) or cancels(clean):
        return False
    free = form.awaiting in FREE_TEXT and not form.confirming
    return parse.confidence >= (SWITCH_SURE_FREE_TEXT if free else SWITCH_SURE)


def answers_form(form: FormState, parse: Parse) -> bool:
    """The message answers the open form rather than commanding something else: "个人干 没有
    单位" at the unit question, a phone, or "养鸡的不要了 只要猪" while choosing topics (an
    edit of those, not a request to unsubscribe from what was saved before)."""
    if parse.command is not None:
        return False
    if form.confirming and CONFIRM.match(parse.clean):
        return True  # "是的 提交" under the summary, whatever intent the words lean to
    if CORRECTION.match(parse.clean):
        # "联系人写错了 应该是王大明": a correction of what the form holds; "不对我要退订":
        # the form itself was wrong, and what follows is the command
        return not rejects_form(form, parse)
    if engine.yes_no(form, parse.clean) is not None:
        return True  # "不签" at the contract question, whatever intent the word leans to
    if form.name != "subscribe":  # any leftover words read as topics there ("退订")
        return engine.skips(form, parse.clean) or fills_form(form, parse)
    if parse.intent != Intent.UNSUBSCRIBE:
        return False
    if edits_topics(parse.clean, dropping=False):
        return True  # "只要李子": narrows the topics being chosen
    named = topics_from(parse.clean, parse.slots)
    return bool(set(named) & set(form.slots.get("topics", [])))


def after_correction(text: str) -> str:
    """ "不对我要退订" -> "我要退订" (*text* itself when it starts with no correction word)."""
    lead = CORRECTION.match(text)
    return text if lead is None else text[lead.end() :].strip(" ，,。")


def rejects_form(form: FormState, parse: Parse) -> bool:
    """ "不对我要退订", "不是 我要看我的需求": a correction word, then a command that states
    nothing for the form (the words after the correction word alone decide)."""
    rest = after_correction(parse.clean)
    if rest == parse.clean or not rest:
        return False
    after = understand(rest)
    if after.intent not in (Intent.UNSUBSCRIBE, Intent.PROFILE, Intent.ORDER, Intent.PROJECTS):
        return False
    return after.confidence >= SWITCH_SURE and not fills_form(form, after)


def leaves_form(text: str, parse: Parse) -> bool:
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
