"""The API's docs in real Chromium (Debian's `chromium`, driven by Playwright): Swagger UI at
/docs renders every route from Kartu's own files, with no request leaving 127.0.0.1 (a shop's
server often has no way out to a CDN).

Screenshots are saved under ``test-artifacts/api/`` (or ``$KARTU_TEST_ARTIFACTS``)."""

from __future__ import annotations

import pytest

from tests.browser import CHROMIUM, artifacts, needs_chromium

playwright = pytest.importorskip("playwright.async_api")
pytestmark = needs_chromium


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_docs_render_every_route_without_a_cdn(api_url: str) -> None:
    shots = artifacts("api")
    outside: list[str] = []
    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.on(
                "request",
                lambda request: (
                    outside.append(request.url)
                    if not request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                    else None
                ),
            )
            await page.goto(f"{api_url}/docs")
            await page.wait_for_selector(".opblock-summary-path", timeout=15_000)
            paths = await page.locator(".opblock-summary-path").all_inner_texts()
            assert {"/v1/purchases", "/v1/purchases/{purchase_id}/refund", "/v1/webhooks"} <= {
                path.replace("\u200b", "").strip() for path in paths
            }
            assert "Kartu point-of-sale API" in await page.inner_text(".info")
            await page.screenshot(path=str(shots / "01-docs.png"), full_page=True)
            await page.click(".opblock-summary-path[data-path='/v1/purchases']")  # the sale's operation
            await page.wait_for_selector("text=Idempotency-Key", timeout=5_000)
            await page.screenshot(path=str(shots / "02-docs-purchase.png"))
        finally:
            await browser.close()
    assert outside == []
