"""Specifications of the voice receive layer (bot/voice)."""
