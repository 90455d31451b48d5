"""LiveKit access tokens the simulator mints: the client's (as Pinch hands out) and the agent's."""

from __future__ import annotations

import datetime

from livekit import api

AGENT_IDENTITY = "translation-agent"
CLIENT_NAME = "API Client"


def client_token(
    api_key: str, api_secret: str, room_name: str, identity: str, ttl: datetime.timedelta
) -> str:
    """The grants of the API reference's sample JWT, for ``room_name``; ``ttl`` may be negative."""
    grants = api.VideoGrants(
        room_join=True,
        room=room_name,
        can_publish=True,
        can_subscribe=True,
        can_publish_data=True,
        can_update_own_metadata=True,
    )
    return (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(CLIENT_NAME)
        .with_ttl(ttl)
        .with_grants(grants)
        .to_jwt()
    )


def agent_token(api_key: str, api_secret: str, room_name: str) -> str:
    grants = api.VideoGrants(
        room_join=True,
        room=room_name,
        can_publish=True,
        can_subscribe=True,
        can_publish_data=True,
    )
    return (
        api.AccessToken(api_key, api_secret)
        .with_identity(AGENT_IDENTITY)
        .with_name("Pinch interpreter")
        .with_kind("agent")
        .with_ttl(datetime.timedelta(hours=2))
        .with_grants(grants)
        .to_jwt()
    )
