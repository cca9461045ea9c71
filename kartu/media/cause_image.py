"""A cause's progress as a PNG: its name, a bar filled to what was raised, the amounts, the givers
and the days left."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from kartu.media.card_image import ACCENT, BACKGROUND, EMPTY, GIFT, INK, PADDING, WIDTH
from kartu.media.text import draw_centered, fit

HEIGHT = 420
BAR_TOP, BAR_HEIGHT = 170, 56


@dataclass(frozen=True)
class CausePicture:
    """Everything drawn (equal pictures render to the same bytes, and are cached)."""

    name: str
    shop_line: str  # "Kopi Senja gives"
    share: float  # 0..1 of the target
    amounts_line: str  # "Rp 1.250.000 of Rp 5.000.000"
    people_line: str  # "23 givers · 12 days left"


@lru_cache(maxsize=256)
def render_cause(picture: CausePicture) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((8, 8, WIDTH - 8, HEIGHT - 8), radius=36, outline=GIFT, width=6)
    name, size = fit(picture.name, 50, WIDTH - 2 * PADDING, bold=True)
    draw_centered(image, (WIDTH // 2, 70), name, size, INK, bold=True)
    shop, size = fit(picture.shop_line, 28, WIDTH - 2 * PADDING)
    draw_centered(image, (WIDTH // 2, 122), shop, size, ACCENT)
    left, right = PADDING, WIDTH - PADDING
    box = (left, BAR_TOP, right, BAR_TOP + BAR_HEIGHT)
    draw.rounded_rectangle(box, radius=BAR_HEIGHT // 2, outline=EMPTY, width=4)
    filled = int((right - left) * max(0.0, min(picture.share, 1.0)))
    if filled > BAR_HEIGHT:  # a sliver narrower than the round ends would draw outside them
        draw.rounded_rectangle(
            (left, BAR_TOP, left + filled, BAR_TOP + BAR_HEIGHT), radius=BAR_HEIGHT // 2, fill=GIFT
        )
    percent = f"{int(picture.share * 100)}%"
    draw_centered(image, (WIDTH // 2, BAR_TOP + BAR_HEIGHT // 2), percent, 30, INK, bold=True)
    amounts, size = fit(picture.amounts_line, 36, WIDTH - 2 * PADDING, bold=True)
    draw_centered(image, (WIDTH // 2, 290), amounts, size, INK, bold=True)
    people, size = fit(picture.people_line, 30, WIDTH - 2 * PADDING)
    draw_centered(image, (WIDTH // 2, 346), people, size, ACCENT)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
