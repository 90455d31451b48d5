"""discord.py extensions: thin adapters from slash commands to ``bot`` services."""
