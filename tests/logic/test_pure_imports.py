"""The engine and the pure-logic modules import without Textual (and the engine without rich or
the tutor), so `tutor check`, `tutor progress` and the tests never pay for the UI."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The pure modules of the tutor package (every module of tutor.progress is added below).
PURE_TUTOR_MODULES = [
    "tutor",
    "tutor.lessons",
    "tutor.progress",
    "tutor.cli",
    "tutor.cli_progress",
    "tutor.quiz",
    "tutor.misconceptions",
    "tutor.codeline",
    "tutor.predict_diagnosis",
    "tutor.torch_compare",
    "tutor.files",
    "tutor.schema",
    "tutor.safe_eval",
    "tutor.own_op",
    "tutor.coderules",
    "tutor.review",
    "tutor.review.fresh",
    "tutor.review.questions",
    "tutor.review.skills",
]


def _imported_after(code: str) -> dict:
    """Run code in a fresh interpreter; return what it printed as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_engine_imports_only_the_standard_library():
    result = _imported_after(
        """
        import json, pkgutil, sys, importlib
        import engine
        names = ["engine"] + [f"engine.{m.name}" for m in pkgutil.iter_modules(engine.__path__)]
        for name in names:
            importlib.import_module(name)
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich", "tutor"))
        print(json.dumps({"names": names, "bad": bad}))
        """
    )
    assert {"engine.value", "engine.expr"} <= set(result["names"])
    assert result["bad"] == []


def test_pure_tutor_modules_import_without_textual():
    result = _imported_after(
        f"""
        import importlib, json, pkgutil, sys
        import tutor.progress
        names = {PURE_TUTOR_MODULES!r}
        names += [f"tutor.progress.{{m.name}}" for m in pkgutil.iter_modules(tutor.progress.__path__)]
        for name in names:
            importlib.import_module(name)
        print(json.dumps({{"names": names, "textual": sorted(m for m in sys.modules if m.startswith("textual"))}}))
        """
    )
    assert {"tutor.progress.store", "tutor.progress.writer", "tutor.progress.opening"} <= set(result["names"])
    assert result["textual"] == []


def test_check_and_progress_commands_run_without_textual(tmp_path):
    result = _imported_after(
        f"""
        import contextlib, io, json, os, sys
        os.environ["TUTOR_HOME"] = {str(tmp_path)!r}
        from tutor.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            codes = [main(["check"]), main(["progress", "--json"])]
        print(json.dumps({{"codes": codes, "textual": any(m.startswith("textual") for m in sys.modules)}}))
        """
    )
    assert result == {"codes": [0, 0], "textual": False}


def test_lesson_module_is_not_shadowed_by_the_lesson_data_package():
    # pyproject.toml ships lessons/*.md as the data package "tutor.course", so nothing can hide
    # the package tutor/lessons/ once installed
    import tutor.lessons

    assert Path(tutor.lessons.__file__).parent == REPO / "tutor" / "lessons"
    assert not (REPO / "lessons" / "__init__.py").exists()
    assert sorted(p.name for p in tutor.lessons.builtin_lessons_dir().glob("*.md"))[:1] == [
        "01-derivative.md"
    ]


def test_every_package_of_the_code_is_shipped_by_pyproject():
    """pyproject.toml lists its packages by name: one left out is missing from `pip install .`
    (an editable install still finds it, so only a fresh CI install showed tutor.review gone)."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in ("engine", "tutor")
        for init in (REPO / top).rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
