"""The wheel's contents are declared by hand in pyproject.toml: these checks fail when a new
package or data folder under tracker/ would be left out of it (.ci/wheel-check then builds,
installs and serves the wheel)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_under_tracker_is_listed():
    listed = set(SETUPTOOLS["packages"]) - set(SETUPTOOLS["package-dir"])
    assert listed == set(find_packages(str(ROOT), include=["tracker", "tracker.*"]))


def test_templates_static_and_migrations_go_inside_the_package():
    assert SETUPTOOLS["package-dir"] == {
        "tracker.templates": "templates",
        "tracker.static": "static",
        "tracker.migrations": "migrations",
    }
    assert set(SETUPTOOLS["package-dir"]) <= set(SETUPTOOLS["packages"])
    migrations = SETUPTOOLS["package-data"]["tracker.migrations"]
    for path in (ROOT / "migrations").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(ROOT / "migrations")
            module = relative.suffix == ".py" and len(relative.parts) == 1  # env.py
            assert module or any(relative.match(p) for p in migrations), relative


def test_every_data_folder_under_tracker_is_package_data():
    patterns = SETUPTOOLS["package-data"]["tracker"]
    package = ROOT / "tracker"
    for folder in package.rglob("*"):
        if not folder.is_dir() or "__pycache__" in folder.parts:
            continue
        if (folder / "__init__.py").exists():
            continue
        relative = folder.relative_to(package).as_posix()
        assert any(relative.startswith(p.split("/**")[0]) for p in patterns), relative


def test_the_app_finds_its_folders_beside_the_package_in_a_checkout():
    import tracker

    assert tracker.TEMPLATES_DIR == ROOT / "templates"
    assert tracker.STATIC_DIR == ROOT / "static"
    assert tracker.MIGRATIONS_DIR == ROOT / "migrations"
