"""Pictures Kartu sends: stamp cards and QR codes (Pillow, rendered off the event loop)."""
