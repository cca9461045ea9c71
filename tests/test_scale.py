"""bench/scale.py's 10k shop (0.2M ledger rows written straight into a migrated SQLite file): every
owner operation runs against it and the bench prints its table. The figures are the bench's to
report (docs/built.md quotes the big shops); here: the shop builds, each operation completes, and
/stats reads the counted days, not the ledger."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_10k_shop_builds_and_every_owner_operation_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/scale.py"), "--sizes", "10000", "--databases", "sqlite"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    print(done.stdout)  # the table, in the test's output
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| 10,000")]
    operations = {cells[3].strip(): cells for cells in rows}
    assert set(operations) == {"build", "stats", "segments", "export", "sweep"}, done.stdout
    assert int(operations["build"][2].strip().replace(",", "")) > 150_000  # rows written
    assert all(cells[4].strip() != "failed" for cells in rows)
