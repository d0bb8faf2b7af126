"""Debian's headless Chromium for the browser tests (no driver download works here)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

# without the background-networking flags Chromium's connections are refused by this
# machine's closed network, many at a time
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_options(profile: Path, *flags: str) -> Any:
    """ChromeOptions for Debian's Chromium with its own *profile* directory and extra *flags*;
    the test fails in CI and is skipped elsewhere when Chromium is missing."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        message = (
            "Debian's chromium and chromium-driver are needed "
            "(apt-get install chromium chromium-driver, or .ci/browser.sh)"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, *flags, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return options


def start_chromium(options: Any) -> Any:
    """A driver over *options* (from :func:`chromium_options`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
