"""The conversation state of one person on one channel: typed, versioned, JSON round-trip.

Saved after every turn (store.conversations keeps the JSON), so a restart in the middle of a
form loses nothing. Leaving a form clears the form, the pending offer and the open options but
keeps the follow-up memory: what the person asked a minute ago still counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

VERSION = 2


@dataclass(slots=True)
class FormState:
    """A form being filled: which one, its slots so far, what was asked, whether confirming.

    Slot values are JSON values (a region is ``{"province", "city", "county"}``).
    """

    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    awaiting: str | None = None
    confirming: bool = False
    misses: int = 0  # messages in a row that moved the form on not at all
    # the slots as last shown in full ("好的，已记下：…" when the form opened): a 确认 at an
    # optional question confirms them only if nothing changed since
    listed: dict[str, Any] | None = None


@dataclass(slots=True)
class Options:
    """A clarification question's choices (e.g. two places called 朝阳区) and its slot."""

    labels: list[str]
    slot: str = "region"


@dataclass(slots=True)
class Memory:
    """The last questions and their subject, for follow-ups such as "那用啥子药"."""

    turns: list[dict[str, str]] = field(default_factory=list)
    subject: str = ""
    at: str = ""  # ISO time of the last question


@dataclass(slots=True)
class StatsMemory:
    """The last indicators shown to an administrator: "看看指标" shows that region again and
    "三台县呢" asks the same period for another one."""

    province: str = ""
    city: str = ""
    county: str = ""
    since: str = ""  # ISO; "" for the default period
    until: str = ""  # ISO; "" for until now
    at: str = ""  # ISO time they were shown


@dataclass(slots=True)
class ConversationState:
    form: FormState | None = None
    offer: str | None = None  # the question an expert was offered for (找专家 / 不用了)
    options: Options | None = None
    suggested: list[str] = field(default_factory=list)  # topics behind the topic buttons
    memory: Memory | None = None
    # the message behind an open "expert or question?" clarification, until it is answered
    pending: str | None = None
    # the button a typed yes presses, while a yes/no question is open ("要撤销这条需求吗？")
    yes: str | None = None
    # what "找人才 / 找技术 / 找成果" asked for with no subject: the next message names it
    lookup: str | None = None
    stats: StatsMemory | None = None
    # the last 找人才 / 找成果 list and its filters ({"kind", "text", "near", "only"}), so
    # that "要成都的" or "只看专利" narrows it
    searched: dict[str, Any] | None = None

    def clear_form(self) -> None:
        """Leave whatever was in progress; keep the follow-up memory."""
        self.form = None
        self.offer = None
        self.options = None
        self.suggested = []
        self.pending = None
        self.lookup = None
        self.searched = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": VERSION}
        if self.form is not None:
            out["form"] = {
                "name": self.form.name,
                "slots": self.form.slots,
                "awaiting": self.form.awaiting,
                "confirming": self.form.confirming,
                "misses": self.form.misses,
            }
            if self.form.listed is not None:
                out["form"]["listed"] = self.form.listed
        if self.offer is not None:
            out["offer"] = self.offer
        if self.options is not None:
            out["options"] = {"labels": self.options.labels, "slot": self.options.slot}
        if self.suggested:
            out["suggested"] = self.suggested
        if self.pending is not None:
            out["pending"] = self.pending
        if self.yes is not None:
            out["yes"] = self.yes
        if self.lookup is not None:
            out["lookup"] = self.lookup
        if self.stats is not None:
            out["stats"] = {
                "province": self.stats.province,
                "city": self.stats.city,
                "county": self.stats.county,
                "since": self.stats.since,
                "until": self.stats.until,
                "at": self.stats.at,
            }
        if self.searched is not None:
            out["searched"] = self.searched
        if self.memory is not None:
            out["memory"] = {
                "turns": self.memory.turns,
                "subject": self.memory.subject,
                "at": self.memory.at,
            }
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ConversationState:
        """Load a saved state of any version; anything unreadable starts afresh (logged)."""
        if not data:
            return cls()
        try:
            if data.get("v") is None:
                return _from_v1(data)
            return _from_v2(data)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            log.warning("unreadable conversation state dropped (%s): %.200r", exc, data)
            return cls()


def _memory(raw: Any) -> Memory | None:
    if not isinstance(raw, dict) or not raw.get("turns"):
        return None
    turns = [
        {
            "question": str(t.get("question", "")),
            "answer": str(t.get("answer", "")),
            "title": str(t.get("title", "")),  # the article that answered it, if any
        }
        for t in raw["turns"]
        if isinstance(t, dict)
    ]
    return Memory(turns, str(raw.get("subject", "")), str(raw.get("at", "")))


def _from_v2(data: dict[str, Any]) -> ConversationState:
    state = ConversationState(memory=_memory(data.get("memory")))
    form = data.get("form")
    if isinstance(form, dict) and form.get("name"):
        state.form = FormState(
            str(form["name"]),
            dict(form.get("slots") or {}),
            form.get("awaiting"),
            bool(form.get("confirming")),
            int(form.get("misses") or 0),
            form.get("listed") if isinstance(form.get("listed"), dict) else None,
        )
    if isinstance(data.get("offer"), str):
        state.offer = data["offer"]
    options = data.get("options")
    if isinstance(options, dict) and options.get("labels"):
        state.options = Options([str(x) for x in options["labels"]], str(options.get("slot")))
    state.suggested = [str(x) for x in data.get("suggested") or []]
    if isinstance(data.get("pending"), str):
        state.pending = data["pending"]  # absent in states saved before it existed
    if isinstance(data.get("yes"), str):
        state.yes = data["yes"]
    if isinstance(data.get("lookup"), str):
        state.lookup = data["lookup"]  # absent in states saved before it existed
    stats = data.get("stats")
    if isinstance(stats, dict):  # absent in states saved before it existed
        keys = ("province", "city", "county", "since", "until", "at")
        state.stats = StatsMemory(*(str(stats.get(k) or "") for k in keys))
    if isinstance(data.get("searched"), dict):
        state.searched = data["searched"]
    return state


def _from_v1(data: dict[str, Any]) -> ConversationState:
    """The untyped dict of earlier releases: form, slots, awaiting, confirming, options,
    options_for, offer ({"text"}), suggested, memory."""
    state = ConversationState(memory=_memory(data.get("memory")))
    if data.get("form"):
        state.form = FormState(
            str(data["form"]),
            dict(data.get("slots") or {}),
            data.get("awaiting"),
            bool(data.get("confirming")),
        )
    offer = data.get("offer")
    if isinstance(offer, dict):
        state.offer = str(offer.get("text", ""))
    if data.get("options"):
        state.options = Options(
            [str(x) for x in data["options"]], str(data.get("options_for") or "region")
        )
    state.suggested = [str(x) for x in data.get("suggested") or []]
    return state
