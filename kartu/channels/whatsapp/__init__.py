"""WhatsApp, over Meta's Cloud API: pywa parses and sends, over a transport Kartu controls."""
