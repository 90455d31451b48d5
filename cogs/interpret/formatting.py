"""What the /interpret commands say: pure functions from data to message text.

Every text here is sent with ``allowed_mentions`` none, so channel and member
mentions render as links and never ping.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord

from bot.interpretation.link import LinkState
from bot.interpretation.snapshot import RunSnapshot
from bot.languages import SUPPORTED
from bot.service.captions import describe
from bot.service.runs import Run, RunSummary
from bot.store import Effective, Source, StoredPreference
from bot.transcripts.service import RunLosses

#: What the member reads privately when the answer itself is for the whole channel.
DONE_PUBLICLY = "Done; my answer is below, for the whole channel to see."

#: Settings as /interpret config names them, in display order.
SETTING_LABELS: dict[str, str] = {
    "target_language": "target",
    "source_language": "source",
    "voice": "voice",
    "mode": "mode",
    "transcript_channel_id": "transcript_channel",
    "play_audio": "play_audio",
    "post_transcripts": "post_transcripts",
    "live_captions": "live_captions",
    "idle_leave_s": "idle_leave_seconds",
    "max_run_minutes": "max_run_minutes",
    "max_speakers": "max_speakers",
    "caption_languages": "caption_languages",
    "max_caption_languages": "max_caption_languages",
    "manager_role_id": "manager_role",
    "retention_days": "retention_days",
    "context": "context",
}


def language(code: str | None) -> str:
    if code is None:
        return "not set"
    return f"{SUPPORTED.get(code, code)} (`{code}`)"


def duration(seconds: float) -> str:
    seconds = round(seconds)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def value(name: str, raw: Any) -> str:
    if raw is None:
        return {"transcript_channel_id": "the channel where `start` is run",
                "manager_role_id": "none (Manage Channels only)",
                "caption_languages": "none (members choose theirs with "
                                     "`/interpret me captions:`)",
                "target_language": "not set"}.get(name, "not set")
    if name == "caption_languages":
        return ", ".join(language(code) for code in str(raw).split(","))
    if name == "max_caption_languages":
        return (f"{raw} (each a text-only session per speaker)" if raw
                else "0 (captions off)")
    if name in ("target_language", "source_language"):
        return language(raw)
    if name == "transcript_channel_id":
        return f"<#{raw}>"
    if name == "manager_role_id":
        return f"<@&{raw}>"
    if isinstance(raw, bool):
        return "on" if raw else "off"
    if name == "max_run_minutes" and raw == 0:
        return "no limit"
    if name == "context":
        text = str(raw)
        shown = discord.utils.escape_markdown(text[:60]) + ("…" if len(text) > 60 else "")
        return f"“{shown}” ({len(text)} characters; sent with WebSocket sessions)"
    return str(raw)


def config_view(effective: Effective, *, where: str, server_only: bool) -> str:
    lines = [f"**Interpretation settings for {where}** (value — where it comes from):"]
    for name, label in SETTING_LABELS.items():
        if name == "retention_days" and not server_only:
            continue  # a server setting: shown with scope:server
        source = effective.source(name)
        origin = "built-in default" if source is Source.DEFAULT else source.value
        lines.append(f"• `{label}`: {value(name, effective[name])} — {origin}")
    lines.append("Change with `/interpret config <option>:<value>`; `clear:<option>` unsets "
                 "one, `reset:True` forgets every setting of this scope.")
    return "\n".join(lines)


def started(active: Run, *, humans: int) -> str:
    config = active.config
    voice = config.voice_type
    mode = (f"pair ({config.source_language} ↔ {config.target_language})"
            if config.pair is not None else config.router.mode.value)
    transcripts = f"<#{active.transcript_channel_id}>" if active.post_transcripts else "off"
    lines = [
        f"Interpreting {active.voice_channel.mention} into {language(config.target_language)}, "
        f"from {language(config.source_language)} (members may set their own with "
        "`/interpret me language:`).",
        f"Mode: {mode} · voice: {voice} · translated speech "
        f"{'played in the channel' if config.play_audio else 'not played'}.",
        f"Transcripts: {transcripts}.",
        f"I leave after {active.effective['idle_leave_s']} s without anyone in the channel"
        + (f", and after {active.effective['max_run_minutes']} min at most."
           if active.effective["max_run_minutes"] else "."),
    ]
    if humans == 0:
        lines.append("Nobody is in the channel yet.")
    return "\n".join(lines)


def consent_notice(active: Run) -> str:
    target = language(active.config.target_language)
    where = (f"and posted as text in <#{active.transcript_channel_id}>"
             if active.post_transcripts else "and not stored as text")
    captions = (" (and into the caption languages members here read, each in a thread of "
                "its own)" if active.post_transcripts and active.config.max_caption_languages
                else "")
    return (
        "🔴 **Live interpretation is on in this channel.** What you say here is sent to "
        f"Pinch (startpinch.com) to be translated into {target}{captions}; the "
        f"translation is played here {where}. "
        "To keep your voice out of it, use `/interpret me opt_out:True`: your audio then "
        "never leaves the bot."
    )


def status(snap: RunSnapshot, active: Run | None, outage: RunLosses | None = None) -> str:
    """``outage``: the database is unavailable (what the run has waiting and lost)."""
    mode = snap.mode.value
    lines = [
        f"Interpreting <#{snap.channel_id}> for {duration(snap.running_s)}"
        + (f" (limit {active.effective['max_run_minutes']} min)"
           if active is not None and active.effective["max_run_minutes"] else "") + ".",
        f"{language(snap.source_language)} → {language(snap.target_language)} · "
        f"mode {mode} · voice {snap.voice_type}.",
        f"Through Pinch's {_TRANSPORTS.get(snap.transport, snap.transport)} API · "
        f"translated speech {'played' if snap.play_audio else 'not played (text only)'}.",
    ]
    if snap.links:
        sessions = [f"{_who(link.member_id)}: {_state(link.state)}"
                    + (" (behind: dropping audio)" if link.behind else "")
                    for link in snap.links]
        lines.append("Sessions: " + "; ".join(sessions) + ".")
    else:
        lines.append("Sessions: none open (one opens when someone speaks).")
    lines.extend(_caption_lines(snap, active))
    if active is not None:
        lines.append(f"Segments so far: {active.segments} from {len(active.speakers)} "
                     "speaker(s).")
        lines.append(f"Last error: {active.last_error or 'none'}.")
    if outage is not None:
        lines.append(store_down(outage))
    return "\n".join(lines)


def _caption_lines(snap: RunSnapshot, active: Run | None) -> list[str]:
    """The caption languages served, who asked for each, and sessions per speaker."""
    captions = active.captions if active is not None else None
    served = snap.caption_languages
    if not served:
        return ["Caption languages: none (members add theirs with `/interpret me captions:`)."]
    shown = []
    for code in served:
        why = []
        if captions is not None:
            askers = captions.askers(code)
            if askers:
                why.append("asked by " + ", ".join(f"<@{m}>" for m in askers))
            if captions.configured(code):
                why.append("set for the channel")
            if captions.in_grace(code):
                why.append("closing soon: nobody here reads it")
        shown.append(describe(code) + (f" — {'; '.join(why)}" if why else ""))
    lines = ["Caption languages (a thread each): " + " · ".join(shown) + "."]
    if snap.links:
        per = [f"{_who(link.member_id)}: {link.sessions} "
               f"({', '.join(('interpreted', *link.captions))})" for link in snap.links]
        lines.append("Sessions per speaker: " + "; ".join(per) + ".")
    return lines


_TRANSPORTS = {"livekit": "LiveKit", "websocket": "WebSocket"}


def _who(member_id: int | None) -> str:
    return "the channel mix" if member_id is None else f"<@{member_id}>"


def _state(state: LinkState) -> str:
    return {LinkState.NEW: "starting", LinkState.CONNECTING: "connecting",
            LinkState.ACTIVE: "active", LinkState.RECONNECTING: "reconnecting",
            LinkState.CLOSED: "closed"}[state]


def summary(s: RunSummary) -> str:
    text = (f"Interpretation of <#{s.voice_channel_id}> ended: {s.reason}. "
            f"Duration {duration(s.duration_s)}, {s.speakers} speaker(s), "
            f"{s.segments} segment(s), languages {', '.join(s.languages)}. "
            f"Run `{s.run_id}` (`/interpret transcript run:{s.run_id}`).")
    lost = [f"{_count(s.segments_not_stored, 'segment')} not stored"
            if s.segments_not_stored else "",
            f"{_count(s.posts_undeliverable, 'post')} undeliverable"
            if s.posts_undeliverable else ""]
    if any(lost):
        text += " Lost: " + ", ".join(item for item in lost if item) + "."
    if s.segments_waiting:
        text += (f" {_count(s.segments_waiting, 'segment')} {_wait(s.segments_waiting)} for "
                 "the database, unavailable now, and will be stored when it is back.")
    return text + _per_language(s)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _wait(n: int) -> str:
    return "waits" if n == 1 else "wait"


def store_down(lost: RunLosses) -> str:
    """The line ``/interpret status`` ends with while the database is unavailable."""
    waiting = (f"{_count(lost.segments_waiting, 'segment')} of this run "
               f"{_wait(lost.segments_waiting)}" if lost.segments_waiting
               else "new segments wait")
    dropped = (f" ({_count(lost.segments_not_stored, 'segment')} could not be kept)"
               if lost.segments_not_stored else "")
    return (f"⚠️ The database is unavailable: interpretation goes on, {waiting} to be "
            f"stored when it is back{dropped}, and settings cannot be changed meanwhile.")


def _per_language(s: RunSummary) -> str:
    """Segments per thread language, when the run had caption threads."""
    if len(s.segments_by_language) < 2:
        return ""
    counts = ", ".join(f"{code} {n}" for code, n in s.segments_by_language)
    return f"\nSegments per language: {counts}."


def preference_view(pref: StoredPreference, effective_source: str) -> str:
    spoken = (language(pref.source_language) if pref.source_language
              else f"not set (the channel's, now {language(effective_source)})")
    voice = pref.voice or "not set (the channel's)"
    captions = (f"{language(pref.caption_language)}, in a thread of their own"
                if pref.caption_language else "off (the run's own thread only)")
    state = ("opted out: your voice is never sent for interpretation" if pref.opted_out
             else "interpreted when you speak in a channel with interpretation on")
    return (f"**Your interpretation preferences in this server**\n"
            f"• spoken language: {spoken}\n• voice: {voice}\n• captions: {captions}\n"
            f"• {state}.")


def languages_list(entries: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"`{code}` {name}" for code, name in entries)
