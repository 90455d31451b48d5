"""Discord voice: receiving members' voices under DAVE, and playback.

Receive flow (see each module's docstring): ``client`` (VoiceClient subclass,
hooks) → ``receiver`` (threads and queues) → ``pipeline`` (``rtp`` parsing,
``transport_crypto``, ``ssrc_map``, ``dave_decrypt``, ``jitter_buffer``,
``decoder``) → ``events`` (PcmFrame, SpeakingEvent, ReceiveStats).

Using it::

    vc = await channel.connect(cls=ReceivingVoiceClient)   # bot.voice.client
    async for item in vc.receiver:                         # ends after disconnect
        if isinstance(item, PcmFrame):                     # 20 ms, 48 kHz stereo s16le
            if not vc.receiver.is_bot(item.member_id):
                route(item.member_id, item.pcm)
        else:                                              # SpeakingEvent
            on_speaking(item.member_id, item.speaking)
    vc.receiver.stats.snapshot()                           # drops by reason, frames
"""
