"""What people read and tap: texts, pictures and keyboards per audience, built from service views.

Handlers and the scheduler's dispatcher call these; nothing here talks to Telegram or the
database. Every message is filled through `format.html`, which escapes what people typed."""
