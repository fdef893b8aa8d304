"""`make run` and `make test` set up what PDF reports need from the system (Pango, fonts).

The Makefile's check and installer are replaced by stand-ins (PDF_CHECK, APT_GET), so these
tests never install anything: they prove the order of things and the message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def _make(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "SKIP_PDF"))}
    return subprocess.run(
        ["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def _fake_apt(tmp_path: Path) -> tuple[Path, Path, Path]:
    log, marker = tmp_path / "apt.log", tmp_path / "pango-installed"
    apt = tmp_path / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$@" >> {log}\n[ "$1" = install ] && touch {marker}\nexit 0\n')
    apt.chmod(0o755)
    return apt, log, marker


def test_run_and_test_check_the_pdf_packages_first():
    for target in ("run", "test"):
        plan = _make("-n", target).stdout
        assert "import weasyprint" in plan and PACKAGES in plan
        assert plan.index("import weasyprint") < plan.index(
            "tracker db upgrade" if target == "run" else "pytest"
        )


@pytest.mark.skipif(os.geteuid() != 0, reason="the installer branch runs as root (as CI does)")
def test_missing_packages_are_installed_with_apt_get(tmp_path):
    apt, log, marker = _fake_apt(tmp_path)
    result = _make("pdf-deps", f"PDF_CHECK=test -f {marker}", f"APT_GET={apt}")
    assert result.returncode == 0, result.stderr
    assert f"installing the system packages for PDF reports: {PACKAGES}" in result.stdout
    lines = log.read_text().splitlines()
    assert lines[0] == "update -qq"
    assert lines[1] == f"install -y -qq --no-install-recommends {PACKAGES}"


def test_nothing_is_installed_when_pdfs_already_work(tmp_path):
    apt, log, _marker = _fake_apt(tmp_path)
    result = _make("pdf-deps", "PDF_CHECK=true", f"APT_GET={apt}")
    assert result.returncode == 0 and result.stdout == "" and not log.exists()


def test_a_clear_message_when_they_cannot_be_installed(tmp_path):
    result = _make("pdf-deps", "PDF_CHECK=false", f"APT_GET={tmp_path / 'no-apt-get'}")
    assert result.returncode != 0
    assert "PDF reports need Pango" in result.stderr
    assert f"apt-get install {PACKAGES}" in result.stderr
    assert "SKIP_PDF_CHECK=1" in result.stderr
    skipped = _make("pdf-deps", "PDF_CHECK=false", "SKIP_PDF_CHECK=1")
    assert skipped.returncode == 0
