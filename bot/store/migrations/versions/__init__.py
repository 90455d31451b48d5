"""Alembic revision files, oldest first by ``down_revision``."""
