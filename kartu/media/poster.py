"""The counter poster: shop name, the QR of the join link, how it works; PNG and print-ready PDFs.

A6 and A5 have (nearly) one aspect ratio, so one drawing at A5 / 300 dpi serves both,
resized to each page's exact pixels; 300 dpi written into the PDF sets the printed size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw
from qrcode.constants import ERROR_CORRECT_M

from kartu.media.text import draw_centered, draw_left, fit, measure

MM_PER_INCH = 25.4
A5_MM = (148, 210)
A6_MM = (105, 148)
DPI = 300
WIDTH, HEIGHT = 1748, 2480  # A5 at 300 dpi
MARGIN = 130
PAPER = (255, 252, 246)
INK = (40, 30, 24)
ACCENT = (196, 98, 45)
MUTED = (110, 92, 80)


@dataclass(frozen=True)
class PosterText:
    """Everything printed on the poster, already in the shop's language."""

    shop_name: str
    headline: str
    steps: tuple[str, ...]
    link: str  # encoded in the QR and printed under it
    footer: str = ""


@dataclass(frozen=True)
class Poster:
    png: bytes  # A6 size at 300 dpi, for the chat
    pdf_a6: bytes
    pdf_a5: bytes


def _qr(link: str, size: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=2)
    code.add_data(link)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return image.resize((size, size), Image.Resampling.NEAREST)


def _wrap(text: str, size: int, width: int) -> list[str]:
    """Greedy word wrap at ``width`` pixels."""
    lines: list[str] = []
    for word in text.split():
        if lines and measure(lines[-1] + " " + word, size) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _draw(text: PosterText) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((40, 40, WIDTH - 40, HEIGHT - 40), radius=60, outline=ACCENT, width=14)
    inner = WIDTH - 2 * MARGIN
    name, size = fit(text.shop_name, 150, inner, bold=True)
    draw_centered(image, (WIDTH // 2, 260), name, size, INK, bold=True)
    headline, size = fit(text.headline, 76, inner)
    draw_centered(image, (WIDTH // 2, 420), headline, size, ACCENT)

    qr_size = 1000
    qr_top = 520
    image.paste(_qr(text.link, qr_size), ((WIDTH - qr_size) // 2, qr_top))
    link, size = fit(text.link.removeprefix("https://"), 44, inner)
    draw_centered(image, (WIDTH // 2, qr_top + qr_size + 50), link, size, MUTED)

    y = qr_top + qr_size + 170
    for number, step in enumerate(text.steps, start=1):
        draw.ellipse((MARGIN, y - 40, MARGIN + 80, y + 40), fill=ACCENT)
        draw_centered(image, (MARGIN + 40, y), str(number), 52, PAPER, bold=True)
        for line in _wrap(step, 58, inner - 130):
            draw_left(image, (MARGIN + 130, y), line, 58, INK)
            y += 80
        y += 50
    if text.footer:
        footer, size = fit(text.footer, 46, inner)
        draw_centered(image, (WIDTH // 2, HEIGHT - 150), footer, size, MUTED)
    return image


@lru_cache(maxsize=32)
def render_poster(text: PosterText) -> Poster:
    """PNG and PDFs of the poster. Pure, so it is cached and safe to run in a thread."""
    image = _draw(text)
    a6 = image.resize(_pixels(A6_MM), Image.Resampling.LANCZOS)  # 0.7% narrower aspect than A5: not visible
    png = io.BytesIO()
    a6.save(png, format="PNG", optimize=True)
    pdfs = []
    for page in (a6, image.resize(_pixels(A5_MM), Image.Resampling.LANCZOS)):
        buffer = io.BytesIO()
        page.save(buffer, format="PDF", resolution=DPI)
        pdfs.append(buffer.getvalue())
    return Poster(png.getvalue(), pdfs[0], pdfs[1])


def _pixels(page_mm: tuple[int, int]) -> tuple[int, int]:
    return round(page_mm[0] / MM_PER_INCH * DPI), round(page_mm[1] / MM_PER_INCH * DPI)
