"""`tianfu bench conversations`: whole conversations written blind, played through the real
assistant; each scores when the product ends where a careful one would (the need posted with
the right crop, place, phone and budget; the expert registered; the form cancelled; the topics
subscribed; the last question answered from the right article).

The caller hands in how to send one message and how to read the end state, so bench does not
import the application."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "blind"
_CITED = re.compile(r"来源：《(.+?)》")


@dataclass(slots=True)
class EndState:
    """What the store holds for one person after their conversation."""

    needs: list[dict[str, Any]] = field(default_factory=list)  # crop, province … status
    expert: dict[str, Any] | None = None  # name, phone, fields, counties, organisation, title
    topics: list[str] = field(default_factory=list)
    in_form: bool = False


Send = Callable[[str, str], str]  # (person, text) -> the reply text
Read = Callable[[str], EndState]  # person -> their end state


def conversations_path(split: str) -> Path:
    return DATA / f"conversations_{split}.jsonl"


def load(split: str) -> list[dict[str, Any]]:
    path = conversations_path(split)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _same(a: Any, b: Any, crop_name: Callable[[str], str]) -> bool:
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, str) and isinstance(b, str):
        return crop_name(a) == crop_name(b)
    return bool(a == b)


def check(
    expect: dict[str, Any],
    state: EndState,
    last_reply: str,
    *,
    crop_name: Callable[[str], str],
    title_of: Callable[[str], str],
) -> dict[str, bool]:
    """Per expected key, whether the end state agrees."""
    out: dict[str, bool] = {}
    posted = [n for n in state.needs if n.get("status") != "cancelled"]
    if "posted_need" in expect:
        out["posted_need"] = bool(posted) == bool(expect["posted_need"])
    if expect.get("posted_need") and expect.get("need"):
        need = posted[-1] if posted else {}
        for key, want in expect["need"].items():
            if key == "budget" and want is None:
                out["need.budget"] = need.get("budget") in (None, 0)
            else:
                out[f"need.{key}"] = _same(need.get(key), want, crop_name)
    if "cancelled" in expect:
        # abandoned: nothing was saved and nothing is left open
        cancelled = not posted and not state.in_form and state.expert is None and not state.topics
        out["cancelled"] = cancelled == bool(expect["cancelled"])
    if "expert_registered" in expect:
        out["expert_registered"] = (state.expert is not None) == bool(expect["expert_registered"])
    if expect.get("expert_registered") and expect.get("expert") and state.expert:
        got = state.expert
        for key in ("name", "phone", "organisation", "title"):
            if key in expect["expert"]:
                out[f"expert.{key}"] = (got.get(key) or "") == (expect["expert"][key] or "")
        if "service_counties" in expect["expert"]:
            want = set(expect["expert"]["service_counties"])
            out["expert.service_counties"] = want <= set(got.get("counties", []))
        if "fields" in expect["expert"]:
            fields = " ".join(got.get("fields", []))
            out["expert.fields"] = all(
                any(ch in fields for ch in (f, f[:2])) for f in expect["expert"]["fields"]
            )
    if "subscribed_topics" in expect:
        have = {crop_name(t) for t in state.topics}
        out["subscribed_topics"] = {crop_name(t) for t in expect["subscribed_topics"]} <= have
    if "answered_article" in expect:
        m = _CITED.search(last_reply)
        want = expect["answered_article"]
        out["answered_article"] = (
            (m is None) if want is None else bool(m and m.group(1) == title_of(want))
        )
    return out


def run(
    rows: Iterable[dict[str, Any]],
    send: Send,
    read: Read,
    *,
    crop_name: Callable[[str], str],
    title_of: Callable[[str], str],
) -> dict[str, Any]:
    """Play every conversation as a new person; the share that ends as expected, per key."""
    total = passed = 0
    keys: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    for row in rows:
        person = f"conv-{row['id']}"
        last = ""  # the last answer given (a reply citing a source), for answered_article
        for text in row["turns"]:
            reply = send(person, text)
            if "来源：" in reply or not last:
                last = reply
        result = check(row["expect"], read(person), last, crop_name=crop_name, title_of=title_of)
        total += 1
        ok = all(result.values())
        passed += ok
        for key, good in result.items():
            keys[key] += 1
            wrong[key] += not good
        if not ok:
            failures.append(
                {"id": row["id"], "wrong": sorted(k for k, v in result.items() if not v)}
            )
    return {
        "conversations": total,
        "reached_end_state": passed,
        "rate": round(passed / total, 3) if total else None,
        "per_key_errors": {k: wrong[k] for k in sorted(keys) if wrong[k]},
        "failures": failures,
    }
