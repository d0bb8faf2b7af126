"""The shape of the conversation core: no module imports one that imports it back, and the
conversation runs no SQL of its own (every read and write is a store/ function)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "dialogs", "retrieval", "knowledge", "store", "bench")
SQL_CALLS = {"select", "exec", "execute", "text", "update", "delete", "insert", "get"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {
        _module_name(p): ast.parse(p.read_text(encoding="utf-8"))
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob("*.py")
    }


def _imports(tree: ast.Module, names: set[str]) -> set[str]:
    """Project modules *tree* imports, anywhere (for type checking too: a cycle hidden
    behind ``TYPE_CHECKING`` is still two modules that need each other)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in names)
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    modules = _modules()
    graph = {name: _imports(tree, set(modules)) - {name} for name, tree in modules.items()}
    cycles = []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_dialogs_run_no_sql() -> None:
    offenders = []
    for path in (ROOT / "dialogs").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ("sqlmodel", "sqlalchemy"):
                used = {a.name for a in node.names} - {"Session"}
                if used:
                    offenders.append(f"{path.name}: imports {sorted(used)} from {node.module}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS
                and ast.unparse(node.func.value).endswith("session")
            ):
                offenders.append(f"{path.name}:{node.lineno}: {ast.unparse(node)[:60]}")
    assert offenders == []
