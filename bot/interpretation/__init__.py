"""The engine: interpreter links (one Pinch session each), speaker routing, channel runs."""
