"""No update lost when a process dies: an update journaled as received and never handled (its
process was killed) is handled by the next look once its lease passed, once; a Confirm tap whose
process died after its credit committed is handled again and credits nothing twice."""

from __future__ import annotations

import json

from sqlalchemy import text

from kartu.bot.journal import recover
from kartu.loyalty.program import ProgramRules
from kartu.sandbox import TelegramUser
from tests.e2e.world import World, code_in

LEASE_PASSED = {"seconds": 121}


async def _purchases(world: World) -> int:
    async with world.app.db.read() as uow:
        count = await uow.session.scalar(text("SELECT count(*) FROM ledger_entry WHERE reason = 'purchase'"))
    return int(count or 0)


async def test_an_update_received_by_a_process_that_died_is_handled_once(
    world: World, customer: TelegramUser
) -> None:
    join = await world.create_shop()
    await customer.ask(f"/start {join}")
    # The process journaled this update (Telegram counted it delivered), then was killed.
    update = {
        "update_id": 10_000_000,
        "message": {
            "message_id": 9_000,
            "date": int(world.clock.now().timestamp()),
            "chat": {"id": customer.id, "type": "private", "first_name": "Ayu"},
            "from": {"id": customer.id, "is_bot": False, "first_name": "Ayu", "language_code": "id"},
            "text": "/code",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    await world.app.services.customers.journal([(10_000_000, customer.id, json.dumps(update))])
    assert await recover(world.app) == 0  # within its lease: its process may still be at it
    world.clock.advance(**LEASE_PASSED)
    assert await recover(world.app) == 1
    code = await customer.next_message()
    assert code_in(code.body)  # the customer got the answer the dead process never sent
    world.clock.advance(**LEASE_PASSED)
    assert await recover(world.app) == 0  # once
    async with world.app.db.read() as uow:
        row = (
            await uow.session.execute(
                text("SELECT payload, chat_id, done_at FROM processed_update WHERE update_id = 10000000")
            )
        ).one()
    assert row[0] is None and row[1] is None and row[2] is not None  # emptied once handled


async def test_a_confirm_handled_again_after_a_crash_credits_nothing_twice(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    join = await world.create_shop(rules=ProgramRules(daily_stamp_cap=0))
    await world.hire(owner, barista)
    code = code_in((await customer.ask(f"/start {join}")).body)
    prompt = await barista.ask(code)
    assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
    assert await _purchases(world) == 1
    # The process died after the credit committed and before the update was marked done.
    tap_id = max(
        update_id for update_id, update in world.emulator.state.pushed.items() if "callback_query" in update
    )
    async with world.app.db.write() as uow:
        await uow.session.execute(
            text(
                "UPDATE processed_update SET payload = :payload, chat_id = :chat, done_at = NULL "
                "WHERE update_id = :id"
            ),
            {
                "payload": json.dumps(world.emulator.state.pushed[tap_id]),
                "chat": barista.id,
                "id": tap_id,
            },
        )
    world.clock.advance(**LEASE_PASSED)
    assert await recover(world.app) == 1
    assert await _purchases(world) == 1  # the prompt closed with its credit: nothing twice


async def test_a_code_typed_again_moments_after_a_stamp_says_so(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    """The barista whose Confirm seemed to hang types the code again: the prompt says the customer
    was stamped seconds ago, so one sale does not become two."""
    join = await world.create_shop(rules=ProgramRules(daily_stamp_cap=0))
    await world.hire(owner, barista)
    code = code_in((await customer.ask(f"/start {join}")).body)
    first = await barista.ask(code)
    assert "ago" not in first.body
    assert (await barista.press(first, "Confirm")).text == "Confirmed."
    world.clock.advance(seconds=40)
    again = await barista.ask(code)
    assert "⚠️ Ayu got a stamp 40 s ago. Another purchase?" in again.body
    world.clock.advance(minutes=2)
    assert "⚠️ Ayu got a stamp 2 min ago. Another purchase?" in (await barista.ask(code)).body
    world.clock.advance(minutes=5)
    assert "got a stamp" not in (await barista.ask(code)).body
