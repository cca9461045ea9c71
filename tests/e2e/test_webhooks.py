"""The owner's /webhooks through the bot: add an address (a bad one is asked again), the secret
shown once, a ping and then a join reach the shop's system signed with it (checked with the Standard
Webhooks library), a new secret (the old one signs for a day too), pause and delete; a webhook failing
for a day is paused and the owner hears it in chat (in Indonesian, the owner's language)."""

from __future__ import annotations

import re

from aiohttp import web
from standardwebhooks.webhooks import Webhook

from kartu.sandbox import TelegramUser
from kartu.sandbox.serving import serve_on_free_port
from tests.e2e.world import World


async def test_an_owner_adds_a_webhook_in_chat_and_it_gets_signed_events(
    world: World, owner: TelegramUser
) -> None:
    got: list[tuple[bytes, str]] = []
    up = True

    async def handle(request: web.Request) -> web.Response:
        got.append((await request.read(), {name.lower(): value for name, value in request.headers.items()}))
        return web.Response(status=200 if up else 500)

    app = web.Application()
    app.router.add_post("/kartu", handle)
    runner, port = await serve_on_free_port(app)
    url = f"http://127.0.0.1:{port}/kartu"
    try:
        join = await world.create_shop()
        screen = await owner.ask("/webhooks")
        assert "Belum ada" in screen.body
        await owner.press(screen, "➕")
        await owner.until(lambda: "https://" in screen.body)  # the screen asks, in place
        assert "diawali https://" in (await owner.ask("<b>not an address</b>")).body
        shown = await owner.ask(url)
        secret = re.search(r"<code>(whsec_[A-Za-z0-9+/=]+)</code>", shown.body)
        assert secret is not None
        await owner.until(lambda: url in screen.body and "aktif" in screen.body)
        listed = screen

        customer = world.user(309, "Rina", "en")
        code = await world.join(customer, join)
        await world.app.services.webhooks.dispatch()
        (ping, ping_headers), (body, headers) = sorted(got, key=lambda sent: b'"ping"' not in sent[0])
        Webhook(secret.group(1)).verify(ping, ping_headers)  # as any Standard Webhooks library checks
        Webhook(secret.group(1)).verify(body, headers)
        assert b'"type":"ping"' in ping and "kartu-signature" not in headers
        assert b'"type":"member.joined"' in body and code.replace("-", "").encode() in body

        await owner.press(listed, "🔑")  # a new secret, in a message of its own; the old one signs a day more
        rotated = await owner.next_message()
        new = re.search(r"<code>(whsec_[A-Za-z0-9+/=]+)</code>", rotated.body)
        assert new is not None and new.group(1) != secret.group(1) and "Standard Webhooks" in rotated.body
        await world.join(world.user(311, "Sari", "en"), join)
        await world.app.services.webhooks.dispatch()
        body, headers = got[-1]
        Webhook(new.group(1)).verify(body, headers)
        Webhook(secret.group(1)).verify(body, headers)  # for a day, the old secret still signs too

        await owner.press(listed, "🔔")  # the screen becomes the endpoint's events, each a toggle
        await owner.until(lambda: "Kabar untuk" in listed.body)
        assert "✅ survey.answered" in str(listed.buttons())
        await owner.press(listed, "survey.answered")
        await owner.until(lambda: "▫️ survey.answered" in str(listed.buttons()))
        assert "✅ member.joined" in str(listed.buttons())
        await owner.press(listed, "⬅️")
        await owner.until(lambda: "aktif" in listed.body)
        await owner.press(listed, "⏸")
        paused = await owner.ask("/webhooks")
        assert "dijeda" in paused.body
        await owner.press(paused, "▶️")
        up = False
        await world.join(world.user(310, "Tono", "en"), join)
        for _ in range(20):
            await world.app.services.webhooks.dispatch()
            world.clock.advance(hours=2)
        await world.deliver()
        alert = await owner.next_message()
        assert "menjeda webhook" in alert.body and url in alert.body
        screen = await owner.ask("/webhooks")
        assert "1 menunggu" in screen.body and "HTTP 500" in screen.body
        await owner.press(screen, "🗑")
        assert "Belum ada" in (await owner.ask("/webhooks")).body
    finally:
        await runner.cleanup()
