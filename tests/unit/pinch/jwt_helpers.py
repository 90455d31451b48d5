"""Unsigned JWT-shaped strings for session-parsing tests (the client never verifies)."""

from __future__ import annotations

import base64
import json
from typing import Any

# The API reference's sample session token (its exp is 1770867107).
REFERENCE_TOKEN = (
    "eyJhbGciOiJIUzI1NiJ9.eyJuYW1lIjoiQVBJIENsaWVudCIsInZpZGVvIjp7InJvb21Kb2luIjp0cnVlLCJyb29t"
    "IjoiYXBpLTQ0YTcwMTk2IiwiY2FuUHVibGlzaCI6dHJ1ZSwiY2FuU3Vic2NyaWJlIjp0cnVlLCJjYW5QdWJsaXNo"
    "RGF0YSI6dHJ1ZSwiY2FuVXBkYXRlT3duTWV0YWRhdGEiOnRydWV9LCJpc3MiOiJBUEl1TU1wN0J4dGROSDkiLCJl"
    "eHAiOjE3NzA4NjcxMDcsIm5iZiI6MCwic3ViIjoiY2xpZW50LTQ0YTcwMTk2In0.2UpXCF-eLULMBNUvXCqT_oOwV"
    "UmshVvjJVxGVa6FihE"
)
REFERENCE_EXP = 1770867107


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: Any) -> str:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}.c2lnbmF0dXJl"
