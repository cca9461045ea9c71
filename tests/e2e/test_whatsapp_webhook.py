"""WhatsApp beside Telegram in webhook mode: Meta posts to /whatsapp/webhook on the server that
serves Telegram's webhook; a WhatsApp message journaled by a process that died before handling it
is handled by the next look, once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import func, select

from kartu.channels.whatsapp.webhook import events_of
from kartu.loyalty.clock import FrozenClock
from kartu.sandbox import BotAPIEmulator
from kartu.sandbox.whatsapp import WhatsAppEmulator
from kartu.storage.models import WhatsAppEvent
from tests.e2e.world import webhook_bot


async def test_whatsapp_on_the_telegram_webhook_server_and_an_event_left_by_a_dead_process(
    tmp_path: Path, clock: FrozenClock
) -> None:
    telegram, meta = BotAPIEmulator(), WhatsAppEmulator()
    meta.now = lambda: clock.now().timestamp()
    await telegram.start()
    await meta.start()
    try:
        async with webhook_bot(telegram, tmp_path, clock, **meta.settings()) as app:
            assert app.whatsapp is not None
            url, _ = telegram.webhook  # type: ignore[misc]
            meta.webhook_url = url.replace("/telegram/webhook", "/whatsapp/webhook")
            assert await meta.handshake(challenge="42") == (200, "42")
            await app.services.merchants.create_merchant("Kopi Senja", 100)

            ayu = meta.user("Ayu")
            await meta.write(ayu, "GABUNG kopi-senja")
            await meta.wait_for(lambda: meta.messages_to(ayu))
            assert "*Kopi Senja*" in meta.messages_to(ayu)[0].text
            for _ in range(100):  # her message's handling ends with its done mark
                async with app.db.read() as uow:
                    waiting = await uow.session.scalar(
                        select(func.count()).select_from(WhatsAppEvent).where(WhatsAppEvent.done_at.is_(None))  # type: ignore[union-attr]
                    )
                if not waiting:
                    break
                await asyncio.sleep(0.05)

            # A process journaled Dewi's message (Meta got its 200) and died before handling it.
            dewi = meta.user("Dewi")
            dewi.last_inbound = meta.now()
            payload = meta.inbound(dewi, "text", {"body": "GABUNG kopi-senja"})
            ((event_id, sender, alone),) = list(events_of(payload, meta.phone_number_id))
            assert await app.services.whatsapp.journal([(event_id, sender, alone)]) == [event_id]
            assert meta.messages_to(dewi) == []
            clock.advance(seconds=app.settings.update_lease_seconds + 1)
            assert await app.whatsapp.receiver.recover() == 1
            await meta.wait_for(lambda: meta.messages_to(dewi))
            assert await app.whatsapp.receiver.recover() == 0  # handled once: nothing left
            await asyncio.sleep(0.2)
            assert len(meta.messages_to(dewi)) == 1
            assert await meta.post(payload) == 200  # Meta posting it again changes nothing
            await asyncio.sleep(0.2)
            assert len(meta.messages_to(dewi)) == 1
            assert json.loads(alone)["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == event_id
    finally:
        await meta.stop()
        await telegram.stop()
    assert not meta.refused


async def test_one_senders_events_in_order_and_nothing_kept_after_them() -> None:
    """Events of one sender are handled one after another, in the order they came; statuses (no
    sender) and finished senders leave nothing behind in the receiver."""
    from kartu.channels.whatsapp.webhook import WhatsAppReceiver

    handled: list[str] = []
    running: set[str] = set()

    class Journal:
        async def handled(self, event_id: str) -> None:
            pass

    async def handle(event_id: str, payload: str) -> None:
        assert payload not in running  # never two of one sender at once
        running.add(payload)
        await asyncio.sleep(0.01)
        handled.append(event_id)
        running.discard(payload)

    receiver = WhatsAppReceiver(
        Journal(),  # type: ignore[arg-type]
        handle,
        app_secret="s",
        verify_token="v",
        phone_number_id="1",
        limit=2,
    )
    for number in range(5):
        receiver.start(f"ayu-{number}", "ID.1", "ID.1")
        receiver.start(f"status-{number}", None, f"status-{number}")
    await receiver.finish()
    assert [event for event in handled if event.startswith("ayu")] == [f"ayu-{n}" for n in range(5)]
    assert len(handled) == 10 and receiver._senders == {}
