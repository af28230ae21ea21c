"""Organisers create workshops; facilitators follow them. Roles are checked on every action."""

from __future__ import annotations

import logging
from datetime import timedelta
from html import escape
from io import BytesIO

import segno
from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import rendering
from bot.handlers.replies import gettext_for, not_joined_text, reply_html, user_language
from bot.menus import publish_role_commands
from bot.runtime import LiveBoard, runtime
from flows.errors import NotAllowed
from storage.db import utc_now

log = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 120


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def qr_png(link: str) -> bytes:
    """A QR code of the join link, large enough to scan from a projected slide."""
    buffer = BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


async def on_newsession(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/newsession <title>: organisers only; replies with the links and a QR code."""
    state = runtime(context)
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    assert user is not None and chat is not None and message is not None
    language = await user_language(update, context)
    _ = gettext_for(language)
    if not state.service.is_organiser(user.id):
        await reply_html(
            update,
            _(
                "Only organisers can create workshops. An administrator can add your Telegram "
                "id ({id}) to the organisers."
            ).format(id=user.id),
        )
        return
    title = " ".join(context.args or []).strip()
    if not title:
        await reply_html(
            update,
            _("Give the workshop a title: /newsession Cooperation in the valley, spring session"),
        )
        return
    if len(title) > MAX_TITLE_LENGTH:
        await reply_html(
            update,
            _("That title is too long; keep it under {limit} characters.").format(
                limit=rendering.number(MAX_TITLE_LENGTH, language)
            ),
        )
        return
    workshop = await state.service.create_workshop(
        organiser_id=user.id, title=title, update_id=update.update_id
    )
    bot_username = context.bot.username
    join_link = deep_link(bot_username, workshop.code)
    await reply_html(
        update,
        _(
            "Workshop «{title}» created.\n\nParticipants join with this link or the QR code "
            "below:\n{link}\n\nOr by sending /join {code} to @{bot}."
        ).format(
            title=escape(workshop.title), link=join_link, code=workshop.code, bot=bot_username
        ),
    )
    await context.bot.send_photo(
        chat.id,
        qr_png(join_link),
        caption=_("Scan to join «{title}»").format(title=escape(workshop.title)),
        parse_mode=ParseMode.HTML,
    )
    await context.bot.send_message(
        chat.id,
        _(
            "Facilitator link: only for the people who run the workshop. Whoever opens it "
            "becomes a facilitator and sees the live progress.\n{link}"
        ).format(link=deep_link(bot_username, workshop.facilitator_code))
        + "\n\n"
        + _(
            "The second phase, the exchange between peers, follows the first one directly. "
            "To open it yourself when the room is ready, send /peers wait now and /open peers "
            "later. Open the agora with /agora."
        ),
        parse_mode=ParseMode.HTML,
    )
    await publish_role_commands(context.bot, chat_id=chat.id, language=language, organiser=True)


async def on_progress(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/progress: a participant's own place; a facilitator's live board; /progress <code>
    for one workshop, facilitators of it only."""
    state = runtime(context)
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    language = await user_language(update, context)
    _ = gettext_for(language)
    code = context.args[0] if context.args else None
    texts: list[str] = []
    if code is None:
        mine = await state.service.participant_progress(user_id=user.id)
        if mine is not None:
            texts.append(
                rendering.participant_progress_text(
                    state.journey,
                    mine.workshop,
                    mine.step,
                    mine.progress,
                    language,
                    votes=mine.votes,
                    to_vote=mine.to_vote,
                )
            )
    try:
        boards = await state.service.board(user_id=user.id, code=code)
    except NotAllowed:
        if code is not None:
            await reply_html(
                update, _("Only the facilitators of that workshop can follow its progress.")
            )
            return
        boards = []
    now = utc_now().astimezone(state.settings.timezone)
    if not texts and not boards:
        await reply_html(update, not_joined_text(language))
        return
    for text in texts:
        await reply_html(update, text)
    for board in boards:  # each board stays live: it is edited as participants answer
        text = rendering.board_text(state.journey, board, language, now=now)
        sent = await message.reply_text(text, parse_mode=ParseMode.HTML)
        for key, live in list(state.live_boards.items()):  # the newest board replaces it
            if key[0] == sent.chat_id and live.workshop_id == board.workshop.id:
                del state.live_boards[key]
        state.live_boards[(sent.chat_id, sent.message_id)] = LiveBoard(
            board.workshop.id, language, board_content(text), utc_now() + BOARD_LIVE_FOR
        )


BOARD_LIVE_FOR = timedelta(hours=3)


def board_content(text: str) -> str:
    """A board without its last line (the time it was drawn): what changes matter."""
    return text.rpartition("\n")[0]


async def refresh_live_boards(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edit each live board whose figures changed (never more often than this job runs);
    forget those past their time, or whose message is gone."""
    state = runtime(context)
    if state.service_ is None:
        return
    now = utc_now()
    for key, live in list(state.live_boards.items()):
        if now > live.until:
            state.live_boards.pop(key, None)
            continue
        board = await state.service.board_of(workshop_id=live.workshop_id)
        if board is None:
            state.live_boards.pop(key, None)
            continue
        text = rendering.board_text(
            state.journey, board, live.language, now=now.astimezone(state.settings.timezone)
        )
        if board_content(text) == live.content:
            continue
        chat_id, message_id = key
        try:
            await context.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML
            )
        except (BadRequest, Forbidden) as error:  # deleted, or the chat blocked the bot
            log.info("live board %s stopped: %s", key, error)
            state.live_boards.pop(key, None)
            continue
        except TelegramError as error:  # flood control or the network: next time
            log.info("live board %s not edited this time: %s", key, error)
            continue
        live.content = board_content(text)
