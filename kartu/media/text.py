"""Text on pictures: DejaVu for letters, the system's colour emoji font for emoji.

Shop names carry emoji ("Kopi Senja ☕🍩"). DejaVu has no glyph for most of them and would
draw a box, so each character is drawn with the first font that has it: DejaVu (shipped inside
matplotlib, already a dependency), then Noto Color Emoji when the machine has it (Debian's
``fonts-noto-color-emoji``). A character neither font has is left out rather than boxed.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

EMOJI_FONT_PATHS = (
    Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/google-noto-emoji/NotoColorEmoji.ttf"),
    Path("/System/Library/Fonts/Apple Color Emoji.ttc"),
)
EMOJI_BITMAP_SIZE = 109  # the one size Noto Color Emoji's bitmaps come in
INVISIBLE = {0xFE0E, 0xFE0F, 0x200D}  # variation selectors and joiners: no glyph of their own
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=4)
def _dejavu_file(name: str) -> Path | None:
    """A DejaVu font inside matplotlib, found without importing it."""
    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "mpl-data" / "fonts" / "ttf" / name
        if candidate.exists():
            return candidate
    return None


def _text_file(bold: bool) -> Path | None:
    return _dejavu_file("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")


@lru_cache(maxsize=4)
def _covered(path: Path | None) -> frozenset[int]:
    if path is None:
        return frozenset(range(32, 127))
    with TTFont(str(path), fontNumber=0, lazy=True) as font:
        return frozenset(font.getBestCmap())


@lru_cache(maxsize=1)
def emoji_font_file() -> Path | None:
    return next((path for path in EMOJI_FONT_PATHS if path.exists()), None)


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> Font:
    path = _text_file(bold)
    return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size=size)


@lru_cache(maxsize=256)
def _emoji(character: str, size: int) -> Image.Image | None:
    """One emoji as an RGBA image ``size`` pixels tall, or ``None`` without an emoji font."""
    path = emoji_font_file()
    if path is None or ord(character[0]) not in _covered(path):
        return None
    try:
        emoji_font = ImageFont.truetype(str(path), EMOJI_BITMAP_SIZE)
    except OSError:
        return None
    canvas = Image.new("RGBA", (EMOJI_BITMAP_SIZE * 2, EMOJI_BITMAP_SIZE * 2), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((0, 0), character, font=emoji_font, embedded_color=True)
    box = canvas.getbbox()
    if box is None:
        return None
    glyph = canvas.crop(box)
    return glyph.resize((max(1, round(glyph.width * size / glyph.height)), size), Image.Resampling.LANCZOS)


def _prefers_emoji(point: int) -> bool:
    """Symbols that people type as emoji (☕ ⭐ ✂) are drawn in colour when the emoji font has them."""
    return (0x2600 <= point <= 0x27BF or 0x2B00 <= point <= 0x2BFF or point >= 0x1F000) and _emoji(
        chr(point), 24
    ) is not None


def _runs(text: str, size: int, bold: bool) -> list[tuple[str, bool]]:
    """The text cut into (piece, is_emoji) runs; characters no font can draw are dropped."""
    letters = _covered(_text_file(bold))
    runs: list[tuple[str, bool]] = []
    for character in text:
        point = ord(character)
        if point in INVISIBLE:
            continue
        if point in letters and not _prefers_emoji(point):
            if runs and not runs[-1][1]:
                runs[-1] = (runs[-1][0] + character, False)
            else:
                runs.append((character, False))
        elif _emoji(character, size) is not None:
            runs.append((character, True))
    return runs


def _emoji_size(size: int) -> int:
    return round(size * 0.95)


def measure(text: str, size: int, bold: bool = False) -> int:
    """Width in pixels of ``text`` drawn at ``size``."""
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    width = 0.0
    for piece, is_emoji in _runs(text, size, bold):
        if is_emoji:
            glyph = _emoji(piece, _emoji_size(size))
            width += (glyph.width if glyph else 0) + size * 0.08
        else:
            width += probe.textlength(piece, font=font(size, bold))
    return round(width)


def fit(text: str, size: int, width: int, bold: bool = False) -> tuple[str, int]:
    """Shrink the font, then shorten with an ellipsis, until ``text`` fits ``width``."""
    while size > 18 and measure(text, size, bold) > width:
        size -= 2
    if measure(text, size, bold) <= width:
        return text, size
    while text and measure(text + "…", size, bold) > width:
        text = text[:-1]
    return text + "…", size


def draw_centered(
    image: Image.Image,
    center: tuple[int, int],
    text: str,
    size: int,
    fill: tuple[int, int, int],
    bold: bool = False,
) -> None:
    """Draw ``text`` centred on ``center``, emoji in colour."""
    draw_left(image, (round(center[0] - measure(text, size, bold) / 2), center[1]), text, size, fill, bold)


def draw_left(
    image: Image.Image,
    start: tuple[int, int],
    text: str,
    size: int,
    fill: tuple[int, int, int],
    bold: bool = False,
) -> None:
    """Draw ``text`` from ``start`` (its left end, vertically centred), emoji in colour."""
    draw = ImageDraw.Draw(image)
    x: float = start[0]
    y = start[1]
    for piece, is_emoji in _runs(text, size, bold):
        if is_emoji:
            glyph = _emoji(piece, _emoji_size(size))
            if glyph is not None:
                image.paste(glyph, (round(x), round(y - glyph.height / 2)), glyph)
                x += glyph.width + size * 0.08
        else:
            draw.text((x, y), piece, font=font(size, bold), fill=fill, anchor="lm")
            x += draw.textlength(piece, font=font(size, bold))
