"""Persistence: SQLModel tables, the database handle, repositories and Alembic migrations.

This package is the only place in Kartu that knows SQL.
"""
