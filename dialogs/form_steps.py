"""What the form engine decides for one message: ask, confirm, clarify, digress, commit,
refuse or help (the form desk shows it; the engine never sends)."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.state import FormState
from store.validation import Region


@dataclass(frozen=True, slots=True)
class Ask:
    """Ask for *slot*; *note* (an i18n key) is said first."""

    state: FormState
    slot: str
    note: str = ""
    missing: tuple[str, ...] = ()  # for the hand-off note: what is still needed
    changed: tuple[str, ...] = ()  # slots this message corrected (said back: "已改为：…")
    noted: tuple[str, ...] = ()  # other slots this message filled (said back: "已记下：…")
    dropped: tuple[str, ...] = ()  # optional slots this message said are none ("没有职称")


@dataclass(frozen=True, slots=True)
class Confirm:
    """Show the summary for confirmation; *changed* names slots this message changed; *note*
    (an i18n key) is said first."""

    state: FormState
    changed: tuple[str, ...] = ()
    note: str = ""
    dropped: tuple[str, ...] = ()  # optional slots this message said are none ("没有职称")


@dataclass(frozen=True, slots=True)
class Clarify:
    """Ask which of several places was meant."""

    state: FormState
    options: tuple[Region, ...]
    slot: str


@dataclass(frozen=True, slots=True)
class Digress:
    """A question in the middle of the form: answer it, then ask *state*'s question again."""

    state: FormState


@dataclass(frozen=True, slots=True)
class Commit:
    """Everything is there and confirmed: save it (*said_back*: say the summary first, as
    the person confirmed before seeing it)."""

    state: FormState
    said_back: bool = False


@dataclass(frozen=True, slots=True)
class Refuse:
    """A value that cannot be used: say why (*key* with *value*), then ask *slot* again
    (None: nothing more to say)."""

    state: FormState
    key: str
    value: str = ""
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class Help:
    """Explain how forms work (or what the question *about* means), then repeat the question."""

    state: FormState
    about: str = ""


Step = Ask | Confirm | Clarify | Digress | Commit | Refuse | Help
