"""What the assistant's parts (text, forms, open answers, media) know of the whole: its desks
and the steps one part hands to another. :class:`dialogs.assistant.Assistant` is the one
implementation; the parts are its bases, so a message still has one router."""

from __future__ import annotations

from typing import Protocol

from dialogs.achievements import AchievementDesk
from dialogs.actions import Action
from dialogs.context import Turn
from dialogs.curation import CurationDesk
from dialogs.enterprise import EnterpriseDesk
from dialogs.formdesk import FormDesk
from dialogs.lookups import Entry
from dialogs.matching import MatchDesk
from dialogs.media import MediaDesk
from dialogs.mydata import DataDesk
from dialogs.nlu.intents import Parse
from dialogs.orders import OrderDesk
from dialogs.personal import PersonalDesk
from dialogs.projects import ProjectDesk
from dialogs.records import RecordsDesk
from dialogs.science import ScienceDesk
from dialogs.service import ServiceDesk
from dialogs.state import FormState
from dialogs.stats import StatsDesk
from dialogs.teams import TeamDesk
from dialogs.trust import TrustDesk


class Router(Protocol):
    """The assistant as its parts see it (each part subclasses this)."""

    __slots__ = ()

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
    stats: StatsDesk | None
    data: DataDesk
    media: MediaDesk
    curation: CurationDesk | None
    records: RecordsDesk
    service: ServiceDesk

    def understand(self, text: str, turn: Turn | None = None) -> Parse: ...

    def _on_action(self, turn: Turn, action: Action) -> None: ...

    def _on_text(self, turn: Turn, text: str) -> None: ...

    def _route(self, turn: Turn, text: str, parse: Parse) -> None: ...

    def _on_pending(self, turn: Turn, text: str) -> bool: ...

    def _ask_need_or_question(self, turn: Turn, text: str) -> None: ...

    def _find(self, turn: Turn, entry: Entry, parse: Parse | None = None) -> None: ...

    def _accept_offer(
        self, turn: Turn, media: list[int] | None = None, said: str = ""
    ) -> None: ...

    def _start(
        self, turn: Turn, name: str, text: str, parse: Parse, media: list[int] | None = None
    ) -> None: ...

    def _form_text(self, turn: Turn, text: str, parse: Parse) -> None: ...

    def _leave_form(self, turn: Turn, form: FormState) -> None: ...

    def _pick(self, turn: Turn, index: int) -> None: ...

    def _dock(self, turn: Turn, achievement_id: int, note: str) -> None: ...
