"""What the assistant learns about a person and what they choose to receive: the interest
profile (grown from questions and needs, shown by /profile, cleared on request), topic
suggestions for /subscribe, and /unsubscribe and /stop, which take effect at once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.nlu.intents import Parse
from dialogs.nlu.terms import label_key
from dialogs.records import RecordsDesk
from dialogs.topics import covers, topics_from
from dialogs.types import Button
from store.interests import clear_profile, note_interests, profile_of
from store.needs import Need
from store.outbox import drop_pending
from store.subscriptions import subscribe, topics_of, unsubscribe
from store.validation import Region

# a category of the profile -> the topic word suggested for it
CATEGORY_TOPICS = {
    "disease": "病虫害",
    "pest": "病虫害",
    "soil": "土壤",
    "cultivation": "种植",
    "livestock": "养殖",
    "processing": "加工",
}
DEFAULT_TOPICS = ("病虫害", "土壤", "养殖", "地震", "防灾", "健康", "食品安全")
MAX_SUGGESTIONS = 6
_STOP = re.compile(r"^\s*/stop\b")
_UNSUB_WORDS = re.compile(
    r"/unsubscribe|/stop|取消订阅|退订|不想?再?订阅?|算了|不要再?|别再?|停止|关闭|不想再?收到|推送|推了|发了|了"
)
# how sure the reading must be before typed words that name no topic stop every push: a
# misread question about one's subscriptions ("我订阅了啥") must not drop them all, so below
# this the person is asked first (the 退订 button and /unsubscribe act at once)
UNSUBSCRIBE_ALL_SURE = 0.8
_CLEAR = re.compile(r"清空|清除|删除|忘掉|忘记")
_INTERESTS = re.compile(r"画像|兴趣")
# "全部退订", "所有的都不要了": every topic, none named
_ALL = re.compile(r"全部|所有|全都|统统|一律|通通|都|all", re.I)
# "我订了啥", "我订阅了哪些": the subscriptions, not the whole profile
_MY_TOPICS = re.compile(r"订(?:了|阅了|的|阅的|过)|订阅(?:列表|情况)|我的订阅")
# what one keeps here, named: "我的需求", "关注的啥" (a profile request, never a question)
_MY_RECORDS = re.compile(r"我的(?:需求|订单|资料|记录|关注)|关注(?:了|的)")


def names_own_records(text: str) -> bool:
    """ "我订了啥", "我的画像", "我关注了哪些": the message asks about what this person keeps
    here, so a question mark in it asks the menu, not the knowledge base."""
    return any(p.search(text) for p in (_MY_TOPICS, _INTERESTS, _MY_RECORDS))


# ---- the profile grows -------------------------------------------------------------------
def note_need(turn: Turn, need: Need) -> None:
    """A posted need adds its crop, category and place."""
    note_interests(
        session=turn.session,
        user_id=turn.user.id or 0,
        crops=[need.crop] if need.crop else [],
        categories=[str(need.category)],
        region=Region(need.province, need.city, need.county) if need.province else None,
    )


# ---- /profile ------------------------------------------------------------------------------
def on_profile(turn: Turn, text: str) -> None:
    """Show the profile, or clear it when asked to."""
    if _CLEAR.search(text):
        clear(turn)
        return
    uid = turn.user.id or 0
    if _MY_TOPICS.search(text):
        list_topics(turn)
        return
    profile = profile_of(session=turn.session, user_id=uid)
    topics = topics_of(session=turn.session, user_id=uid)
    none = turn.t("profile_none")
    # what they told us (an expert's or enterprise's records) first, unless the interest
    # profile itself is asked for ("我的画像")
    stored = [] if _INTERESTS.search(text) else RecordsDesk.lines(turn)
    lines = [
        *stored,
        turn.t("profile_head"),
        turn.t("profile_topics", topics="、".join(topics) or none),
        turn.t(
            "profile_crops",
            label=turn.t(label_key("crops", profile.crops)),
            crops="、".join(profile.crops) or none,
        ),
        turn.t(
            "profile_categories",
            categories="、".join(turn.t(f"category_{c}") for c in profile.categories) or none,
        ),
        turn.t("profile_region", region=profile.region.label or none),
    ]
    buttons = [[turn.button("btn_clear_profile", Action(Act.CLEAR_PROFILE))]]
    if topics:
        buttons[0].append(turn.button("btn_unsubscribe", Action(Act.UNSUBSCRIBE)))
    turn.say("\n".join(lines), buttons)


def list_topics(turn: Turn) -> None:
    """ "我订了啥": the topics followed, and how to drop one or all."""
    topics = topics_of(session=turn.session, user_id=turn.user.id or 0)
    if not topics:
        turn.say(turn.t("my_subscriptions_none"))
        return
    turn.say(
        turn.t("my_subscriptions", topics="、".join(topics), first=topics[0]),
        [[turn.button("btn_unsubscribe", Action(Act.UNSUBSCRIBE))]],
    )


def clear(turn: Turn) -> None:
    clear_profile(session=turn.session, user_id=turn.user.id or 0)
    turn.say(turn.t("profile_cleared"))


# ---- /subscribe suggestions -------------------------------------------------------------------
def suggestions(turn: Turn) -> list[str]:
    """Topics to offer: the person's crops and problem kinds first, then common ones; never
    one they already follow."""
    uid = turn.user.id or 0
    have = set(topics_of(session=turn.session, user_id=uid))
    profile = profile_of(session=turn.session, user_id=uid)
    ordered = [
        *profile.crops,
        *(CATEGORY_TOPICS[c] for c in profile.categories if c in CATEGORY_TOPICS),
        *DEFAULT_TOPICS,
    ]
    return [x for x in dict.fromkeys(ordered) if x not in have][:MAX_SUGGESTIONS]


def suggestion_buttons(turn: Turn) -> list[list[Button]]:
    """Buttons for the suggested topics (remembered in the state: a tap sends only a number)."""
    offered = suggestions(turn)
    turn.state.suggested = offered
    return [
        [
            Button(topic, Action(Act.TOPIC, n=i))
            for i, topic in enumerate(offered[j : j + 3], start=j)
        ]
        for j in range(0, len(offered), 3)
    ]


def on_topic(turn: Turn, index: int) -> None:
    """A tap on a suggested topic subscribes to it at once."""
    offered = turn.state.suggested
    if not 0 <= index < len(offered):
        turn.say(turn.t("topic_gone"))
        return
    topic = offered[index]
    turn.state.clear_form()
    topics = subscribe(session=turn.session, user_id=turn.user.id or 0, topics=[topic])
    turn.say(turn.t("subscribed", topics="、".join(topics)))


# ---- /unsubscribe and /stop ------------------------------------------------------------------
def on_unsubscribe(turn: Turn, text: str, parse: Parse | None = None) -> None:
    """Remove the topics named, or all of them (and every queued push) when none is named."""
    uid = turn.user.id or 0
    have = topics_of(session=turn.session, user_id=uid)
    named: list[str] = []
    if parse is not None and not _STOP.match(text):
        rest = _ALL.sub(" ", _UNSUB_WORDS.sub(" ", text))
        named = [x for x in topics_from(rest, parse.slots) if x.strip()]
    if named:
        # "柑橘的不要了" drops 柑橘 and 柑橘病虫害; "柑橘病虫害不要了" only the latter
        gone = [x for x in have if any(covers(n, x) for n in named)]
        if not gone:
            turn.say(
                turn.t("not_subscribed", topics="、".join(named), have="、".join(have) or "-")
            )
            return
        unsubscribe(session=turn.session, user_id=uid, topics=gone)
        left = [x for x in have if x not in gone]
        if left:
            # queued pushes for the removed topics are dropped when the notifier reaches them
            turn.say(turn.t("unsubscribed_some", topics="、".join(gone), left="、".join(left)))
            return
    elif have and parse is not None and parse.confidence < UNSUBSCRIBE_ALL_SURE:
        turn.say(
            turn.t("unsubscribe_all_ask", have="、".join(have)),
            [
                [
                    turn.button("btn_unsubscribe_all", Action(Act.UNSUBSCRIBE)),
                    turn.button("btn_no_thanks", Action(Act.NO_THANKS)),
                ]
            ],
        )
        return
    else:
        unsubscribe(session=turn.session, user_id=uid)
    drop_pending(
        session=turn.session,
        channel=turn.user.channel,
        external_id=turn.user.external_id,
        kind="push",
        reason="the person unsubscribed",
    )
    turn.say(turn.t("unsubscribed_all" if have else "no_subscriptions"))


@dataclass(slots=True)
class PersonalDesk:
    """What a person receives and what the assistant knows about them."""

    def profile(self, turn: Turn, text: str) -> None:
        on_profile(turn, text)

    def clear(self, turn: Turn) -> None:
        clear(turn)

    def topic(self, turn: Turn, index: int) -> None:
        on_topic(turn, index)

    def unsubscribe(self, turn: Turn, text: str, parse: Parse | None = None) -> None:
        on_unsubscribe(turn, text, parse)

    def note_need(self, turn: Turn, need: Need) -> None:
        note_need(turn, need)

    def suggestion_buttons(self, turn: Turn) -> list[list[Button]]:
        return suggestion_buttons(turn)
