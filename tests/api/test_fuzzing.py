"""Schemathesis against the live API (uvicorn on 127.0.0.1, a real SQLite file): every check it
has (no 500, answers as documented — status, content type, headers, schema —, invalid input
refused, valid input taken, auth not ignored, a deleted webhook gone), examples, coverage,
fuzzing and the stateful phase that follows the document's links (a sale to its refund, its
customer and its reward). Bounded here (a fixed seed, 300 examples per operation: about 3,500
requests in half a minute); the README's "Fuzzing the API" gives the long run, a new seed each time:

    KARTU_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/api/test_fuzzing.py -s
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kartu.api.app import create_app
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database
from tests.conftest import serving

OWNER, CUSTOMER = 100, 3000
EXAMPLES = int(os.environ.get("KARTU_FUZZ_EXAMPLES", "0"))  # 0: the bounded run CI plays


@pytest.fixture
def database_url(migrated_sqlite_url: str) -> str:
    """SQLite only: the run is about the API's contract; its storage is tested on both databases."""
    return migrated_sqlite_url


@pytest.fixture
async def live_api(services: Services, db: Database) -> AsyncIterator[tuple[str, str]]:
    """A shop with customers, a reward ready and a key of every scope; the API serving it with a
    rate no fuzzer meets (the limit has tests of its own)."""
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    for number in range(3):
        await services.customers.start(
            TelegramProfile(CUSTOMER + number, f"Ayu {number}"), f"m_{created.slug}"
        )
    key, _ = await services.api.create_key(OWNER, "earn,redeem,read,webhooks", "Fuzzer")
    services.api.settings.api_rate, services.api.settings.api_burst = 100_000.0, 100_000
    services.api.settings.bot_username = "kopi_senja_bot"  # receipts' links name it
    async with serving(create_app(services)) as url:
        yield url, key


async def test_schemathesis_finds_nothing_wrong_with_the_api(
    live_api: tuple[str, str], tmp_path: Path
) -> None:
    url, key = live_api
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is a test dependency (pyproject's [test])"
    bounded = [] if EXAMPLES else ["--seed", "20261207"]
    here = Path(__file__).parent
    run = await asyncio.create_subprocess_exec(
        st,
        "--config-file",
        str(here / "schemathesis.toml"),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(EXAMPLES or 300),
        *bounded,
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        "--suppress-health-check",
        "all",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.api.fuzz_hooks",
            "KARTU_FUZZ_KEY": key,
            "PYTHONPATH": str(here.parent.parent),
        },
    )
    output, _ = await asyncio.wait_for(run.communicate(), timeout=900)
    report = output.decode(errors="replace")
    print(report)
    assert run.returncode == 0, report[-6000:]
