"""End-to-end specifications of the wire-level fake Discord with unmodified discord.py."""
