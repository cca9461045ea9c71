"""One package per messenger Kartu speaks besides Telegram: its inbound adapter, its renderer of
screens and its sender with that messenger's limits (Telegram's live in bot/ and handlers/)."""
