"""The dependency direction is part of the design: app -> indexer -> models, Qt only in app."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"models": set(), "indexer": {"models"}, "app": {"indexer", "models"}}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_packages_import_only_downwards_and_qt_stays_in_app():
    problems = []
    for pkg, allowed in ALLOWED.items():
        for f in (ROOT / pkg).rglob("*.py"):
            for mod in _imports(f):
                top = mod.split(".")[0]
                if top in ALLOWED and top != pkg and top not in allowed:
                    problems.append(f"{f.relative_to(ROOT)} imports {mod}")
                if top in ("PySide6", "PyQt6", "PyQt5") and pkg != "app":
                    problems.append(f"{f.relative_to(ROOT)} imports Qt")
    assert not problems, problems


def test_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("from app.cli import main\nimport PySide6.QtCore\n")
    assert {m.split(".")[0] for m in _imports(bad)} == {"app", "PySide6"}
