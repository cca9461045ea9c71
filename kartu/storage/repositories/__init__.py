"""Repositories: every query Kartu runs, one module per table group (see unit_of_work.py)."""
