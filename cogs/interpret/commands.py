"""The ``/interpret`` command group: parse, check, call a service, answer.

No decisions live here beyond which service to call: settings resolution and
run lifecycle are :class:`~bot.service.runs.RunService`'s, permissions are
:mod:`bot.service.permissions`, preferences :class:`~bot.service.preferences.MemberPreferences`,
texts :mod:`cogs.interpret.formatting`. Errors are raised, never answered here:
the tree's funnel (:mod:`bot.command_tree`) turns them into one sentence.

Discord fails an interaction not answered within 3 s, so every command that
reads the store or calls Discord defers first, before any of it, and ephemerally:
refusals (including those only the store can decide) stay private. ``start`` and
``stop`` then tell the channel with a public followup (:func:`_tell_channel`).

While the database is unavailable (:mod:`bot.service.outage`) runs go on: ``stop``
still works (with the run's own settings), ``status`` says so, settings commands
answer with one sentence.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.languages import SUPPORTED, suggest
from bot.pinch.options import MAX_CONTEXT_CHARS
from bot.service import outage, permissions
from bot.service.container import Services
from bot.service.errors import UserError
from bot.service.runs import Run
from bot.store import ConfigLayer
from bot.store.errors import StoreUnavailable
from bot.transcripts import commands as transcript_commands
from bot.transcripts.text import escape
from cogs.interpret import formatting
from cogs.interpret.options import (
    CAPTIONS_OFF,
    CLEAR_CHOICES,
    FORMAT_CHOICES,
    MODE_CHOICES,
    SCOPE_CHOICES,
    VOICE_CHOICES,
    Captions,
    Language,
    LanguageList,
)

NO_MENTIONS = discord.AllowedMentions.none()


def _member(interaction: discord.Interaction[Any]) -> discord.Member:
    if not isinstance(interaction.user, discord.Member) or interaction.guild is None:
        raise UserError("Use this command in a server.")
    return interaction.user


def _voice_of(member: discord.Member) -> discord.VoiceChannel | None:
    channel = member.voice.channel if member.voice is not None else None
    return channel if isinstance(channel, discord.VoiceChannel) else None


def _choice(choice: app_commands.Choice[str] | None) -> str | None:
    return None if choice is None else choice.value


_FIELD_OF_LABEL = {label: name for name, label in formatting.SETTING_LABELS.items()}


def _cleared_field(clear: app_commands.Choice[str] | None,
                   changes: ConfigLayer) -> frozenset[str]:
    """The setting ``clear:`` names (as a field of the layer); refused when the same
    command also gives it a value."""
    if clear is None:
        return frozenset()
    name = _FIELD_OF_LABEL[clear.value]  # discord.py lets only the offered choices in
    if getattr(changes, name) is not None:
        raise UserError(f"Give `{clear.value}` a value or clear it, not both.")
    return frozenset({name})


def _reset_preferences(reset: bool, **given: object) -> frozenset[str]:
    """What ``/interpret me`` unsets: ``captions:off``'s caption language, and with
    ``reset:True`` the language, voice and captions, but not one the same command sets."""
    cleared = {"caption_language"} if given["captions"] == CAPTIONS_OFF else set()
    if reset:
        names = {"language": "source_language", "voice": "voice",
                 "captions": "caption_language"}
        cleared |= {field for option, field in names.items() if given[option] is None}
    return frozenset(cleared)


async def _defer(interaction: discord.Interaction[Any]) -> None:
    """Answer within Discord's 3 s: a private "thinking..." the answer replaces."""
    await interaction.response.defer(ephemeral=True, thinking=True)


async def _tell_channel(interaction: discord.Interaction[Any], text: str) -> None:
    """After :func:`_defer`: a private "done" for the member, then ``text`` for the channel.

    The private placeholder is replaced first: a followup sent while it still
    loads would take its place, and stay private.
    """
    await interaction.edit_original_response(content=formatting.DONE_PUBLICLY,
                                             allowed_mentions=NO_MENTIONS)
    await interaction.followup.send(text, allowed_mentions=NO_MENTIONS)


@app_commands.guild_only()
class InterpretCommands(commands.GroupCog, group_name="interpret",
                        group_description="Live interpretation of a voice channel"):
    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services

    # -- start / stop / status -----------------------------------------------------

    @app_commands.command(name="start", description="Join a voice channel and interpret it")
    @app_commands.describe(
        target="Language to interpret into (default: the channel's setting)",
        source="Language spoken, a hint for the interpreter (default: the channel's setting)",
        voice="Voice of the translated speech",
        mode="One session per speaker, or one for the whole channel",
        channel="Voice channel to interpret (default: the one you are in)",
    )
    @app_commands.choices(voice=VOICE_CHOICES, mode=MODE_CHOICES)
    async def start(self, interaction: discord.Interaction[Any], target: Language | None = None,
                    source: Language | None = None,
                    voice: app_commands.Choice[str] | None = None,
                    mode: app_commands.Choice[str] | None = None,
                    channel: discord.VoiceChannel | None = None) -> None:
        member = _member(interaction)
        await _defer(interaction)
        runs = self.services.runs
        voice_channel = channel or _voice_of(member)
        if voice_channel is None:
            raise UserError("Join a voice channel first, or name one with `channel:`.")
        # Access first: Discord itself takes Manage Channels away in a voice channel
        # one cannot connect to, and "you cannot connect" is the reason to show.
        permissions.require_voice_access(member, voice_channel)
        options = ConfigLayer(target_language=target, source_language=source,
                              voice=_choice(voice), mode=_choice(mode))
        effective = await runs.effective(voice_channel.guild.id, voice_channel.id, options)
        permissions.require_manager(member, voice_channel, effective["manager_role_id"])
        runs.check_not_running(voice_channel.guild.id)
        runs.run_config(effective)  # a missing target fails here, before joining
        report = interaction.channel
        if not isinstance(report, (discord.abc.GuildChannel, discord.Thread)):
            raise UserError("Run this command in a server channel.")
        transcripts = self._transcript_channel(voice_channel.guild, effective, report)
        permissions.check_bot_can(voice_channel,
                                  permissions.voice_needs(play_audio=effective["play_audio"]))
        permissions.check_bot_can(report, permissions.text_needs(post_transcripts=False))
        if transcripts is not None:
            permissions.check_bot_can(transcripts, permissions.text_needs(post_transcripts=True))

        me = self.bot.user

        async def announce(run: Run) -> None:
            # Nobody may be interpreted without being told: no notice, no run (and
            # nothing was ever sent, since the bot has not joined yet).
            try:
                await voice_channel.send(formatting.consent_notice(run),
                                         allowed_mentions=NO_MENTIONS)
            except discord.HTTPException:
                raise UserError(f"I could not post the consent notice in "
                                f"{voice_channel.mention}, so I did not start. Let me send "
                                "messages there, then start again.") from None

        active = await runs.start(voice_channel, effective, report_channel_id=report.id,
                                  transcript_channel=transcripts,
                                  own_user_id=me.id if me is not None else None,
                                  announce=announce)
        humans = sum(not m.bot for m in voice_channel.members)
        await _tell_channel(interaction, formatting.started(active, humans=humans))

    @staticmethod
    def _transcript_channel(guild: discord.Guild, effective: Any,
                            report: Any) -> discord.TextChannel | None:
        """Where the thread goes (``None`` with transcripts off); refused if unusable."""
        if not effective["post_transcripts"]:
            return None
        configured = effective["transcript_channel_id"]
        channel = guild.get_channel(configured) if configured else report
        if configured and channel is None:
            raise UserError("The configured transcript channel no longer exists; set another "
                            "with `/interpret config transcript_channel:`.")
        if not isinstance(channel, discord.TextChannel):
            raise UserError("Transcripts go into a thread of a text channel: run `start` in "
                            "one, set `/interpret config transcript_channel:`, or turn "
                            "`post_transcripts` off.")
        return channel

    @app_commands.command(name="stop", description="Stop interpreting and leave the channel")
    async def stop(self, interaction: discord.Interaction[Any]) -> None:
        member = _member(interaction)
        await _defer(interaction)
        runs = self.services.runs
        active = runs.active(member.guild.id)
        if active is None:
            raise UserError("Nothing is being interpreted in this server.")
        permissions.require_voice_access(member, active.voice_channel)
        try:
            effective = await runs.effective(member.guild.id, active.voice_channel.id)
        except StoreUnavailable:
            effective = active.effective  # the run's own: a run can be stopped in an outage
        permissions.require_manager(member, active.voice_channel, effective["manager_role_id"])
        # The reason is posted in the run's summary: a nickname must neither format nor ping.
        await runs.stop(member.guild.id, f"stopped by {escape(member.display_name)}")
        await _tell_channel(interaction, f"Stopped interpreting {active.voice_channel.mention}.")

    @app_commands.command(name="status", description="What is being interpreted, and how")
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        member = _member(interaction)
        snap = self.services.runs.snapshot(member.guild.id)  # in memory
        if snap is None:
            raise UserError("Nothing is being interpreted in this server.")
        permissions.require_reader(member, snap.channel_id, what="see how it is interpreted")
        await _defer(interaction)  # it asks the database whether it answers
        active = self.services.runs.active(member.guild.id)
        down = await outage.store_outage(self.services.store, self.services.transcripts,
                                         active.run_id if active is not None else None)
        text = formatting.status(snap, active, down)
        await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="languages", description="The languages I can interpret")
    @app_commands.describe(search="Filter by code or name, e.g. 'es' or 'portuguese'")
    async def languages(self, interaction: discord.Interaction[Any],
                        search: str | None = None) -> None:
        entries = suggest(search, limit=len(SUPPORTED)) if search else list(SUPPORTED.items())
        if not entries:
            raise UserError(f"No supported language matches `{search[:30] if search else ''}`.")
        await interaction.response.send_message(
            f"**Supported languages** ({len(entries)}):\n" + formatting.languages_list(entries),
            ephemeral=True)

    # -- config --------------------------------------------------------------------

    @app_commands.command(name="config",
                          description="Show or change the settings of a channel or the server")
    @app_commands.describe(
        scope="Change this voice channel (default) or the whole server",
        channel="The voice channel (default: the one you are in)",
        target="Language to interpret into",
        source="Language spoken (a hint for the interpreter)",
        voice="Voice of the translated speech",
        mode="One session per speaker, or one for the whole channel",
        transcript_channel="Where transcripts and run messages go (default: where start runs)",
        play_audio="Play the translated speech in the voice channel",
        post_transcripts="Post transcripts as text",
        live_captions="Show interim text while people speak (off by default)",
        idle_leave_seconds="Leave after this long with nobody in the channel (10-3600)",
        max_run_minutes="Stop a run after this many minutes (0 = no limit)",
        max_speakers="Speakers interpreted at once (1-25; each is a Pinch session)",
        caption_languages="Caption languages every run here shows, e.g. 'fr, de' (a thread "
                          "each)",
        max_caption_languages="Caption languages at once (0-10, default 3; each is a "
                              "text-only session per speaker; 0 turns captions off)",
        manager_role="Members with this role may start, stop and configure",
        retention_days="Server only: days stored transcripts are kept (0-365)",
        context="Names and terms the interpreter should know (WebSocket transport; ≤ 500 "
                "characters)",
        clear="Unset one setting of this scope (it falls back to the server or the default)",
        reset="Forget every setting of this scope",
    )
    @app_commands.choices(scope=SCOPE_CHOICES, voice=VOICE_CHOICES, mode=MODE_CHOICES,
                          clear=CLEAR_CHOICES)
    async def config(
        self, interaction: discord.Interaction[Any],
        scope: app_commands.Choice[str] | None = None,
        channel: discord.VoiceChannel | None = None,
        target: Language | None = None,
        source: Language | None = None,
        voice: app_commands.Choice[str] | None = None,
        mode: app_commands.Choice[str] | None = None,
        transcript_channel: discord.TextChannel | None = None,
        play_audio: bool | None = None,
        post_transcripts: bool | None = None,
        live_captions: bool | None = None,
        idle_leave_seconds: app_commands.Range[int, 10, 3600] | None = None,
        max_run_minutes: app_commands.Range[int, 0, 1440] | None = None,
        max_speakers: app_commands.Range[int, 1, 25] | None = None,
        caption_languages: LanguageList | None = None,
        max_caption_languages: app_commands.Range[int, 0, 10] | None = None,
        manager_role: discord.Role | None = None,
        retention_days: app_commands.Range[int, 0, 365] | None = None,
        context: app_commands.Range[str, 1, MAX_CONTEXT_CHARS] | None = None,
        clear: app_commands.Choice[str] | None = None,
        reset: bool = False,
    ) -> None:
        member = _member(interaction)
        await _defer(interaction)
        guild_id = member.guild.id
        store, runs = self.services.store, self.services.runs
        changes = ConfigLayer(
            target_language=target, source_language=source, voice=_choice(voice),
            mode=_choice(mode),
            transcript_channel_id=transcript_channel.id if transcript_channel else None,
            play_audio=play_audio, post_transcripts=post_transcripts,
            live_captions=live_captions, idle_leave_s=idle_leave_seconds,
            max_run_minutes=max_run_minutes,
            max_speakers=max_speakers,
            caption_languages=caption_languages,
            max_caption_languages=max_caption_languages,
            manager_role_id=manager_role.id if manager_role else None,
            retention_days=retention_days,
            context=context,
        )
        cleared = _cleared_field(clear, changes)
        with outage.settings_store(changing=reset or not changes.is_empty() or bool(cleared)):
            if _choice(scope) == "server":
                server = await store.server_config(guild_id)
                permissions.require_manager(member, None, server.manager_role_id)
                if transcript_channel is not None:
                    permissions.require_can_post(member, transcript_channel)
                if reset:
                    await store.reset_server_config(guild_id)
                await store.update_server_config(guild_id, changes, clear=cleared)
                effective = await runs.effective(guild_id, None)
                where, server_only = "the whole server", True
            else:
                voice_channel = channel or _voice_of(member)
                if voice_channel is None:
                    raise UserError("Name the voice channel with `channel:` (or join it), or use "
                                    "`scope:server`.")
                if changes.retention_days is not None or "retention_days" in cleared:
                    raise UserError("`retention_days` is a server setting: add `scope:server`.")
                permissions.require_voice_access(member, voice_channel)
                current = await runs.effective(guild_id, voice_channel.id)
                permissions.require_manager(member, voice_channel, current["manager_role_id"])
                if transcript_channel is not None:
                    permissions.require_can_post(member, transcript_channel)
                if reset:
                    await store.reset_channel_config(guild_id, voice_channel.id)
                await store.update_channel_config(guild_id, voice_channel.id, changes,
                                                  clear=cleared)
                effective = await runs.effective(guild_id, voice_channel.id)
                where, server_only = voice_channel.mention, False
        saved = reset or not changes.is_empty()
        text = formatting.config_view(effective, where=where, server_only=server_only)
        if saved or cleared:
            done = " ".join(([f"Cleared `{clear.value}` for {where}."] if clear else [])
                            + (["Saved."] if saved else []))
            text = done + (" It applies from the next `/interpret start`.\n"
                           if runs.active(guild_id) is not None else "\n") + text
        await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)

    # -- me ------------------------------------------------------------------------

    @app_commands.command(name="me",
                          description="Your own language, voice, captions, and opt-out")
    @app_commands.describe(
        language="The language you speak (a hint for the interpreter)",
        voice="The voice your translated speech uses",
        captions="The language you read: a thread of captions in it while you are in the "
                 "channel ('off': none)",
        opt_out="True: your voice is never sent for interpretation; False: opt back in",
        reset="Forget your language, voice and captions (your opt-out stays as it is)",
        forget="Delete your stored transcripts in this server",
    )
    @app_commands.choices(voice=VOICE_CHOICES)
    async def me(self, interaction: discord.Interaction[Any], language: Language | None = None,
                 voice: app_commands.Choice[str] | None = None,
                 captions: Captions | None = None, opt_out: bool | None = None,
                 reset: bool = False, forget: bool = False) -> None:
        member = _member(interaction)
        await _defer(interaction)
        guild_id = member.guild.id
        if forget:
            text = await transcript_commands.forget_member(self.services.store, guild_id,
                                                           member.id)
            await interaction.edit_original_response(content=text)
            return
        preferences, runs = self.services.preferences, self.services.runs
        here = _voice_of(member)
        if captions is not None and captions != CAPTIONS_OFF:
            # Refused with one sentence (captions off here, or past the run's cap):
            # nothing is stored and nothing opens.
            await runs.check_caption_request(guild_id, here.id if here else None, captions)
        speaking = reset or language is not None or voice is not None or opt_out is not None
        changing = speaking or captions is not None
        with outage.settings_store(changing=changing):
            if changing:
                pref = await preferences.update(
                    guild_id, member.id, source_language=language, voice=_choice(voice),
                    opted_out=opt_out,
                    caption_language=None if captions == CAPTIONS_OFF else captions,
                    clear=_reset_preferences(reset, language=language, voice=voice,
                                             captions=captions))
                if speaking:
                    runs.refresh_member(guild_id, member.id)  # their live session takes it
                if captions is not None or reset:
                    runs.captions_changed(guild_id)  # the run serves (or stops) it
            else:
                pref = await preferences.get(guild_id, member.id)
            active = runs.active(guild_id)
            channel_id = active.voice_channel.id if active is not None else (
                here.id if here is not None else None)
            effective = await runs.effective(guild_id, channel_id)
        text = formatting.preference_view(pref, effective["source_language"])
        if changing:
            text = "Saved" + (", and applied to the running interpretation"
                              if active is not None else "") + ".\n" + text
        await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)

    # -- transcript ----------------------------------------------------------------

    @app_commands.command(name="transcript",
                          description="The current or last run's transcript as a file")
    @app_commands.describe(format="txt (default), srt or vtt subtitles",
                           run="A run id (default: the current run, else the last one)",
                           language="Only what was translated into this language (a "
                                    "caption thread; default: the run's own thread)")
    @app_commands.choices(format=FORMAT_CHOICES)
    async def transcript(self, interaction: discord.Interaction[Any],
                         format: app_commands.Choice[str] | None = None,
                         run: str | None = None, language: Language | None = None) -> None:
        member = _member(interaction)
        await _defer(interaction)

        def check_reader(voice_channel_id: int) -> None:
            permissions.require_reader(member, voice_channel_id, what="read its transcript")

        try:
            file = await transcript_commands.transcript_file(
                self.services.store, self.services.transcripts, member.guild,
                _choice(format) or "txt", run.strip() if run else None,
                check_reader=check_reader, language=language)
        except transcript_commands.TranscriptCommandError as exc:
            raise UserError(str(exc)) from None
        await interaction.edit_original_response(attachments=[file])
