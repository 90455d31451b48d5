"""Alembic migrations of the store, shipped inside the package (applied at start)."""
