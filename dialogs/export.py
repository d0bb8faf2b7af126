"""The /mydata export read aloud: everything stored about a person, in Chinese sections a
farmer can read on a phone (the machine-readable JSON goes with it as a file).

Pure: it renders the dict :func:`store.privacy.export_person` returns; long lists show their
latest entries and how many more there are."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dialogs.context import Turn
from dialogs.nlu.terms import label_key
from store.validation import Region

SHOWN = 5  # entries shown per list; the rest are counted
TEXT_CHARS = 30  # how much of a need or question is quoted


def _day(value: Any) -> str:
    return str(value or "")[:10]


def _quote(text: Any) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


def _place(row: dict[str, Any]) -> str:
    return Region(row.get("province", ""), row.get("city", ""), row.get("county", "")).label


def _listed(turn: Turn, rows: list[dict[str, Any]], line: Any) -> list[str]:
    """The latest SHOWN rows, one line each, and how many were left out."""
    latest = rows[-SHOWN:]
    out = [f"  {line(r)}" for r in latest]
    if len(rows) > len(latest):
        out.append("  " + turn.t("export_more", n=len(rows) - len(latest)))
    return out


def _section(turn: Turn, key: str, lines: Iterable[str], **values: Any) -> list[str]:
    body = list(lines)
    return [turn.t(key, **values), *body] if body else []


def readable(turn: Turn, data: dict[str, Any]) -> str:
    """Everything in *data* (an export) that names or concerns the person, in sections."""
    t, none = turn.t, turn.t("profile_none")
    user = data["user"]
    out = [
        t("mydata_head"),
        t(
            "mydata_user",
            name=user["display_name"] or none,
            phone=user["phone"] or none,
            region=_place(user) or none,
            channel=f"{user['channel']}:{user['external_id']}",
            since=_day(user["created_at"]),
        ),
    ]
    out += [
        "  " + t("export_linked", channel=f"{x['channel']}:{x['external_id']}")
        for x in data.get("linked_identities") or []
    ]
    expert = data.get("expert_profile")
    if expert is not None:
        regions = "、".join(Region(**r).label for r in expert.get("service_regions") or [])
        out += [
            t("export_expert"),
            "  "
            + t(
                "export_expert_line",
                fields="、".join(expert.get("fields") or []) or none,
                crops_label=t(label_key("crops", list(expert.get("crops") or []))),
                crops="、".join(expert.get("crops") or []) or none,
                regions=regions or none,
                org=" ".join(x for x in (expert.get("organisation"), expert.get("title")) if x)
                or none,
            ),
        ]
    company = data.get("enterprise")
    if company:
        size = t(f"size_{company['size']}") if company.get("size") else none
        out += [
            t("export_enterprise"),
            "  "
            + t(
                "export_enterprise_line",
                name=company["name"],
                industry=company.get("industry") or none,
                size=size,
                contact=company.get("contact_name") or none,
                region=_place(company) or none,
            ),
        ]
    statuses = {o["need_id"]: o["status"] for o in data["orders_as_requester"]}
    out += _section(
        turn,
        "export_needs",
        _listed(
            turn,
            data["needs"],
            lambda n: t(
                "export_need",
                id=n["id"],
                day=_day(n["created_at"]),
                place=_place(n) or none,
                crop=n.get("crop") or none,
                status=t(f"status_{statuses[n['id']]}") if n["id"] in statuses else none,
                text=_quote(n.get("problem") or n.get("text")) or none,
            ),
        ),
        n=len(data["needs"]),
    )
    out += _section(
        turn,
        "export_served",
        _listed(
            turn,
            data["orders_as_expert"],
            lambda o: t(
                "export_order",
                id=o["id"],
                day=_day(o["created_at"]),
                status=t(f"status_{o['status']}"),
            ),
        ),
        n=len(data["orders_as_expert"]),
    )
    out += _section(
        turn,
        "export_questions",
        _listed(
            turn,
            data["questions"],
            lambda q: t(
                "export_question",
                day=_day(q["created_at"]),
                text=_quote(q["question"]) or t("export_cleared"),
            ),
        ),
        n=len(data["questions"]),
    )
    topics = "、".join(s["topic"] for s in data["subscriptions"]) or none
    interests = "、".join(_interest(turn, i) for i in data["interests"]) or none
    out += [t("export_topics", topics=topics, interests=interests, pushes=len(data["pushes"]))]
    out.append(
        t(
            "export_counts",
            feedback=len(data["feedback"]),
            ratings=len(data.get("ratings") or []),
        )
    )
    files = data.get("media") or []
    if files:
        photos = sum(1 for m in files if m["kind"] == "photo")
        out.append(t("mydata_media", photos=photos, voices=len(files) - photos))
    if data.get("teams") or data.get("achievements"):
        out.append(
            t(
                "mydata_teams",
                teams="、".join(x["name"] for x in data.get("teams", [])) or none,
                n=len(data.get("achievements", [])),
            )
        )
    out.append(t("mydata_tail"))
    return "\n".join(out)


def _interest(turn: Turn, row: dict[str, Any]) -> str:
    if row["kind"] == "category":
        return turn.t(f"category_{row['value']}")
    return str(row["value"]).replace("|", "")
