"""/export as a run: asked, started once per shop (a second tap, a second owner or a second
process hears it is on its way), bounded by its period and by the moment it started, and a big
one's download link, good once within the hour."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.errors import NotOwner, PromptClosed
from kartu.loyalty.exports import ExportLinkRefused, ExportOnItsWay, ExportPeriod
from kartu.services.container import Services
from kartu.services.exports import ExportCounts
from tests.services.conftest import BARISTA, OWNER, Shop, export, written


async def test_a_second_export_is_on_its_way_until_the_first_is_done(services: Services, shop: Shop) -> None:
    token = await services.exports.ask(OWNER)
    job = await services.exports.start(OWNER, token, ExportPeriod.ALL)
    with pytest.raises(ExportOnItsWay):
        await services.exports.ask(OWNER)  # /export again
    with pytest.raises(ExportOnItsWay):
        await services.exports.start(OWNER, token, ExportPeriod.ALL)  # the button tapped twice
    await services.exports.finish(job, ExportCounts(1, 0), 2)
    with pytest.raises(PromptClosed) as spent:
        await services.exports.start(OWNER, token, ExportPeriod.YEAR)
    assert spent.value.status == "exported"
    assert (await export(services)).counts.members == 1  # a new /export works


async def test_two_taps_at_once_start_one_export(services: Services, shop: Shop) -> None:
    first, second = await services.exports.ask(OWNER), await services.exports.ask(OWNER)
    outcomes = await asyncio.gather(
        services.exports.start(OWNER, first, ExportPeriod.ALL),
        services.exports.start(OWNER, second, ExportPeriod.ALL),
        return_exceptions=True,
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["ExportJob", "ExportOnItsWay"]


async def test_an_export_left_by_a_stopped_process_lets_the_next_one_start(
    services: Services, shop: Shop, clock: FrozenClock
) -> None:
    await services.exports.start(OWNER, await services.exports.ask(OWNER), ExportPeriod.ALL)
    clock.advance(minutes=1)
    with pytest.raises(ExportOnItsWay):
        await services.exports.ask(OWNER)
    clock.advance(minutes=3)  # nothing moved for longer than a running export's pages take
    assert (await export(services)).counts.members == 1


async def test_only_the_owner_who_was_asked_starts_it(services: Services, shop: Shop) -> None:
    token = await services.exports.ask(OWNER)
    with pytest.raises(NotOwner):
        await services.exports.start(BARISTA, token, ExportPeriod.ALL)
    with pytest.raises(PromptClosed):
        await services.exports.start(OWNER, "A" * 16, ExportPeriod.ALL)  # a token nobody made
    with pytest.raises(NotOwner):
        await services.exports.ask(BARISTA)


async def test_the_ledger_is_the_periods_up_to_the_moment_the_export_started(
    services: Services, shop: Shop, clock: FrozenClock
) -> None:
    now = clock.now()
    clock.set(now - timedelta(days=120))
    await shop.purchase()  # four months ago
    clock.set(now)
    await shop.purchase(2)
    job = await services.exports.start(OWNER, await services.exports.ask(OWNER), ExportPeriod.QUARTER)
    await shop.purchase()  # while the export runs: in the next one
    recent = (await written(services, job)).ledger
    assert [(entry.delta, entry.at >= now) for entry in recent] == [(2, True)]
    everything = (await export(services)).ledger
    assert [entry.delta for entry in everything] == [1, 2, 1]


async def test_a_download_link_works_once_within_the_hour(
    services: Services, shop: Shop, clock: FrozenClock
) -> None:
    job = await services.exports.start(OWNER, await services.exports.ask(OWNER), ExportPeriod.ALL)
    await services.exports.finish(job, ExportCounts(1, 0), 2)
    assert await services.exports.link(job) is None  # no API server published: no link
    services.exports.settings.api_public_url = "https://kartu.example/"
    link = await services.exports.link(job)
    assert link is not None and link.startswith("https://kartu.example/v1/exports/")
    token = link.rsplit("/", 1)[1]
    clock.advance(minutes=59)
    downloading = await services.exports.download(token)
    assert (downloading.slug, downloading.last_entry_id) == (shop.slug, job.last_entry_id)
    with pytest.raises(ExportLinkRefused) as again:
        await services.exports.download(token)
    assert again.value.reason == "used"

    later = await services.exports.start(OWNER, await services.exports.ask(OWNER), ExportPeriod.ALL)
    await services.exports.finish(later, ExportCounts(1, 0), 2)
    late = str(await services.exports.link(later)).rsplit("/", 1)[1]
    clock.advance(hours=1)
    with pytest.raises(ExportLinkRefused) as expired:
        await services.exports.download(late)
    assert expired.value.reason == "expired"
    with pytest.raises(ExportLinkRefused) as forged:
        await services.exports.download(late[:-2] + "xx")
    assert forged.value.reason == "invalid"
