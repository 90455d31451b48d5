"""A fake of Discord's voice-server side of DAVE (MLS external sender), for offline tests.

`DaveVoiceGroup` is the sans-I/O server model (one voice channel); `LocalDaveGroup`
drives real `davey.DaveSession` members against it in-process; `clients` are the fake
Discord's members' DAVE clients, on davey or on libdave (`dave-py`).
"""

from tests.fakes.dave.external_sender import ExternalSender
from tests.fakes.dave.framing import DaveOp, Outgoing
from tests.fakes.dave.local_group import LocalDaveGroup
from tests.fakes.dave.voice_group import DaveVoiceGroup

__all__ = ["DaveOp", "DaveVoiceGroup", "ExternalSender", "LocalDaveGroup", "Outgoing"]
