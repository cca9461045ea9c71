"""The stamp card as a PNG: shop name, a grid of filled and empty stamps, the reward."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from kartu.media.text import draw_centered, fit

WIDTH = 800
PADDING = 48
BACKGROUND = (250, 244, 234)
INK = (60, 42, 33)
ACCENT = (196, 98, 45)
# Empty stamps must read as places to fill: 3.3:1 against the cream (WCAG's floor for shapes).
EMPTY = (160, 128, 100)
GIFT = (46, 125, 50)
MIN_PER_ROW, MAX_PER_ROW, MAX_ROWS = 5, 10, 5


@dataclass(frozen=True)
class CardPicture:
    """Everything drawn on a card; equal pictures render to the same bytes (and are cached)."""

    shop_name: str
    stamps: int
    stamps_required: int
    reward_line: str
    progress_line: str
    rewards_line: str = ""  # "🎁 2 rewards waiting", drawn when the customer holds rewards
    tier_line: str = ""  # "🏅 Gold · 1.5× points", drawn when the customer holds a level


def grid_of(stamps_required: int) -> tuple[int, int]:
    """Stamps per row and rows: five per row up to 25 stamps, then wider rows, so a long card
    stays a card (at most five rows) instead of a tall strip."""
    required = max(stamps_required, 1)
    per_row = min(max(MIN_PER_ROW, math.ceil(required / MAX_ROWS)), MAX_PER_ROW, required)
    return per_row, math.ceil(required / per_row)


@lru_cache(maxsize=512)
def render_card(picture: CardPicture) -> bytes:
    """PNG bytes of the card. Pure and deterministic, so safe to cache and to run in a thread."""
    per_row, rows = grid_of(picture.stamps_required)
    cell = (WIDTH - 2 * PADDING) // max(per_row, MIN_PER_ROW)
    radius = int(cell * 0.36)
    top = 150
    footer = 130 + (50 if picture.rewards_line else 0) + (50 if picture.tier_line else 0)
    height = top + rows * cell + footer
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((8, 8, WIDTH - 8, height - 8), radius=36, outline=ACCENT, width=6)

    name, size = fit(picture.shop_name, 52, WIDTH - 2 * PADDING, bold=True)
    draw_centered(image, (WIDTH // 2, 70), name, size, INK, bold=True)
    progress, size = fit(picture.progress_line, 30, WIDTH - 2 * PADDING)
    draw_centered(image, (WIDTH // 2, 122), progress, size, ACCENT)

    for index in range(picture.stamps_required):
        row, column = divmod(index, per_row)
        in_row = min(per_row, picture.stamps_required - row * per_row)
        offset = (WIDTH - in_row * cell) / 2
        cx = offset + column * cell + cell / 2
        cy = top + row * cell + cell / 2
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        if index < picture.stamps:
            draw.ellipse(box, fill=ACCENT)
            draw_centered(image, (int(cx), int(cy)), str(index + 1), int(radius * 0.9), BACKGROUND)
        else:
            draw.ellipse(box, outline=EMPTY, width=max(3, radius // 8))
            draw_centered(image, (int(cx), int(cy)), str(index + 1), int(radius * 0.8), EMPTY)

    reward, size = fit(picture.reward_line, 34, WIDTH - 2 * PADDING)
    draw_centered(image, (WIDTH // 2, top + rows * cell + 55), reward, size, INK)
    if picture.rewards_line:
        held, size = fit(picture.rewards_line, 32, WIDTH - 2 * PADDING, bold=True)
        draw_centered(image, (WIDTH // 2, top + rows * cell + 108), held, size, GIFT, bold=True)
    if picture.tier_line:
        level, size = fit(picture.tier_line, 32, WIDTH - 2 * PADDING, bold=True)
        below = 108 + (50 if picture.rewards_line else 0)
        draw_centered(image, (WIDTH // 2, top + rows * cell + below), level, size, ACCENT, bold=True)

    buffer = io.BytesIO()
    # zlib level 6: a tenth larger than optimize=True (29 vs 26 KB) at a quarter of the CPU (10 vs 39 ms).
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
