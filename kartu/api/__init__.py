"""The point-of-sale HTTP API (FastAPI): purchases from the till, customers, with keys per shop."""
