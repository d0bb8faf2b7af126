"""Find achievements (科技成果) by a natural question: the same hybrid index as articles and
expert profiles, over a collection of its own.

Pure with respect to storage: callers hand in :class:`AchievementCard` values (read from the
database) and get ids with confidences back.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from retrieval.index import Document, HybridIndex

# Words of the question that say "an achievement, please", not what it is about
_ASKING = re.compile(
    r"有没有|有没得|有冇|有吗|有哪些|哪些|有什么|什么|推荐|介绍|想找|想要|想买|找|寻找|求购|求|需要|我们|公司|"
    r"可以|能够|能|的|吗|呢|啊|嘛|一下|看看|转让|授权|许可|合作开发|技术服务|成果|科技成果|项目|"
    r"适合|适用|用于|对接|买|卖|成熟|现成|[？?。，,！!\s]"
)
# the share of the question's words an achievement must cover to be shown
MIN_CONFIDENCE = 0.3


@dataclass(frozen=True, slots=True)
class AchievementCard:
    id: int
    title: str
    kind_label: str = ""  # 新品种, 装备 ... (searchable: "有没有小型农机")
    fields: tuple[str, ...] = ()
    crops: tuple[str, ...] = ()
    applied_in: str = ""
    description: str = ""
    mode: str = ""  # transfer mode value, for a filter

    def document(self) -> Document:
        text = "\n".join(
            x
            for x in (
                " ".join((*self.fields, *self.crops, self.kind_label)),
                self.applied_in,
                self.description,
            )
            if x
        )
        sha = hashlib.sha256(f"{self.title}\n{text}\n{self.mode}".encode()).hexdigest()
        return Document(
            str(self.id), text or self.title, title=self.title, sha256=sha, metadata={}
        )


@dataclass(frozen=True, slots=True)
class Found:
    id: int
    confidence: float


def focus(question: str) -> str:
    """What the question is about: "有没有柑橘保鲜的成果可以转让" -> "柑橘 保鲜"."""
    rest = _ASKING.sub(" ", question)
    return " ".join(rest.split())


class AchievementIndex:
    """The searchable catalogue: cards and their hybrid index, kept in step."""

    def __init__(self, index: HybridIndex) -> None:
        self.index = index

    def sync(self, cards: Iterable[AchievementCard]) -> None:
        """Hold exactly these cards (unchanged ones are not re-indexed)."""
        self.index.sync([c.document() for c in cards], remove_missing=True)

    def search(self, question: str, k: int = 5) -> list[Found]:
        """Achievements about *question*, best first; none below the confidence floor."""
        query = focus(question) or question
        hits = self.index.search(query, k=max(k * 3, 10))
        out = [
            Found(int(h.doc_id), round(h.confidence, 3))
            for h in hits
            if h.confidence >= MIN_CONFIDENCE
        ]
        return out[:k]
