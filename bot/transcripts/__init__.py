"""The transcript thread: what was said, by whom, in both languages, in order, never lost.

- :mod:`~bot.transcripts.service`: one writer per running voice channel (the bot owns it);
- :mod:`~bot.transcripts.writer`: a run's writer (pairing, ordered queue, retries, flush);
- :mod:`~bot.transcripts.pairing`: originals ↔ translations, released in order (pure);
- :mod:`~bot.transcripts.post_queue`: the never-dropping, merging post queue (pure);
- :mod:`~bot.transcripts.render` / :mod:`~bot.transcripts.text`: layout and safe text (pure);
- :mod:`~bot.transcripts.captions`: live captions, throttled (pure);
- :mod:`~bot.transcripts.threads`, :mod:`~bot.transcripts.poster`,
  :mod:`~bot.transcripts.speakers`: the thread, posting as the speaker, member names;
- :mod:`~bot.transcripts.storing`: the store worker (bounded, off the post path);
- :mod:`~bot.transcripts.records`, :mod:`~bot.transcripts.export`,
  :mod:`~bot.transcripts.commands`: stored segments, txt/srt/vtt export, command handlers.
"""

from bot.transcripts.service import TranscriptRun, TranscriptService
from bot.transcripts.writer import TranscriptWriter, WriterConfig

__all__ = ["TranscriptRun", "TranscriptService", "TranscriptWriter", "WriterConfig"]
