"""The short rehearsal (bench/rehearsal.py --short): nginx with the shipped site in front of three
webhook processes and the API, two schedulers, a PostgreSQL server of its own, Telegram delivering
as Telegram does; a bot process and a scheduler killed, PostgreSQL restarted, Telegram failing,
the API flooded, all under load. Nothing lost, nothing credited or broadcast twice, nothing left
waiting. Skipped (saying why) where the machine has no nginx or no PostgreSQL server binaries."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from rehearsal import postgres_bin  # noqa: E402


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (.ci/run installs it)")
@pytest.mark.skipif(postgres_bin() is None, reason="no PostgreSQL server binaries (initdb) on this machine")
def test_the_short_rehearsal_loses_nothing_and_does_nothing_twice() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/rehearsal.py"), "--short"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    line, verdict = lines[-2], json.loads(lines[-1])
    print(line)  # the figures, in the test's output
    twice = int(line.split(" answered once, ")[1].split(" twice")[0])
    assert twice <= 2, line  # an answer sent just before the SIGKILL may be sent again (at least once)
    assert " 0 lost;" in line
    assert " 0 double credits, 0 missing;" in line
    assert "outbox backlog 0, webhook backlog 0" in line
    assert " 0 duplicates," in line
    assert verdict == {"ok": True}, line
    assert done.returncode == 0
