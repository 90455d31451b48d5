"""Pure audio building blocks (numpy, vectorised): frame geometry, downmix, streaming
resampling into fixed frames, mixing with ducking, levels and the voice gate, and the
bounded sample ring behind playback's jitter buffers.

Modules: ``frames`` (constants, bytes⇄int16), ``downmix``, ``rechunk``
(``FrameChunker``), ``resample`` (``StreamResampler``), ``mix`` (``mix``, ``Ducker``),
``levels`` (``rms``, ``dbfs``, ``VoiceGate``), ``ring`` (``SampleRing``).
Nothing here does I/O or starts threads; none of the classes is thread-safe.
"""
