"""A disk cache of the trained intent model, so that a new process loads it instead of
training it again (training takes seconds; loading a fraction of one).

An entry is one ``.npz`` file of plain arrays (no pickle) named after its key: a hash of the
training examples, the lexicons, the source of every project module the model's features are
computed by, and the versions of Python and of the libraries those modules import. Any change
to one of these is a new key, so a stale entry is never read. A missing, unreadable or
inconsistent entry is reported and rebuilt by the caller; nothing here raises on bad files.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from knowledge import LEXICON_DIR, NLU_DIR

log = logging.getLogger(__name__)

FORMAT = "intent-model/1"  # bump when the file layout changes
KEEP = 3  # entries kept in one directory
_PREFIX = "intent-model-"
_ROOT = Path(__file__).resolve().parents[2]  # the directory holding dialogs/, knowledge/ ...
_PACKAGES = frozenset({"bench", "bot", "dialogs", "knowledge", "retrieval", "store"})
_START = "dialogs.nlu.model"
# import name -> distribution name, where the two differ
_DISTRIBUTIONS = {"sklearn": "scikit-learn", "opencc": "opencc-python-reimplemented"}


def _module_file(name: str) -> Path | None:
    """The source file of project module *name*, None when it is not a project module."""
    if name.split(".")[0] not in _PACKAGES:
        return None
    base = _ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, module: str) -> Iterator[str]:
    """Every module *path* (module *module*) imports, at any depth of its code."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{node.module}" if node.module else anchor
            else:
                base = node.module or ""
            yield base
            # "from pkg import name" may name a submodule
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _closure(start: str) -> tuple[list[Path], set[str]]:
    """The project source files *start* runs (with their packages' ``__init__``) and the
    top-level names of the other libraries they import."""
    files: dict[str, Path] = {}
    libraries: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in files:
            continue
        path = _module_file(name)
        if path is None:
            top = name.split(".")[0]
            if top not in _PACKAGES and top not in sys.stdlib_module_names and top:
                libraries.add(top)
            continue
        files[name] = path
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        todo.extend(parents)
        todo.extend(_imports(path, name))
    return sorted(set(files.values())), libraries


def _version(library: str) -> str:
    try:
        return metadata.version(_DISTRIBUTIONS.get(library, library))
    except metadata.PackageNotFoundError:
        module = sys.modules.get(library)
        return str(getattr(module, "__version__", "unknown"))


def _data_files() -> Iterable[Path]:
    for directory in (NLU_DIR, LEXICON_DIR):
        yield from sorted(p for p in directory.iterdir() if p.is_file())


@lru_cache(maxsize=1)
def cache_key() -> str:
    """The key of the model this code would train now (hex sha256)."""
    digest = hashlib.sha256(FORMAT.encode())
    sources, libraries = _closure(_START)
    named = [(p.relative_to(_ROOT).as_posix(), p) for p in sources]
    named += [(f"{p.parent.name}/{p.name}", p) for p in _data_files()]
    for name, path in named:
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(sys.version.encode())
    for library in sorted(libraries):
        digest.update(f"\0{library}={_version(library)}".encode())
    return digest.hexdigest()


def entry_path(directory: Path, key: str) -> Path:
    return directory / f"{_PREFIX}{key[:24]}.npz"


def load(directory: Path, key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under *key* in *directory*; None when there are none or they cannot
    be read (the reason is logged)."""
    path = entry_path(directory, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        found = str(arrays.pop("_key", np.array("")))
    except Exception as exc:  # noqa: BLE001 - a damaged file of any kind is rebuilt
        log.warning("intent model cache %s is unreadable (%s); training again", path, exc)
        return None
    if found != key:
        log.warning("intent model cache %s holds key %r, not %r; training again", path, found, key)
        return None
    return arrays


def save(directory: Path, key: str, arrays: dict[str, np.ndarray]) -> Path | None:
    """Store *arrays* under *key* (atomically: readers see the old file or the whole new
    one) and remove all but the newest few entries of other keys (another checkout or
    version may share the directory); None when *directory* is not writable."""
    path = entry_path(directory, key)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{_PREFIX}", suffix=".npz", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                named: dict[str, Any] = {"_key": np.array(key), **arrays}
                np.savez(out, **named)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.warning("cannot write the intent model cache in %s (%s)", directory, exc)
        return None
    entries = sorted(directory.glob(f"{_PREFIX}*.npz"), key=_mtime, reverse=True)
    for old in entries[KEEP:]:
        if old != path:
            old.unlink(missing_ok=True)
    return path


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile by another process
        return 0.0
