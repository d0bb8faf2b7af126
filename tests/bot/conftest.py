from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from tests.bot.wiring import settings_for


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def tianfu(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """`tianfu ARGS...` in this process, with DATA_DIR under the given folder."""

    def run(*args: str, cwd: Path, **settings: object) -> Run:
        capsys.readouterr()
        code = main(list(args), settings=settings_for(cwd, **settings))
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run
