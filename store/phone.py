"""TEMPORARY stub until the leaf branch lands (replaced at merge)."""

from __future__ import annotations

import re
import unicodedata

_RUN = re.compile(r"(?:\+?86[\s-]?)?[0-9](?:[\s\-.]{0,2}[0-9]){6,}")


def mask(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _RUN.sub("***", text)


def mask_then_truncate(text: str, n: int) -> str:
    masked = mask(text)
    return masked if len(masked) <= n else masked[:n] + "…"
