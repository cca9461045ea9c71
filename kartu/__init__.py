"""Kartu: loyalty cards that live inside Telegram."""

__version__ = "0.1.0"
