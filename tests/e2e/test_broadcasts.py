"""Owners broadcast to a segment: counts match the data, delivery is paced and can be cancelled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from kartu.loyalty.program import ProgramRules
from kartu.sandbox import SentMessage, TelegramUser
from tests.e2e.world import World

RULES = ProgramRules(
    stamps_required=10, daily_stamp_cap=0, survey_every_days=0, stamp_expiry_days=0, reminder_days=""
)


async def _visit(
    world: World, barista: TelegramUser, customer: TelegramUser, code: str, purchases: int = 1
) -> None:
    prompt = await barista.ask(f"/stamp {code} {purchases}")
    assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
    await customer.next_message()


async def _members(world: World, owner: TelegramUser, barista: TelegramUser) -> dict[str, TelegramUser]:
    """A: active, 8/10. B: last visit 40 days ago. C: joined 40 days ago, never came.
    D: active, holds a reward. E: active but opted out. F: active but blocked the bot."""
    payload = await world.create_shop(rules=RULES)
    await world.hire(owner, barista)
    people = {key: world.user(300 + n, key, "en") for n, key in enumerate("ABCDEF")}
    today = world.clock.now()
    world.clock.set(today - timedelta(days=40))
    await _visit(world, barista, people["B"], await world.join(people["B"], payload), 2)
    await world.join(people["C"], payload)
    world.clock.set(today)
    await _visit(world, barista, people["A"], await world.join(people["A"], payload), 8)
    await _visit(world, barista, people["D"], await world.join(people["D"], payload), 10)
    await people["D"].next_message()  # the reward
    for key in "EF":
        await _visit(world, barista, people[key], await world.join(people[key], payload))
    await people["E"].ask("/stop")
    await world.app.services.delivery.blocked(people["F"].id)
    return people


async def _compose(owner: TelegramUser, text: str) -> SentMessage:
    await owner.ask("/broadcast")
    return await owner.ask(text)


async def _send_to(owner: TelegramUser, segments: SentMessage, segment_label: str) -> SentMessage:
    await owner.press(segments, segment_label)
    await owner.next_message()  # the preview
    confirm = await owner.next_message()
    await owner.press(confirm, "Kirim")
    return confirm


async def test_segment_counts_match_hand_built_data(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    await _members(world, owner, barista)
    segments = await _compose(owner, "Promo kopi susu 2-for-1 hari ini!")
    assert [b["text"] for b in segments.buttons()] == [
        "Semua anggota (4)",
        "Aktif (datang dalam 30 hari terakhir) (2)",
        "Lama tidak datang (30+ hari) (2)",
        "Hampir dapat hadiah (kartu terisi 70%+) (1)",
        "Punya hadiah yang belum dipakai (1)",
        "✖️ Batal",
    ]


async def test_broadcast_reaches_its_segment_once_with_progress_and_summary(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    people = await _members(world, owner, barista)
    segments = await _compose(owner, "Promo <kopi> 2-for-1!")
    await owner.press(segments, "Aktif")
    preview = await owner.next_message()
    assert preview.body == "📣 <b>Kopi Senja</b>\nPromo &lt;kopi&gt; 2-for-1!"  # as customers will see it
    confirm = await owner.next_message()
    assert "Kirim ke 2 pelanggan (Aktif (datang dalam 30 hari terakhir))?" in confirm.body
    await owner.press(confirm, "Kirim")
    assert await owner.until(lambda: "sisa 2" in confirm.body)

    assert "masih dikirim" in (await owner.ask("/broadcast")).body  # one running broadcast per merchant
    assert (await world.deliver()).sent == 2
    for key in "AD":
        assert (await people[key].next_message()).body == "📣 <b>Kopi Senja</b>\nPromo &lt;kopi&gt; 2-for-1!"
    await world.report_progress()
    assert confirm.body == "📣 Pengiriman selesai: terkirim 2 · gagal 0 · sisa 0." and not confirm.buttons()

    # Within 24 hours the same customers are not messaged again.
    segments = await _compose(owner, "Another one")
    assert "Aktif (datang dalam 30 hari terakhir) (0)" in [b["text"] for b in segments.buttons()]
    await owner.press(segments, "Aktif")
    await owner.next_message()
    confirm = await owner.next_message()
    assert (await owner.press(confirm, "Kirim")).text == world.says(
        "id", "Nobody in that group can get a broadcast right now."
    )
    assert all(person.unread() == [] for person in people.values())


async def test_a_broadcast_cancelled_midway(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    payload = await world.create_shop(rules=RULES)
    await world.hire(owner, barista)
    customers = [world.user(500 + n, f"C{n}", "en") for n in range(10)]
    for customer in customers:
        await world.join(customer, payload)
    segments = await _compose(owner, "Flash sale")
    progress = await _send_to(owner, segments, "Semua anggota")

    world.dispatcher.batch_size = 3
    assert (await world.dispatcher.dispatch_once()).sent == 3
    await world.report_progress()
    assert "terkirim 3 · gagal 0 · sisa 7" in progress.body
    assert (await owner.press(progress, "Batalkan pengiriman")).text == world.says(
        "id", "Cancelling: nobody else will get it."
    )
    assert (await world.deliver()).sent == 0
    await world.report_progress()
    assert progress.body == world.says(
        "id",
        "📣 Broadcast cancelled: {counts}; {cancelled} not sent.",
        counts=world.says(
            "id", "sent {sent} · failed {failed} · remaining {remaining}", sent=3, failed=0, remaining=0
        ),
        cancelled=7,
    )
    received = [len([m for m in c.inbox if m.plain.endswith("Flash sale")]) for c in customers]
    assert sorted(received) == [0] * 7 + [1] * 3  # nobody twice, the rest never
    assert (await owner.press(progress, data="bca:stop:1")).text == world.says(
        "id", "This broadcast has already finished."
    )


async def test_photo_broadcast_and_wrong_roles(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    payload = await world.create_shop(rules=RULES)
    await world.hire(owner, barista)
    await world.join(customer, payload)
    assert (await barista.ask("/broadcast")).body == "Only the shop owner can do that."
    assert (await customer.ask("/broadcast")).body == world.says("id", "Only the shop owner can do that.")

    await owner.ask("/broadcast")
    await owner.send_photo(caption="Menu baru!")
    segments = await owner.next_message()
    await owner.press(segments, "Semua anggota")
    preview = await owner.next_message()
    assert preview.photo == b"user-photo-1" and preview.caption == "📣 <b>Kopi Senja</b>\nMenu baru!"
    confirm = await owner.next_message()
    await owner.press(confirm, "Kirim")
    await world.deliver()
    photo = await customer.next_message()
    assert photo.photo == b"user-photo-1" and photo.caption == "📣 <b>Kopi Senja</b>\nMenu baru!"


async def test_progress_is_edited_only_when_what_it_shows_changes(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    """The first tick with nothing sent, and rows moving from pending to sending, would edit the
    owner's message with identical text: Telegram refuses that ("message is not modified")."""
    payload = await world.create_shop(rules=RULES)
    await world.hire(owner, barista)
    for n in range(4):
        await world.join(world.user(500 + n, f"C{n}", "en"), payload)
    progress = await _send_to(owner, await _compose(owner, "Flash sale"), "Semua anggota")
    await owner.until(lambda: progress.edits)  # the confirmation became the progress message
    edits = progress.edits
    assert await world.report_progress() == 0  # nothing sent yet: it shows that already
    claimed = await world.app.services.delivery.claim("stuck-worker", 2)  # two rows move to "sending"
    assert len(claimed) == 2
    assert await world.report_progress() == 0  # still "remaining 4"
    assert progress.edits == edits
    # Two scheduler processes ticking at once: exactly one edits.
    await world.app.services.delivery.postpone([m.id for m in claimed if m.id is not None], 0)
    assert (await world.dispatcher.dispatch_once()).sent == 4
    ticks = await asyncio.gather(
        world.app.services.broadcasts.progress_updates(), world.app.services.broadcasts.progress_updates()
    )
    assert sorted(len(tick) for tick in ticks) == [0, 1]
