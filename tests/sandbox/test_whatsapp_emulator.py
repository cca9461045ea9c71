"""The local WhatsApp Cloud API refuses what Meta refuses, with Meta's codes, as pywa (over Kartu's
transport) sees them: limits of text, buttons and lists, the 24-hour service window, the pace to
one person, unknown media, a wrong token. Its webhook side posts payloads pywa parses, signed with
the app secret."""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from PIL import Image
from pywa import errors
from pywa_async import WhatsApp
from pywa_async.types import Button, Message, MessageStatus, Section, SectionList, SectionRow, URLButton

from kartu.channels.whatsapp.graph import GraphTransport, graph_client
from kartu.config import Settings
from kartu.sandbox.serving import serve_on_free_port
from kartu.sandbox.whatsapp import WINDOW, WhatsAppEmulator, _Bucket


class Clock:
    def __init__(self) -> None:
        self.wall, self.mono = 1_800_000_000.0, 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


@pytest.fixture
async def meta() -> AsyncIterator[tuple[WhatsAppEmulator, Clock]]:
    emulator, clock = WhatsAppEmulator(), Clock()
    emulator.now, emulator.monotonic = (lambda: clock.wall), (lambda: clock.mono)
    await emulator.start()
    try:
        yield emulator, clock
    finally:
        await emulator.stop()


def _client(emulator: WhatsAppEmulator, token: str | None = None) -> WhatsApp:
    values = {**emulator.settings(), "whatsapp_access_token": token or emulator.token}
    return graph_client(Settings(_env_file=None, **values))  # type: ignore[arg-type]


async def test_a_message_goes_inside_the_window_and_waits_for_a_template_outside(
    meta: tuple[WhatsAppEmulator, Clock],
) -> None:
    emulator, clock = meta
    ayu = emulator.user("Ayu", phone="6281234567890")
    wa = _client(emulator)
    with pytest.raises(errors.ReEngagementMessage):  # she never wrote: no window
        await wa.send_message(ayu.bsuid, "Halo")
    ayu.last_inbound = clock.wall
    sent = await wa.send_message(ayu.bsuid, "*Kartu* kamu: 3 dari 10 stempel")
    assert sent.id.startswith("wamid.") and emulator.messages_to(ayu)[0].text.startswith("*Kartu*")
    assert (await wa.send_message(ayu.wa_id or "", "lewat nomor")).id  # by phone too
    clock.advance(WINDOW)
    with pytest.raises(errors.ReEngagementMessage) as late:
        await wa.send_message(ayu.bsuid, "Besok")
    assert late.value.code == 131047
    assert emulator.messages_to(ayu)[-1].text == "lewat nomor"  # nothing else went


async def test_buttons_lists_and_links_within_metas_limits(meta: tuple[WhatsAppEmulator, Clock]) -> None:
    emulator, clock = meta
    ayu = emulator.user("Ayu")
    ayu.last_inbound = clock.wall
    wa = _client(emulator)
    three = [Button("Kartu saya", "card"), Button("Kode saya", "code"), Button("Hadiah", "rewards")]
    assert (await wa.send_message(ayu.bsuid, "Pilih:", buttons=three)).id
    assert emulator.messages_to(ayu)[-1].buttons() == ["Kartu saya", "Kode saya", "Hadiah"]
    for refused in (
        [*three, Button("Bantuan", "help")],  # four buttons
        [Button("x" * 21, "long")],  # a title over 20
        [Button("Sama", "a"), Button("Sama", "b")],  # the same title twice
    ):
        with pytest.raises(errors.InvalidParameter):
            await wa.send_message(ayu.bsuid, "Pilih:", buttons=refused)
    rows = [SectionRow(f"Hadiah {n}", f"item-{n}", description="50 poin") for n in range(10)]
    assert (
        await wa.send_message(ayu.bsuid, "Katalog", buttons=SectionList("Lihat", [Section("Hadiah", rows)]))
    ).id
    for refused_list in (
        SectionList("Lihat", [Section("Hadiah", [*rows, SectionRow("Satu lagi", "item-10")])]),  # 11 rows
        SectionList("Lihat", [Section("Hadiah", [SectionRow("y" * 25, "long")])]),  # a row title over 24
    ):
        with pytest.raises(errors.InvalidParameter):
            await wa.send_message(ayu.bsuid, "Katalog", buttons=refused_list)
    assert (
        await wa.send_message(ayu.bsuid, "Data kamu", buttons=URLButton("Unduh", "https://kartu.example/x"))
    ).id
    with pytest.raises(errors.InvalidParameter):
        await wa.send_message(ayu.bsuid, "<b>Kartu</b> kamu")  # Telegram's HTML: shown as tags
    with pytest.raises(errors.InvalidParameter):
        await wa.send_message(ayu.bsuid, "x" * 4097)


async def test_one_person_is_paced_and_the_pace_comes_back(meta: tuple[WhatsAppEmulator, Clock]) -> None:
    emulator, clock = meta
    ayu = emulator.user("Ayu")
    ayu.last_inbound = clock.wall
    ayu.pace = _Bucket(2, 1 / 6)  # Meta's burst, made small
    wa = _client(emulator)
    await wa.send_message(ayu.bsuid, "Satu")
    await wa.send_message(ayu.bsuid, "Dua")
    with pytest.raises(errors.TooManyMessages) as fast:
        await wa.send_message(ayu.bsuid, "Tiga")
    assert fast.value.code == 131056
    clock.advance(6)
    assert (await wa.send_message(ayu.bsuid, "Tiga")).id


async def test_pictures_go_by_the_media_id_meta_gave(meta: tuple[WhatsAppEmulator, Clock]) -> None:
    emulator, clock = meta
    ayu = emulator.user("Ayu")
    ayu.last_inbound = clock.wall
    wa = _client(emulator)
    png = io.BytesIO()
    Image.new("RGB", (40, 40), "orange").save(png, "PNG")
    sent = await wa.send_image(ayu.bsuid, png.getvalue(), caption="Kartu kamu", mime_type="image/png")
    assert sent.id and emulator.messages_to(ayu)[-1].payload["image"]["id"] in emulator.media
    with pytest.raises(errors.MediaUploadError):
        await wa.send_image(ayu.bsuid, "123456789", caption="Kartu kamu")  # an id Meta never gave


async def test_a_wrong_token_is_refused_and_no_other_host_is_reachable(
    meta: tuple[WhatsAppEmulator, Clock],
) -> None:
    emulator, clock = meta
    ayu = emulator.user("Ayu")
    ayu.last_inbound = clock.wall
    with pytest.raises(errors.ExpiredAccessToken):
        await _client(emulator, token="stolen").send_message(ayu.bsuid, "Halo")
    async with httpx.AsyncClient(transport=GraphTransport(emulator.url)) as session:
        with pytest.raises(httpx.ConnectError):
            await session.get("https://example.com/")


async def test_the_webhook_side_posts_what_pywa_parses_signed_with_the_app_secret(
    meta: tuple[WhatsAppEmulator, Clock],
) -> None:
    emulator, clock = meta
    ayu = emulator.user("Ayu", phone="6281234567890")
    wa = _client(emulator)
    payload = emulator.inbound(ayu, "text", {"body": "GABUNG KOPI-SENJA"})
    message = Message.from_update(wa, payload)
    assert (message.text, message.from_user.bsuid, message.from_user.wa_id, message.from_user.name) == (
        "GABUNG KOPI-SENJA", ayu.bsuid, "6281234567890", "Ayu",
    )  # fmt: skip
    ayu.last_inbound = clock.wall
    await wa.send_message(ayu.bsuid, "Mau gabung?", buttons=[Button("Ya, setuju", "consent:yes")])
    offer = emulator.messages_to(ayu)[-1]
    tap = Message.from_update(
        wa, emulator.inbound(ayu, "interactive", offer.choice("Ya, setuju"), context=offer.id)
    )
    assert tap.reply_to_message is not None and tap.reply_to_message.id == offer.id
    status = MessageStatus.from_update(wa, emulator.status(offer, "delivered"))
    assert status.id == offer.id and status.pricing is not None and not status.pricing.billable
    body = b'{"object":"whatsapp_business_account"}'
    expected = "sha256=" + hmac.new(emulator.app_secret.encode(), body, hashlib.sha256).hexdigest()
    assert emulator.signature(body) == expected


async def test_the_handshake_and_posts_reach_a_webhook_as_meta_sends_them(
    meta: tuple[WhatsAppEmulator, Clock],
) -> None:
    """Against a bare receiver: the GET with hub.* parameters, and posts whose X-Hub-Signature-256
    is the body's HMAC (a forged one too, when a test asks); a customer's message opens the window."""
    emulator, clock = meta
    received: list[tuple[str, bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        if request.method == "GET":
            ok = request.query.get("hub.verify_token") == emulator.verify_token
            return web.Response(
                text=request.query["hub.challenge"] if ok else "no", status=200 if ok else 403
            )
        body = await request.read()
        received.append((request.headers["X-Hub-Signature-256"], body))
        return web.Response(
            status=200 if request.headers["X-Hub-Signature-256"] == emulator.signature(body) else 401
        )

    app = web.Application()
    app.router.add_route("*", "/whatsapp/webhook", hook)
    runner, port = await serve_on_free_port(app)
    emulator.webhook_url = f"http://127.0.0.1:{port}/whatsapp/webhook"
    try:
        assert await emulator.handshake() == (200, "1158201444")
        assert (await emulator.handshake("guess"))[0] == 403
        ayu = emulator.user("Ayu")
        payload = await emulator.write(ayu, "GABUNG KOPI-SENJA")
        assert ayu.last_inbound == clock.wall and emulator.posted == [(200, payload)]
        assert await emulator.post(payload, signature="sha256=" + "0" * 64) == 401
        assert len(received) == 2 and received[0][1] == received[1][1]  # the same bytes, twice
    finally:
        await runner.cleanup()
