"""The wheel as an animated GIF: slices sized by their odds, turning fast then slowing, stopping
with the slice the server already drew under the pointer (the outcome is decided before this is
drawn; the picture only shows it)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from kartu.media.card_image import ACCENT, BACKGROUND, INK
from kartu.media.text import fit, font

SIZE = 320
RADIUS = 140
FRAMES = 24
TURNS = 3
SLICE_COLOURS = ((196, 98, 45), (46, 125, 50), (232, 170, 66), (70, 110, 170), (150, 70, 120), (90, 150, 140))
REST_COLOUR = (200, 190, 175)


@dataclass(frozen=True)
class WheelPicture:
    slices: tuple[tuple[str, int], ...]  # label, share of the wheel (any unit; the last may be the rest)
    landed: int  # the slice it stops on
    rest_last: bool = True  # the last slice is the unnamed rest ("try again"), drawn grey


def _face(picture: WheelPicture) -> Image.Image:
    """The wheel standing still, slice 0 starting at 12 o'clock and going clockwise."""
    face = Image.new("RGBA", (2 * RADIUS, 2 * RADIUS), (0, 0, 0, 0))
    draw = ImageDraw.Draw(face)
    total = sum(max(share, 0) for _, share in picture.slices) or 1
    start = -90.0
    for index, (label, share) in enumerate(picture.slices):
        sweep = 360.0 * max(share, 0) / total
        if sweep <= 0:
            continue
        rest = picture.rest_last and index == len(picture.slices) - 1
        colour = REST_COLOUR if rest else SLICE_COLOURS[index % len(SLICE_COLOURS)]
        draw.pieslice(
            (0, 0, 2 * RADIUS - 1, 2 * RADIUS - 1),
            start,
            start + sweep,
            fill=colour,
            outline=BACKGROUND,
            width=3,
        )
        if sweep >= 18 and label:
            middle = math.radians(start + sweep / 2)
            text, size = fit(label, 18, int(RADIUS * 0.8), bold=True)
            label_image = Image.new("RGBA", (int(RADIUS * 0.82), 28), (0, 0, 0, 0))
            ImageDraw.Draw(label_image).text((0, 14), text, font=font(size, True), fill=INK, anchor="lm")
            turned = label_image.rotate(-math.degrees(middle), expand=True, resample=Image.Resampling.BICUBIC)
            cx = RADIUS + math.cos(middle) * RADIUS * 0.6
            cy = RADIUS + math.sin(middle) * RADIUS * 0.6
            face.alpha_composite(turned, (int(cx - turned.width / 2), int(cy - turned.height / 2)))
        start += sweep
    return face


def _landing_angle(picture: WheelPicture) -> float:
    """How far (degrees, clockwise) the face turns so the landed slice's middle is at the top."""
    total = sum(max(share, 0) for _, share in picture.slices) or 1
    before = sum(max(share, 0) for _, share in picture.slices[: picture.landed])
    middle = 360.0 * (before + max(picture.slices[picture.landed][1], 0) / 2) / total
    return (360.0 - middle) % 360.0


@lru_cache(maxsize=64)
def render_wheel(picture: WheelPicture) -> bytes:
    face = _face(picture)
    final = TURNS * 360.0 + _landing_angle(picture)
    frames, durations = [], []
    for number in range(FRAMES):
        progress = number / (FRAMES - 1)
        angle = final * (1 - (1 - progress) ** 3)  # fast, then slowing to a stop
        frame = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
        turned = face.rotate(-angle, resample=Image.Resampling.BICUBIC)
        offset = (SIZE - 2 * RADIUS) // 2 + 12
        frame.paste(turned, (offset - 12, offset), turned)
        draw = ImageDraw.Draw(frame)
        centre = SIZE // 2
        draw.ellipse((centre - 18, offset + RADIUS - 18, centre + 18, offset + RADIUS + 18), fill=INK)
        draw.polygon([(centre - 16, 4), (centre + 16, 4), (centre, offset + 26)], fill=ACCENT, outline=INK)
        frames.append(frame.convert("P", palette=Image.Palette.ADAPTIVE, colors=32))
        durations.append(60 if number < FRAMES - 1 else 60_000)  # the last frame stays
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=0,
        optimize=True,
    )
    return buffer.getvalue()
