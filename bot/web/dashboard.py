"""The indicator dashboard: one page, a JSON API, and the vendored chart library.

Routes (added to any aiohttp application, so `tianfu dashboard` and the webhook server serve
the same thing):

- ``GET /dashboard`` - the page (Chinese);
- ``GET /dashboard/api/report?region=宜宾市&since=2026-01-01&until=2026-04-01`` - the figures;
- ``GET /dashboard/static/{file}`` - Chart.js, served from the package (no CDN: users may be
  offline).

Every route needs DASHBOARD_TOKEN, as ``Authorization: Bearer`` or once as ``?token=``: that
is exchanged for a random server-side session id in a cookie (HttpOnly, SameSite=Strict,
Secure over https) and the browser is redirected to the same URL without the token, so the
token stays out of the address bar, the history and any Referer. Without either: 401.

Every response sends ``Referrer-Policy: no-referrer`` and a Content-Security-Policy that allows
only this server's own scripts and styles (nothing inline). :class:`QuietAccessLogger` logs
paths without their query strings, so no secret reaches the access log.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from importlib import resources
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlmodel import Session

from dialogs.gaps import grouped
from dialogs.i18n import t
from dialogs.nlu.regions import RegionLookupError, lookup
from dialogs.stats import category_name, parse_date, region_name
from store.clock import utcnow
from store.metrics import Indicators, RegionReport, region_report
from store.validation import Region, child_regions

log = logging.getLogger(__name__)

COOKIE = "tianfu_dashboard"
SESSION_SECONDS = 12 * 3600
GAPS_SHOWN = 20  # knowledge-gap lines on the dashboard, wordings of one question merged
STATIC = {
    "chart.umd.min.js": "application/javascript",
    "dashboard.js": "application/javascript",
    "dashboard.css": "text/css",
}
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _static(name: str) -> bytes:
    return resources.files("bot.web").joinpath("static", name).read_bytes()


def _indicators(ind: Indicators) -> dict[str, Any]:
    data = asdict(ind)
    data["region"] = {**asdict(ind.region), "name": region_name(ind.region, "zh")}
    data.update(
        acquisition_rate=ind.acquisition_rate,
        supply_rate=ind.supply_rate,
        resolution_rate=ind.resolution_rate,
        unanswered_rate=ind.unanswered_rate,
        enterprise_acquisition_rate=ind.enterprise_acquisition_rate,
        individual_acquisition_rate=ind.individual_acquisition_rate,
        has_data=ind.has_data,
    )
    return data


def report_json(report: RegionReport) -> dict[str, Any]:
    """The report as JSON-ready data (rates as fractions, None where there is no data)."""
    region = report.region
    trail = []
    for level in (Region(region.province), Region(region.province, region.city), region):
        if level and level.label not in [t["label"] for t in trail]:
            trail.append({"label": level.label, "name": region_name(level, "zh")})
    return {
        "region": {**asdict(region), "label": region.label or "全国"},
        "trail": trail,
        "since": report.since.date().isoformat(),
        "until": report.until.date().isoformat(),
        "total": _indicators(report.total),
        "children": [_indicators(c) for c in report.children],
        "unmet_categories": [
            {"label": category_name(c.label, "zh"), "count": c.count}
            for c in report.unmet_categories
        ],
        "unmet_crops": [{"label": c.label, "count": c.count} for c in report.unmet_crops],
        "gaps": [
            {
                "kind": g.kind,
                "kind_label": t(f"gap_{g.kind}", "zh"),
                "text": g.text,
                "count": g.count,
                "last_at": g.last_at.isoformat(),
                "article_id": g.article_id,
                "variants": list(g.variants),
            }
            for g in grouped(report.gaps, GAPS_SHOWN)
        ],
        "weekly": [
            {
                "start": w.start.date().isoformat(),
                "needs": w.needs,
                "accepted": w.accepted,
                "questions": w.questions,
            }
            for w in report.weekly
        ],
        "regions": _picker(region),
    }


# ---- issue 19: the curation queue (shared expert solutions waiting for an administrator) ----
def cases_json(session: Session) -> list[dict[str, Any]]:
    """Open curation cases, oldest first, with no name or phone in them."""
    from knowledge.anonymise import mask_personal
    from store.cases import open_cases
    from store.needs import get_need
    from store.phone import mask_then_truncate

    out = []
    for case in open_cases(session=session, limit=50):
        need = get_need(session=session, need_id=case.need_id)
        out.append(
            {
                "id": case.id,
                "order_id": case.order_id,
                "status": case.status,
                "status_label": t(f"case_status_{case.status}", "zh"),
                "title": case.title,
                "problem": mask_then_truncate(mask_personal(need.text), 60),
                "note": mask_then_truncate(case.note, 80),
                "created_at": case.created_at.isoformat(),
            }
        )
    return out


def _picker(region: Region) -> list[str]:
    """Names offered by the region picker: the province's cities and the current city's
    counties."""
    province = Region(region.province or "四川省")
    names = [province.province] + [r.label for r in child_regions(province)]
    if region.city:
        names += [r.label for r in child_regions(Region(region.province, region.city))]
    return list(dict.fromkeys(names))


class QuietAccessLogger(AbstractAccessLogger):
    """aiohttp's access log without query strings (``?token=`` must never be written)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs',
            request.remote,
            request.method,
            request.path,
            response.status,
            time,
        )


class Sessions:
    """Dashboard sessions: random ids, kept in this process only, that expire."""

    def __init__(
        self, seconds: float = SESSION_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self._until: dict[str, float] = {}

    def new(self) -> str:
        now = self.clock()
        self._until = {sid: t for sid, t in self._until.items() if t > now}
        sid = secrets.token_urlsafe(32)
        self._until[sid] = now + self.seconds
        return sid

    def valid(self, sid: str) -> bool:
        return bool(sid) and self._until.get(sid, 0.0) > self.clock()


def _same(given: str, token: str) -> bool:
    return bool(token) and bool(given) and hmac.compare_digest(given.encode(), token.encode())


def _over_https(request: web.Request) -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return forwarded == "https" or request.scheme == "https"


def _refused(request: web.Request) -> web.Response:
    log.warning("dashboard: refused %s from %s", request.path, request.remote)
    return web.Response(
        status=401,
        text="401 未授权：请使用管理员令牌访问（/dashboard?token=…）。\n",
        content_type="text/plain",
        charset="utf-8",
        headers={"WWW-Authenticate": 'Bearer realm="tianfu dashboard"'},
    )


def _guard(token: str, sessions: Sessions, handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        response = await _checked(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    async def _checked(request: web.Request) -> web.StreamResponse:
        if "token" in request.query:
            if not _same(request.query["token"], token):
                return _refused(request)
            # the token leaves the URL at once; the browser keeps only a session id
            rest = [(k, v) for k, v in request.query.items() if k != "token"]
            clean = web.Response(
                status=303, headers={"Location": str(request.rel_url.with_query(rest))}
            )
            clean.set_cookie(
                COOKIE,
                sessions.new(),
                httponly=True,
                samesite="Strict",
                secure=_over_https(request),
                path="/dashboard",
                max_age=sessions.seconds,
            )
            return clean
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not (_same(bearer, token) or sessions.valid(request.cookies.get(COOKIE, ""))):
            return _refused(request)
        try:
            return await handler(request)
        except web.HTTPException as exc:
            return web.Response(status=exc.status, text=exc.text or exc.reason)

    return guarded


def check_period(since: datetime | None, until: datetime | None) -> None:
    """Refuse a period that ends before it starts (the other defaults fill in later).

    Raises:
        ValueError: a clear Chinese sentence naming both dates.
    """
    end = until or utcnow()
    if since is not None and since >= end:
        msg = (
            f"统计时段无效：起始日期 {since.date().isoformat()} "
            f"不早于结束日期 {end.date().isoformat()}"
        )
        raise ValueError(msg)


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


def add_dashboard(
    app: web.Application,
    *,
    token: str,
    session_factory: Callable[[], Session],
    sessions: Sessions | None = None,
) -> None:
    """Mount the dashboard routes on *app*, guarded by *token* (and *sessions*, the browser
    sessions it was exchanged for; a new store by default)."""
    sessions = sessions or Sessions()

    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=_static("dashboard.html"), content_type="text/html", charset="utf-8"
        )

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(
            body=_static(name),
            content_type=STATIC[name],
            headers={"Cache-Control": "max-age=86400"},
        )

    async def api_report(request: web.Request) -> web.StreamResponse:
        q = request.query
        try:
            region = lookup(q["region"]) if q.get("region") else Region("四川省")
            since = parse_date(q["since"]) if q.get("since") else None
            until = parse_date(q["until"]) if q.get("until") else None
            check_period(since, until)
        except RegionLookupError as err:
            return web.json_response(
                {"error": f"没找到地区“{err.name}”", "suggestions": err.options}, status=400
            )
        except ValueError as err:
            return _bad_request(str(err))

        def build() -> dict[str, Any]:
            with session_factory() as session:
                report = region_report(session=session, region=region, since=since, until=until)
                cases = cases_json(session)
            return {**report_json(report), "cases": cases}

        try:
            data = await asyncio.to_thread(build)
        except ValueError as err:
            return _bad_request(str(err))
        return web.json_response(data)

    app.router.add_get("/dashboard", _guard(token, sessions, page))
    app.router.add_get("/dashboard/api/report", _guard(token, sessions, api_report))
    app.router.add_get("/dashboard/static/{name}", _guard(token, sessions, static))
