"""pytest fixtures for the discord fakes (registered by tests/conftest.py)."""
