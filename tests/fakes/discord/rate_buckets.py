"""Discord-style rate-limit buckets for the fake's REST API.

``RestApi.rate_limit`` answers the *next N* requests with 429; a bucket instead
behaves like Discord under load: at most ``limit`` requests per ``per`` seconds
for each distinct path the pattern matches (one webhook, one channel), a 429
with the time left in the window beyond that, and ``X-RateLimit-*`` headers on
every answer, so discord.py also waits on its own when a bucket is exhausted.

    bucket = fake.rest.bucket_limit("POST", r"^/webhooks/\\d+/[^/]+$", limit=5, per=1.0)
    ...
    assert bucket.limited > 0          # the bot did hit the limit
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Window:
    reset_at: float
    used: int = 0


@dataclass(frozen=True, slots=True)
class BucketVerdict:
    limited: bool
    limit: int
    remaining: int
    reset_after: float
    bucket: str

    def headers(self) -> dict[str, str]:
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": f"{time.time() + self.reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{self.reset_after:.3f}",
            "X-RateLimit-Bucket": self.bucket,
        }
        if self.limited:
            out.update({"Retry-After": str(max(1, round(self.reset_after))),
                        "X-RateLimit-Scope": "user",
                        # discord.py treats a 429 without Via as a Cloudflare ban.
                        "Via": "1.1 google"})
        return out

    def body(self) -> dict[str, Any]:
        return {"message": "You are being rate limited.", "retry_after": self.reset_after,
                "global": False, "code": 0}


@dataclass
class BucketLimit:
    """At most ``limit`` matching requests per ``per`` seconds, per matched path."""

    method: str
    path: re.Pattern[str]
    limit: int
    per: float
    passed: int = 0
    limited: int = 0
    _windows: dict[str, _Window] = field(default_factory=dict)

    def admit(self, method: str, path: str, now: float) -> BucketVerdict | None:
        """``None`` if the request is not in this bucket, else whether it may pass."""
        match = self.path.search(path) if method == self.method else None
        if match is None:
            return None
        key = match.group(0)
        window = self._windows.get(key)
        if window is None or now >= window.reset_at:
            window = self._windows[key] = _Window(reset_at=now + self.per)
        bucket = f"fake-bucket-{abs(hash((self.method, self.path.pattern, key))) % 10**8:08d}"
        reset_after = max(0.001, window.reset_at - now)
        if window.used >= self.limit:
            self.limited += 1
            return BucketVerdict(True, self.limit, 0, reset_after, bucket)
        window.used += 1
        self.passed += 1
        return BucketVerdict(False, self.limit, self.limit - window.used, reset_after, bucket)


class Buckets:
    def __init__(self) -> None:
        self.limits: list[BucketLimit] = []

    def add(self, method: str, path_regex: str, limit: int, per: float) -> BucketLimit:
        bucket = BucketLimit(method.upper(), re.compile(path_regex), limit, per)
        self.limits.append(bucket)
        return bucket

    def admit(self, method: str, path: str) -> BucketVerdict | None:
        """The first bucket's verdict on this request (``None``: not rate limited)."""
        now = time.monotonic()
        for bucket in self.limits:
            verdict = bucket.admit(method, path, now)
            if verdict is not None:
                return verdict
        return None
