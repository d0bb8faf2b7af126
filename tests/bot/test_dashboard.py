"""The dashboard over HTTP and in a real headless Chromium (Debian's chromium + chromedriver)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp import ClientSession, CookieJar, web

from bot.demo import Size, seed
from bot.web.dashboard import COOKIE, QuietAccessLogger, add_dashboard
from store.db import init_db, make_engine, make_session_factory
from tests.bot.chromium import chromium_options, start_chromium

TOKEN = "test-dashboard-token"


class Captured(logging.Handler):
    """The access log lines the server wrote (from its own thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


ACCESS = Captured()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on a free port over a demo database (Sichuan, 12 weeks)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('dash') / 'demo.db'}")
    init_db(engine)
    seed(engine, Size(experts=120, requesters=600, needs=1500, questions=500))
    app = web.Application()
    add_dashboard(app, token=TOKEN, session_factory=make_session_factory(engine))
    loop = asyncio.new_event_loop()
    access = logging.getLogger("tests.dashboard.access")
    access.setLevel(logging.INFO)
    access.addHandler(ACCESS)
    runner = web.AppRunner(app, access_log_class=QuietAccessLogger, access_log=access)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        # port 0: the bound socket keeps the port the system chose (no free-port race)
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(30)
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    engine.dispose()


async def test_token_is_required(server: str) -> None:
    async with ClientSession() as http:
        for path in ("/dashboard", "/dashboard/api/report", "/dashboard/static/dashboard.js"):
            async with http.get(server + path) as resp:
                assert resp.status == 401
                assert "未授权" in await resp.text()
        async with http.get(server + "/dashboard?token=wrong") as resp:
            assert resp.status == 401
        async with http.get(
            server + "/dashboard/api/report", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as resp:
            assert resp.status == 200


async def test_token_in_url_becomes_a_session_cookie(server: str) -> None:
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:  # unsafe: an IP host
        async with http.get(
            f"{server}/dashboard?region=x&token={TOKEN}", allow_redirects=False
        ) as resp:
            # the token leaves the URL at once: a redirect to the same page without it
            assert resp.status == 303
            assert resp.headers["Location"] == "/dashboard?region=x"
            cookie = resp.cookies[COOKIE]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
            assert cookie["path"] == "/dashboard" and not cookie["secure"]
            assert cookie.value != TOKEN and TOKEN not in resp.headers["Set-Cookie"]
            assert len(cookie.value) >= 32
        async with http.get(f"{server}/dashboard?token={TOKEN}") as resp:
            assert resp.status == 200 and str(resp.url) == f"{server}/dashboard"
            page = await resp.text()
            assert "地区科技服务指标" in page and "chart.umd.min.js" in page
        # the page's own requests carry no token, only the session cookie
        async with http.get(server + "/dashboard/static/chart.umd.min.js") as resp:
            assert resp.status == 200 and len(await resp.read()) > 100_000
    # the token itself is no session id
    jar = ClientSession(cookies={COOKIE: TOKEN})
    async with jar as http, http.get(server + "/dashboard/api/report") as resp:
        assert resp.status == 401


async def test_the_cookie_is_secure_behind_https(server: str) -> None:
    async with (
        ClientSession() as http,
        http.get(
            f"{server}/dashboard?token={TOKEN}",
            headers={"X-Forwarded-Proto": "https"},
            allow_redirects=False,
        ) as resp,
    ):
        assert resp.status == 303 and resp.cookies[COOKIE]["secure"]


async def test_every_response_sends_the_security_headers(server: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with ClientSession() as http:
        for path, auth in [
            ("/dashboard", headers),
            ("/dashboard/api/report", headers),
            ("/dashboard/static/dashboard.js", headers),
            ("/dashboard/static/nothing.js", headers),
            ("/dashboard", {}),
        ]:
            async with http.get(server + path, headers=auth, allow_redirects=False) as resp:
                assert resp.headers["Referrer-Policy"] == "no-referrer", path
                csp = resp.headers["Content-Security-Policy"]
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp
                assert "default-src 'none'" in csp
        async with http.get(server + "/dashboard", headers=headers) as resp:
            page = await resp.text()
        assert "<style" not in page and "<script>" not in page and " on" not in page.lower()


async def test_no_token_reaches_the_access_log(server: str) -> None:
    async with ClientSession() as http:
        for query in (f"token={TOKEN}", "token=wrong-guess", f"region=x&token={TOKEN}"):
            async with http.get(f"{server}/dashboard?{query}", allow_redirects=False) as resp:
                assert resp.status in (303, 401)
    await asyncio.sleep(0.05)  # the server thread writes its log line after the response
    lines = list(ACCESS.lines)
    assert any('"GET /dashboard"' in line for line in lines)
    assert not [line for line in lines if TOKEN in line or "token=" in line or "?" in line]


async def test_report_api(server: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with ClientSession(headers=headers) as http:
        async with http.get(f"{server}/dashboard/api/report?region={quote('宜宾')}") as resp:
            data = await resp.json()
        assert data["region"]["label"] == "四川省宜宾市"
        assert [c["region"]["name"] for c in data["children"]][:1] and len(data["children"]) == 10
        total = data["total"]
        assert total["needs"] == sum(c["needs"] for c in data["children"])
        assert 0 < total["acquisition_rate"] <= 1
        assert len(data["weekly"]) == 12 and data["trail"][-1]["name"] == "宜宾市"
        assert data["cases"] == []  # no expert shared a solution in the demo
        async with http.get(f"{server}/dashboard/api/report?region={quote('宜兵市')}") as resp:
            assert resp.status == 400
            err = await resp.json()
            assert "宜兵市" in err["error"] and "宜宾市" in err["suggestions"]
        async with http.get(f"{server}/dashboard/api/report?since=2026-13-01") as resp:
            assert resp.status == 400 and "2026-13-01" in (await resp.json())["error"]


async def test_long_and_bad_periods(server: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    api = f"{server}/dashboard/api/report"
    async with ClientSession(headers=headers) as http:
        async with http.get(f"{api}?since=2001-01-01&until=2026-01-01") as resp:
            assert resp.status == 200
            data = await resp.json()
        assert len(data["weekly"]) == 1305 and data["since"] == "2001-01-01"
        async with http.get(f"{api}?since=2026-03-01&until=2026-01-01") as resp:
            assert resp.status == 400
            assert (await resp.json())["error"] == (
                "统计时段无效：起始日期 2026-03-01 不早于结束日期 2026-01-01"
            )
        for value in ("0001-01-01", "9999-12-31"):
            async with http.get(f"{api}?until={value}") as resp:
                assert resp.status == 400 and "超出范围" in (await resp.json())["error"]


def _browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    options = chromium_options(tmp_path / "chromium-profile", "--window-size=1280,1800")
    return start_chromium(options)


def test_dashboard_renders_charts_in_chromium(server: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(tmp_path)
    try:
        driver.get(f"{server}/dashboard?token={TOKEN}")
        WebDriverWait(driver, 30).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded")
        )
        assert driver.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "四川省"
        # the token left the address bar; the style sheet loaded under the strict CSP
        assert driver.current_url == f"{server}/dashboard"
        header = driver.find_element(By.TAG_NAME, "header")
        assert header.value_of_css_property("background-color") == "rgba(18, 88, 140, 1)"
        canvases = driver.find_elements(By.TAG_NAME, "canvas")
        assert len(canvases) == 3
        series = driver.execute_script(
            "return ['chart-rates', 'chart-needs', 'chart-weekly'].map(id => {"
            "  const c = Chart.getChart(id);"
            "  return {labels: c.data.labels, sets: c.data.datasets.map(d => d.label),"
            "          points: c.data.datasets[0].data.length, width: c.width};"
            "});"
        )
        rates, needs, weekly = series
        assert rates["sets"] == ["科技服务获取率", "专家供给率"]
        assert len(rates["labels"]) == 21 and "成都市" in rates["labels"]
        assert needs["sets"] == ["已接单需求", "未满足需求", "专家"]
        assert weekly["sets"] == ["新需求", "已接单", "科普提问"] and weekly["points"] == 12
        assert all(s["width"] > 100 for s in series)  # drawn, not an empty 0x0 canvas
        # pixels were painted on the bar chart
        painted = driver.execute_script(
            "const c = document.getElementById('chart-rates');"
            "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;"
        )
        assert painted > 1000
        cards = driver.find_element(By.ID, "cards").text
        assert "科技服务获取率" in cards and "%" in cards
        assert driver.find_elements(By.CSS_SELECTOR, "#gaps tr")  # the knowledge-gap table
        driver.save_screenshot(str(tmp_path / "dashboard.png"))
        assert (tmp_path / "dashboard.png").stat().st_size > 10_000

        # drill down through the region picker
        box = driver.find_element(By.ID, "region")
        box.clear()
        box.send_keys("宜宾市")
        driver.find_element(By.CSS_SELECTOR, "form button").click()
        WebDriverWait(driver, 30).until(
            lambda d: (
                d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "四川省宜宾市"
            )
        )
        labels = driver.execute_script("return Chart.getChart('chart-rates').data.labels")
        assert "翠屏区" in labels and len(labels) == 10
        driver.save_screenshot(str(tmp_path / "dashboard-yibin.png"))
    finally:
        driver.quit()


def test_browser_without_token_is_refused(server: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = _browser(tmp_path)
    try:
        driver.get(f"{server}/dashboard")
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "401" in body and "未授权" in body
        assert not driver.find_elements(By.TAG_NAME, "canvas")
    finally:
        driver.quit()
