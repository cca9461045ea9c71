"""What the tests in real Chromium share: Debian's `chromium` (installed by `.ci/run`), the mark
that skips them where it is missing, and where their screenshots go (``test-artifacts/<name>/``
or ``$KARTU_TEST_ARTIFACTS/<name>/``) for a person to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


def artifacts(name: str) -> Path:
    root = os.environ.get("KARTU_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts")
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
