"""The README's local links and images point at files that exist and that git tracks."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _local_targets() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t.split("#")[0] for t in LINK.findall(text)]
    return [t for t in targets if t and "://" not in t and not t.startswith("mailto:")]


def test_the_readme_has_a_screenshot():
    assert any(t.endswith(".png") for t in _local_targets())


@pytest.mark.parametrize("target", _local_targets())
def test_readme_link_exists_and_is_not_ignored(target):
    assert (ROOT / target).exists(), f"README links {target}, which does not exist"
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot ask git whether the file is ignored")
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "-q", target], check=False
    ).returncode
    assert ignored == 1, f"README links {target}, which .gitignore leaves out of git"
