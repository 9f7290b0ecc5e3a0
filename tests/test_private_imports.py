"""No module imports another package's private modules.

A private module (``kizuna.x._y``, or ``kizuna._y`` at the top) belongs to the package that
holds it, ``kizuna.x``: only modules inside ``kizuna/x/`` may import it. Everything else, the
other packages, the benchmarks and the scripts, uses what ``kizuna.x`` exports.

Tests are held to the same rule with one allowance: a test under ``tests/x/`` may import the
private modules of ``kizuna.x`` (and of its subpackages), since that is the package it tests
from the inside (``tests/store`` tries the store's id key and recent-ids structure on their
own, ``tests/stix`` the validator's rule tables); it may not reach into another package.

``ALLOWED`` names the exceptions one by one, each with its reason.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

#: Files (relative to the repository) that may import private modules of these packages.
ALLOWED: dict[str, dict[str, str]] = {
    "bench/post_cost.py": {
        "kizuna.store": "measures the SQLite floor with the store's own rows and id keys",
        "kizuna.stix": "measures the identifier check against the rule it replaced",
    },
}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    imported: str
    owner: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: imports {self.imported}, private to {self.owner}; "
            f"use what {self.owner} exports (or export it there)"
        )


def _is_module(name: str) -> bool:
    """Whether *name* is a module or package of the source tree."""
    base = SRC.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def private_owner(module: str) -> str | None:
    """The package a private module belongs to (``kizuna.x`` for ``kizuna.x._y.z``), or None."""
    parts = module.split(".")
    if parts[0] != "kizuna":
        return None
    for i, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return ".".join(parts[:i])
    return None


def imported_modules(tree: ast.AST, package: str | None) -> list[tuple[int, str]]:
    """Every module an import statement names, anywhere in *tree* (functions included).

    ``from a import b`` names ``a``, and ``a.b`` too when that is a module. *package* is the
    importing module's package, for relative imports (None outside the source tree).
    """
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if package is None:
                    continue
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((node.lineno, base))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if _is_module(full):
                    out.append((node.lineno, full))
    return out


def module_name(path: Path) -> str | None:
    """The dotted name of a file of the source tree, or None for files outside it."""
    try:
        rel = path.relative_to(SRC)
    except ValueError:
        return None
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(path: Path, source: str) -> list[Violation]:
    rel = path.relative_to(ROOT).as_posix()
    module = module_name(path)
    if module is None:
        package = None
    elif path.name == "__init__.py":
        package = module
    else:
        package = module.rpartition(".")[0]
    allowed = set(ALLOWED.get(rel, {}))
    parts = rel.split("/")
    if parts[0] == "tests" and len(parts) > 2:
        allowed.add(f"kizuna.{parts[1]}")
    found = []
    for line, imported in imported_modules(ast.parse(source, rel), package):
        owner = private_owner(imported)
        if owner is None:
            continue
        if module is not None and _inside(module, owner):
            continue
        if any(_inside(owner, a) for a in allowed):
            continue
        found.append(Violation(rel, line, imported, owner))
    return found


def python_files() -> list[Path]:
    files = [
        *sorted((SRC / "kizuna").rglob("*.py")),
        *sorted((ROOT / "bench").rglob("*.py")),
        *sorted((ROOT / "tests").rglob("*.py")),
    ]
    for script in sorted((ROOT / "scripts").iterdir()):
        if script.is_file() and "python" in script.read_text(errors="replace").partition("\n")[0]:
            files.append(script)
    return files


def test_no_module_imports_another_packages_private_modules() -> None:
    files = python_files()
    assert len(files) > 100  # the scan sees the tree
    found = [v for path in files for v in violations(path, path.read_text())]
    assert not found, "\n".join(map(str, found))


def test_every_allowance_is_still_needed() -> None:
    for rel, packages in ALLOWED.items():
        path = ROOT / rel
        module = module_name(path)
        imported = {
            owner
            for _, name in imported_modules(ast.parse(path.read_text()), None)
            if (owner := private_owner(name)) is not None
            and not (module is not None and _inside(module, owner))
        }
        for package in packages:
            assert any(_inside(o, package) for o in imported), f"{rel} no longer needs {package}"


def _check(rel: str, source: str) -> list[str]:
    return [v.imported for v in violations(ROOT / rel, source)]


def test_the_check_sees_each_form_of_import() -> None:
    src = "src/kizuna/taxii/app.py"
    assert _check(src, "from kizuna.node._read import read_page\n") == ["kizuna.node._read"]
    assert _check(src, "import kizuna.store._keys\n") == ["kizuna.store._keys"]
    assert _check(src, "from kizuna.store import _keys\n") == ["kizuna.store._keys"]
    assert _check(src, "def f():\n    from kizuna.node._ingest import ingest\n") == [
        "kizuna.node._ingest"
    ]
    assert _check("bench/x.py", "from kizuna.node._files import read_bundle\n") == [
        "kizuna.node._files"
    ]
    # a test may reach into its own package only
    assert _check("tests/store/test_x.py", "from kizuna.store._keys import id_key\n") == []
    assert _check("tests/store/test_x.py", "from kizuna.node._read import Page\n") == [
        "kizuna.node._read"
    ]
    assert _check("tests/test_x.py", "from kizuna.store._keys import id_key\n") == [
        "kizuna.store._keys"
    ]


def test_the_check_lets_a_package_use_its_own_private_modules() -> None:
    assert _check("src/kizuna/store/sql.py", "from kizuna.store._keys import id_key\n") == []
    assert _check("src/kizuna/store/__init__.py", "from kizuna.store._base import StoreBase\n") == []
    assert _check("src/kizuna/store/sql.py", "from ._keys import id_key\n") == []
    assert _check("src/kizuna/taxii/app.py", "from .._cli_common import err\n") == []
    assert _check("src/kizuna/cli.py", "from kizuna._cli_common import err\n") == []
    assert _check("src/kizuna/taxii/app.py", "from ..store import _keys\n") == [
        "kizuna.store._keys"
    ]
    # public names and dunder modules are not private modules
    assert _check("bench/x.py", "from kizuna.node import read_page\nimport kizuna.__main__\n") == []
