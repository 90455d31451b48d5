"""interpret-bot: live interpretation of Discord voice channels through Pinch.

The package is split by role in the audio flow (see docs/architecture.md):
``voice`` receives members' audio from Discord, ``pinch`` talks to the translation
API, ``interpretation`` joins the two through LiveKit rooms, and ``settings`` /
``log_redaction`` hold the process-wide configuration.
"""

__version__ = "0.1.0"
