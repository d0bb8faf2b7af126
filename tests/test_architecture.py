"""Imports point one way between packages (DESIGN.md, "Layout and dependency direction")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "dialogs", "retrieval", "knowledge", "store", "bench")
FORBIDDEN = {
    "store": {"bot", "dialogs", "retrieval", "knowledge", "bench"},
    "retrieval": {"bot", "dialogs", "knowledge", "bench"},
    "knowledge": {"bot", "dialogs", "bench"},
    "bench": {"bot"},
}


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every import in *path*, at any depth (lazy imports count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_one_way(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in modules(package)
    }
    assert {p: w for p, w in wrong.items() if w} == {}


def test_only_tests_import_bot() -> None:
    users = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        if package != "bot"
        for path in modules(package)
        if "bot" in imported_packages(path)
    ]
    assert users == []


def test_the_checker_sees_lazy_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from bot.app import x\n    import knowledge.lexicons\n")
    assert imported_packages(source) == {"bot", "knowledge"}
