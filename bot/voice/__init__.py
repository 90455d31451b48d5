"""Discord voice: receiving members' voices under DAVE, and playback.

Receive flow (see each module's docstring): ``client`` (VoiceClient subclass,
hooks) → ``receiver`` (threads and queues) → ``pipeline`` (``rtp`` parsing,
``transport_crypto``, ``ssrc_map``, ``dave_decrypt``, ``jitter_buffer``,
``decoder``) → ``events`` (PcmFrame, SpeakingEvent, ReceiveStats).
"""
