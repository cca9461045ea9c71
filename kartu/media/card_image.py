"""The stamp card as a PNG: shop name, a grid of filled and empty stamps, the reward."""

from __future__ import annotations

import importlib.util
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH = 800
PADDING = 48
BACKGROUND = (250, 244, 234)
INK = (60, 42, 33)
ACCENT = (196, 98, 45)
EMPTY = (226, 214, 198)
MAX_PER_ROW = 5


@dataclass(frozen=True)
class CardPicture:
    """Everything drawn on a card; equal pictures render to the same bytes (and are cached)."""

    shop_name: str
    stamps: int
    stamps_required: int
    reward_line: str
    progress_line: str


def _font_file(name: str) -> Path | None:
    """A DejaVu font shipped inside matplotlib (already a dependency), found without importing
    it: wide Unicode coverage for shop names, unlike Pillow's small built-in font."""
    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "mpl-data" / "fonts" / "ttf" / name
        if candidate.exists():
            return candidate
    return None


@lru_cache(maxsize=64)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_file("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int, bold: bool = False) -> tuple[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    """Shrink the font, then shorten with an ellipsis, until ``text`` fits ``width``."""
    while size > 18 and draw.textlength(text, font=_font(size, bold)) > width:
        size -= 2
    font = _font(size, bold)
    if draw.textlength(text, font=font) <= width:
        return text, font
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…", font


@lru_cache(maxsize=512)
def render_card(picture: CardPicture) -> bytes:
    """PNG bytes of the card. Pure and deterministic, so safe to cache and to run in a thread."""
    per_row = min(MAX_PER_ROW, max(picture.stamps_required, 1))
    rows = math.ceil(picture.stamps_required / per_row)
    cell = (WIDTH - 2 * PADDING) // per_row
    radius = int(cell * 0.36)
    top = 150
    height = top + rows * cell + 130
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((8, 8, WIDTH - 8, height - 8), radius=36, outline=ACCENT, width=6)

    name, font = _fit(draw, picture.shop_name, 52, WIDTH - 2 * PADDING, bold=True)
    draw.text((WIDTH / 2, 70), name, font=font, fill=INK, anchor="mm")
    progress, font = _fit(draw, picture.progress_line, 30, WIDTH - 2 * PADDING)
    draw.text((WIDTH / 2, 122), progress, font=font, fill=ACCENT, anchor="mm")

    for index in range(picture.stamps_required):
        row, column = divmod(index, per_row)
        in_row = min(per_row, picture.stamps_required - row * per_row)
        offset = (WIDTH - in_row * cell) / 2
        cx = offset + column * cell + cell / 2
        cy = top + row * cell + cell / 2
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        if index < picture.stamps:
            draw.ellipse(box, fill=ACCENT)
            draw.text((cx, cy), str(index + 1), font=_font(int(radius * 0.9)), fill=BACKGROUND, anchor="mm")
        else:
            draw.ellipse(box, outline=EMPTY, width=6)
            draw.text((cx, cy), str(index + 1), font=_font(int(radius * 0.8)), fill=EMPTY, anchor="mm")

    reward, font = _fit(draw, picture.reward_line, 34, WIDTH - 2 * PADDING)
    draw.text((WIDTH / 2, height - 70), reward, font=font, fill=INK, anchor="mm")

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
