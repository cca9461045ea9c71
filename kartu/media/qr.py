"""QR code images of a customer's code, for staff to scan or read off the screen."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M


@lru_cache(maxsize=1024)
def render_qr(text: str) -> bytes:
    """PNG bytes of a QR code for ``text``."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=12, border=3)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer)
    return buffer.getvalue()
