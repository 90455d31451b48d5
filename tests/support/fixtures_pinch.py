"""pytest fixtures for the pinch fakes (registered by tests/conftest.py)."""
