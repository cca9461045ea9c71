"""The Graph API under pywa: pywa addresses graph.facebook.com; Kartu's transport sends those
requests to ``KARTU_WHATSAPP_API_URL`` (Meta itself, or the local emulator in tests and the
sandbox) and refuses any other host, so nothing pywa does can reach elsewhere."""

from __future__ import annotations

import httpx
from pywa_async import WhatsApp

from kartu.config import Settings

GRAPH_HOST = "graph.facebook.com"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class GraphTransport(httpx.AsyncBaseTransport):
    def __init__(self, api_url: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.target = httpx.URL(api_url)
        self.inner = inner or httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != GRAPH_HOST:
            raise httpx.ConnectError(
                f"Kartu's WhatsApp transport goes to the Graph API only, not {request.url.host}"
            )
        request.url = request.url.copy_with(
            scheme=self.target.scheme, host=self.target.host, port=self.target.port
        )
        request.headers["Host"] = self.target.netloc.decode()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def graph_session(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=GraphTransport(settings.whatsapp_api_url), timeout=TIMEOUT)


def graph_client(settings: Settings, session: httpx.AsyncClient | None = None) -> WhatsApp:
    """pywa's client for the deployment's number, sending through Kartu's transport. It serves no
    webhook of its own: Kartu's server receives Meta's posts (channels/whatsapp/webhook.py)."""
    session = session or graph_session(settings)
    return WhatsApp(
        phone_id=settings.whatsapp_phone_number_id,
        token=settings.whatsapp_access_token,
        session=session,
        server=None,
    )
