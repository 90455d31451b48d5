"""The REST half of the fake: ``https://discord.com/api/v10/...`` routes.

Each request is authenticated (bot routes), matched against the route tables of the
resources (``rest_application``, ``rest_interactions``, ``rest_guild``), recorded as
a :class:`RestCall` and optionally rate limited (429 with ``retry_after`` and the
headers discord.py reads). The resources validate like the real API and apply the
request to the :class:`World`; what the bot would see on the gateway
(MESSAGE_CREATE, THREAD_CREATE, ...) goes through the ``dispatch`` callback.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes.discord.model import RestCall
from tests.fakes.discord.rate_buckets import BucketLimit, Buckets
from tests.fakes.discord.rest_application import ApplicationRoutes
from tests.fakes.discord.rest_base import Dispatch, Handler, Request
from tests.fakes.discord.rest_guild import GuildRoutes
from tests.fakes.discord.rest_interactions import InteractionRoutes
from tests.fakes.discord.validation import ApiError, unauthorized
from tests.fakes.discord.world import World

API_PREFIX = "/api/v10"


@dataclass
class RateLimitRule:
    """Answer the next ``times`` matching requests with 429."""

    method: str
    path: re.Pattern[str]
    times: int
    retry_after: float
    is_global: bool = False
    hits: int = 0


@dataclass
class SlowAnswerRule:
    """Answer the next ``times`` matching requests ``seconds`` late: the request has
    taken effect (a message exists, the gateway told) while its answer is on the way."""

    method: str
    path: re.Pattern[str]
    times: int
    seconds: float
    hits: int = 0


class RestApi:
    """Routing, authentication, rate limits and recording in front of the resources."""

    def __init__(self, world: World, dispatch: Dispatch) -> None:
        self.world = world
        self._rate_limits: list[RateLimitRule] = []
        self._slow_answers: list[SlowAnswerRule] = []
        self.buckets = Buckets()
        self.rate_limited = 0
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        for resource in (ApplicationRoutes(world, dispatch), InteractionRoutes(world, dispatch),
                         GuildRoutes(world, dispatch)):
            for method, pattern, handler, auth in resource.routes():
                self._routes.append((method, re.compile(f"^{pattern}$"), handler, auth))

    # -- knobs ------------------------------------------------------------

    def rate_limit(self, method: str, path_regex: str, *, times: int = 1,
                   retry_after: float = 0.05, is_global: bool = False) -> RateLimitRule:
        """Make the next ``times`` requests matching ``path_regex`` (API path
        without the ``/api/v10`` prefix) answer 429."""
        rule = RateLimitRule(method.upper(), re.compile(path_regex), times, retry_after,
                             is_global)
        self._rate_limits.append(rule)
        return rule

    def answer_late(self, method: str, path_regex: str, *, seconds: float,
                    times: int = 1) -> SlowAnswerRule:
        """Make the next ``times`` successful requests matching ``path_regex`` answer
        ``seconds`` after they took effect (a slow network, a busy Discord)."""
        rule = SlowAnswerRule(method.upper(), re.compile(path_regex), times, seconds)
        self._slow_answers.append(rule)
        return rule

    def bucket_limit(self, method: str, path_regex: str, *, limit: int = 5,
                     per: float = 1.0) -> BucketLimit:
        """Like Discord under load: at most ``limit`` matching requests per ``per``
        seconds for each distinct matched path; 429s beyond (see ``rate_buckets``)."""
        return self.buckets.add(method, path_regex, limit, per)

    # -- plumbing ---------------------------------------------------------

    def install(self, app: web.Application) -> None:
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        req = Request(
            method=request.method,
            path=path,
            query=dict(request.query),
            body=None,
            headers=dict(request.headers),
        )
        status: int
        body: Any
        headers: dict[str, str] = {}
        try:
            req.body, req.files = await _read_body(request)
            verdict = self.buckets.admit(req.method, path)
            if verdict is not None:
                headers = verdict.headers()
            if verdict is not None and verdict.limited:
                self.rate_limited += 1
                status, body = 429, verdict.body()
            else:
                status, body = await self._route(req)
                await self._answer_late(req)
        except ApiError as err:
            status, body = err.status, err.body()
        except _RateLimited as rl:
            status, body, headers = 429, rl.body(), rl.headers()
        self.world.rest_calls.append(
            RestCall(req.method, path, req.query, req.body, status, time.monotonic()))
        if status == 204 or body is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        return web.Response(status=status, body=json.dumps(body).encode(),
                            content_type="application/json", headers=headers)

    async def _route(self, req: Request) -> tuple[int, Any]:
        for method, pattern, handler, auth in self._routes:
            match = pattern.match(req.path)
            if match is None or method != req.method:
                continue
            if auth and req.headers.get("Authorization") != f"Bot {self.world.bot_token}":
                raise unauthorized()
            self._check_rate_limit(req)
            return await handler(req, *match.groups())
        raise ApiError(404, 0, "404: Not Found")

    async def _answer_late(self, req: Request) -> None:
        for rule in self._slow_answers:
            if rule.method == req.method and rule.path.search(req.path) and rule.hits < rule.times:
                rule.hits += 1
                await asyncio.sleep(rule.seconds)
                return

    def _check_rate_limit(self, req: Request) -> None:
        for rule in self._rate_limits:
            if rule.method == req.method and rule.path.search(req.path) and rule.hits < rule.times:
                rule.hits += 1
                self.rate_limited += 1
                raise _RateLimited(rule)


class _RateLimited(Exception):
    def __init__(self, rule: RateLimitRule) -> None:
        super().__init__("rate limited")
        self.rule = rule

    def body(self) -> dict[str, Any]:
        return {"message": "You are being rate limited.", "retry_after": self.rule.retry_after,
                "global": self.rule.is_global, "code": 0}

    def headers(self) -> dict[str, str]:
        after = f"{self.rule.retry_after:.3f}"
        out = {
            "Retry-After": str(max(1, round(self.rule.retry_after))),
            "X-RateLimit-Scope": "global" if self.rule.is_global else "user",
            # discord.py treats a 429 without Via as a Cloudflare ban.
            "Via": "1.1 google",
        }
        if self.rule.is_global:
            out["X-RateLimit-Global"] = "true"
        else:
            out.update({
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + self.rule.retry_after:.3f}",
                "X-RateLimit-Reset-After": after,
                "X-RateLimit-Bucket": f"fake-{abs(hash(self.rule.path.pattern)) % 10**8:08d}",
            })
        return out


async def _read_body(request: web.Request) -> tuple[Any, dict[str, bytes]]:
    """JSON body, or multipart's ``payload_json`` plus the files by part name."""
    if not request.can_read_body:
        return None, {}
    ctype = request.content_type
    if ctype == "multipart/form-data":
        try:
            return await _read_multipart(request)
        except ValueError:  # bad JSON, bad text encoding, a broken multipart body
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
    raw = await request.read()
    if not raw:
        return None, {}
    try:
        return json.loads(raw), {}
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None


async def _read_multipart(request: web.Request) -> tuple[Any, dict[str, bytes]]:
    body: Any = None
    files: dict[str, bytes] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "payload_json":
            body = json.loads(await part.text())
        else:
            files[part.name or f"files[{len(files)}]"] = bytes(await part.read())
    return body, files
