"""Labelled example messages for the intent classifier (written for this project).

``nlu/intents.jsonl`` holds one ``{"id", "text", "intent"}`` per line: the team's dev and test
messages, the tune part of the messages written blind (never the sealed part), a few
phrasings written to cover gaps (ids ``tf-…``) and 800 training messages in many voices written
blind, for training only, by a writer who saw the label definitions but no code (ids ``t3-…``).
Phrasings written for the intents the spent held-out splits showed weak (ids ``nl5-…``): an
expert browsing open needs, acting on a posted need, hiring talent, looking for varieties.
Phrasings in other words for the confusions every spent split showed (ids ``nl7-…``):
organisations seeking advisers or partners (not a problem of their own), experts changing
their stored data, registering one's own achievement or organisation, looking for a
technology to adopt, each beside a contrasting example of the intent it was taken for.
Phrasings written after reading the errors of spent split sealed7 (ids ``nl8-…``, in other
words than its messages): organisations hiring, engaging advisers or trainers over time beside
a problem on site now, one's own achievement to publish beside one to acquire, exports of
one's records, a place and a period asking for figures, questions that name a disease.
600 training messages in many voices by another blind writer who saw only the label
description and the article titles (ids ``t8-…``; labels checked, none changed), never in any
held-out split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from knowledge import NLU_DIR

INTENT_EXAMPLES = NLU_DIR / "intents.jsonl"


@dataclass(frozen=True, slots=True)
class IntentExample:
    id: str
    text: str
    intent: str


def load_intent_examples(path: Path = INTENT_EXAMPLES) -> list[IntentExample]:
    """Every example in *path*; a malformed line raises ValueError naming its line."""
    out: list[IntentExample] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(IntentExample(str(row["id"]), str(row["text"]), str(row["intent"])))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            msg = f"{path}:{lineno}: not an intent example ({exc})"
            raise ValueError(msg) from exc
    return out
