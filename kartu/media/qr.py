"""QR code images: a customer's code (with the code and shop written under it) and join links."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathImage

from kartu.media.text import draw_centered, fit

INK = (20, 20, 20)
MUTED = (90, 90, 90)


def _qr_image(text: str) -> Image.Image:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=12, border=3)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


@lru_cache(maxsize=1024)
def render_qr(text: str, caption: str = "", subcaption: str = "") -> bytes:
    """PNG bytes of a QR code for ``text``; ``caption`` (the code, large) and ``subcaption``
    (the shop) are written under it, so a screenshot still says whose code it is."""
    qr = _qr_image(text)
    if not caption:
        buffer = io.BytesIO()
        qr.save(buffer, format="PNG")
        return buffer.getvalue()
    width = max(qr.width, 480)
    extra = 150 if subcaption else 90
    image = Image.new("RGB", (width, qr.height + extra), "white")
    image.paste(qr, ((width - qr.width) // 2, 0))
    line, size = fit(caption, 56, width - 40, bold=True)
    draw_centered(image, (width // 2, qr.height + 10), line, size, INK, bold=True)
    if subcaption:
        line, size = fit(subcaption, 34, width - 40)
        draw_centered(image, (width // 2, qr.height + 80), line, size, MUTED)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def render_qr_svg(text: str) -> str:
    """An SVG of a QR code for ``text`` (a till prints it at any size)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=3, image_factory=SvgPathImage)
    code.add_data(text)
    code.make(fit=True)
    return str(code.make_image().to_string(encoding="unicode"))
