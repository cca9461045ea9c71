"""A big export's download link over real HTTP: one zip made while it downloads, in the owner's
language, every member and ledger entry of the export in it; the link works once, within the hour;
a forged one finds nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import zipfile

import httpx
import pytest

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.exports import ExportPeriod
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from tests.services.conftest import written

OWNER = 100


async def _exported_shop(services: Services, customers: int) -> str:
    """A shop whose owner made an export (all of it); its download link's token."""
    services.exports.settings.api_public_url = "https://kartu.example"
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    await services.customers.start(TelegramProfile(OWNER, "Sari", None, "id"), None)
    await services.customers.set_language(TelegramProfile(OWNER, "Sari", None, "id"), "id")
    for number in range(customers):
        await services.customers.start(
            TelegramProfile(5000 + number, f"Pelanggan {number}"), f"m_{created.slug}"
        )
    job = await services.exports.start(OWNER, await services.exports.ask(OWNER), ExportPeriod.ALL)
    await written(services, job)
    link = await services.exports.link(job)
    assert link is not None
    return link.rsplit("/", 1)[1]


async def test_a_download_link_gives_the_whole_export_once(services: Services, api_url: str) -> None:
    token = await _exported_shop(services, 30)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        answer = await client.get(f"/v1/exports/{token}")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/zip"
        assert answer.headers["content-disposition"] == 'attachment; filename="kopi-senja-export.zip"'
        with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
            assert archive.namelist() == ["kopi-senja-members.csv", "kopi-senja-ledger.csv"]
            members = list(
                csv.DictReader(io.StringIO(archive.read("kopi-senja-members.csv").decode("utf-8-sig")))
            )
        assert sorted(member["Nama"] for member in members) == sorted(f"Pelanggan {n}" for n in range(30))

        again = await client.get(f"/v1/exports/{token}")
        assert again.status_code == 410 and again.json()["code"] == "link_used"
        forged = await client.get(f"/v1/exports/{token[:-3]}abc")
        assert forged.status_code == 404 and forged.json()["code"] == "not_found"


async def test_a_link_an_hour_old_is_refused(services: Services, api_url: str, clock: FrozenClock) -> None:
    token = await _exported_shop(services, 1)
    clock.advance(hours=1)
    async with httpx.AsyncClient(base_url=api_url) as client:
        late = await client.get(f"/v1/exports/{token}")
    assert late.status_code == 410 and late.json()["code"] == "link_expired"


async def test_a_download_that_fails_midway_gives_the_link_back(
    services: Services, api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await _exported_shop(services, 3)
    write = services.exports.write

    async def failing(job: object, sink: object) -> object:
        sink.members([])  # type: ignore[attr-defined]  # a first page goes out, then the database fails
        raise ConnectionError("the database went away")

    monkeypatch.setattr(services.exports, "write", failing)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        cut = await client.get(f"/v1/exports/{token}")
        with pytest.raises(zipfile.BadZipFile):
            zipfile.ZipFile(io.BytesIO(cut.content))  # cut short: not a whole zip
        monkeypatch.setattr(services.exports, "write", write)
        whole = await client.get(f"/v1/exports/{token}")
        assert whole.status_code == 200 and len(zipfile.ZipFile(io.BytesIO(whole.content)).namelist()) == 2
        assert (await client.get(f"/v1/exports/{token}")).json()["code"] == "link_used"
