"""The space packages' shape: only screening imports numba, and nothing else pays for it."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import kizuna
import kizuna.space

SRC = Path(kizuna.__file__).parent


def _modules_importing(name: str) -> set[str]:
    found = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            if any(n == name or n.startswith(name + ".") for n in names):
                found.add(str(path.relative_to(SRC.parent)))
    return found


def test_only_the_screening_kernel_imports_numba() -> None:
    assert _modules_importing("numba") == {"kizuna/space/screening/_kernel.py"}


def _run(code: str) -> dict[str, bool]:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: dict[str, bool] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_init_does_not_import_numba_or_the_space_domain(tmp_path: Path) -> None:
    code = f"""
import json, sys
from kizuna.cli import main
try:
    main(["init", {str(tmp_path / "node")!r}, "--name", "n", "--org", "O", "--country", "JPN"])
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps({{m: m in sys.modules for m in ("numba", "sgp4", "kizuna.space.stix")}}))
"""
    assert _run(code) == {"numba": False, "sgp4": False, "kizuna.space.stix": False}
    assert (tmp_path / "node" / "kizuna.toml").is_file()


def test_the_rest_of_the_space_domain_does_not_import_numba() -> None:
    others = sorted(
        m.name
        for m in pkgutil.walk_packages(kizuna.space.__path__, "kizuna.space.")
        if not m.name.startswith("kizuna.space.screening") and m.name != "kizuna.space.cli.screen"
    )
    assert "kizuna.space.formats.cdm" in others and "kizuna.space.probability" in others
    code = f"""
import importlib, json, sys
for name in {others!r}:
    importlib.import_module(name)
print(json.dumps({{"numba": "numba" in sys.modules}}))
"""
    assert _run(code) == {"numba": False}
