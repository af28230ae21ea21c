"""What organisers and facilitators see of their workshops: a new workshop's links and QR
code, and the live board of who stands where, edited in place as participants answer."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from io import BytesIO

import segno
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.menus import publish_role_commands
from bot.runtime import LiveBoard, Runtime
from bot.views import prompts
from bot.views.chat import Chat
from flows.board import Board, ParticipantProgress
from flows.journey import Journey
from flows.kinds import StatementStatus
from reports.labels import group_title
from reports.text import escape, ngettext_for, number, translator, when_text
from storage.db import utc_now
from storage.models import Workshop

log = logging.getLogger(__name__)

BOARD_LIVE_FOR = timedelta(hours=3)
MAX_TITLE_LENGTH = 120


def phases_line(workshop: Workshop, language: str) -> str:
    """Where the workshop stands: phase 2 follows or waits; the agora's state."""
    gettext = translator(language)
    peers = (
        gettext("phase 2 open") if workshop.peers_open else gettext("phase 2 waits for /open peers")
    )
    if workshop.agora_closed_at is not None:
        agora = gettext("agora closed")
    elif workshop.agora_opened_at is not None:
        agora = gettext("agora open")
    else:
        agora = gettext("agora not open yet (/agora)")
    return f"{peers} · {agora}"


def board_text(journey: Journey, board: Board, language: str, *, now: datetime) -> str:
    """The facilitator's live view: how many participants stand where, per category."""
    gettext = translator(language)
    ngettext = ngettext_for(language)
    lines = [
        f"📊 <b>{escape(board.workshop.title)}</b>",
        ngettext("{count} participant", "{count} participants", board.total).format(
            count=number(board.total, language)
        ),
    ]
    if board.total == 0:
        lines.append(gettext("Nobody has joined yet. Share the join link or the QR code."))
    order = [c.id for c in journey.categories]
    keys = sorted(board.by_category, key=lambda c: order.index(c) if c in order else len(order))
    for category_id in keys:
        counts = board.by_category[category_id]
        category = journey.category(category_id) if category_id else None
        not_chosen = gettext("Category not chosen yet")
        name = group_title(journey, category_id, language) if category else not_chosen
        parts = []
        if counts.get(Board.JOINING):
            joining = counts[Board.JOINING]
            parts.append(
                ngettext("{count} joining", "{count} joining", joining).format(count=joining)
            )
        for moment in journey.moments:
            if counts.get(str(moment.number)):
                parts.append(
                    gettext("{count} at moment {number}").format(
                        count=counts[str(moment.number)], number=moment.number
                    )
                )
        if counts.get(Board.WAITING):
            parts.append(gettext("{count} waiting for phase 2").format(count=counts[Board.WAITING]))
        if counts.get(Board.PEERS):
            parts.append(gettext("{count} in phase 2").format(count=counts[Board.PEERS]))
        if counts.get(Board.FINISHED):
            finished = counts[Board.FINISHED]
            parts.append(
                ngettext("{count} finished", "{count} finished", finished).format(count=finished)
            )
        lines.append(
            gettext("{category} ({count}): {details}").format(
                category=f"<b>{name}</b>", count=sum(counts.values()), details=" · ".join(parts)
            )
        )
    lines.append("")
    lines.append(phases_line(board.workshop, language))
    if board.workshop.agora_opened_at is not None:
        lines.append(
            gettext(
                "Agora: {approved} statements, {votes} votes, {pending} waiting for approval."
            ).format(
                approved=number(board.statements.get(StatementStatus.APPROVED, 0), language),
                votes=number(board.votes, language),
                pending=number(board.statements.get(StatementStatus.PENDING, 0), language),
            )
        )
    lines.append(gettext("As of {time}.").format(time=when_text(now, now.tzinfo or UTC, language)))
    return "\n".join(lines)


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def qr_png(link: str) -> bytes:
    """A QR code of the join link, large enough to scan from a projected slide."""
    buffer = BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


async def show_not_organiser(chat: Chat) -> None:
    _ = chat.gettext
    await chat.send(
        _(
            "Only organisers can create workshops. An administrator can add your Telegram "
            "id ({id}) to the organisers."
        ).format(id=chat.user_id)
    )


def title_problem(title: str, language: str) -> str | None:
    """Why a workshop title cannot be used, or None."""
    _ = translator(language)
    if not title:
        return _("Give the workshop a title: /newsession Cooperation in the valley, spring session")
    if len(title) > MAX_TITLE_LENGTH:
        return _("That title is too long; keep it under {limit} characters.").format(
            limit=number(MAX_TITLE_LENGTH, language)
        )
    return None


async def show_created(chat: Chat, workshop: Workshop) -> None:
    """A new workshop: the join link, its QR code, and the facilitator link apart."""
    _ = chat.gettext
    bot_username = chat.bot.username
    join_link = deep_link(bot_username, workshop.code)
    title = escape(workshop.title)
    await chat.send(
        _(
            "Workshop «{title}» created.\n\nParticipants join with this link or the QR code "
            "below:\n{link}\n\nOr by sending /join {code} to @{bot}."
        ).format(title=title, link=join_link, code=workshop.code, bot=bot_username)
    )
    await chat.send_photo(
        qr_png(join_link), caption=_("Scan to join «{title}»").format(title=title)
    )
    await chat.send(
        _(
            "Facilitator link: only for the people who run the workshop. Whoever opens it "
            "becomes a facilitator and sees the live progress.\n{link}"
        ).format(link=deep_link(bot_username, workshop.facilitator_code))
        + "\n\n"
        + _(
            "The second phase, the exchange between peers, follows the first one directly. "
            "To open it yourself when the room is ready, send /peers wait now and /open peers "
            "later. Open the agora with /agora."
        )
    )
    await publish_role_commands(
        chat.bot, chat_id=chat.chat_id, language=chat.language, organiser=True
    )


async def show_join_link(chat: Chat, workshop: Workshop) -> None:
    """The join link and its QR code again (/workshops), to share or project."""
    _ = chat.gettext
    bot_username = chat.bot.username
    join_link = deep_link(bot_username, workshop.code)
    title = escape(workshop.title)
    await chat.send(
        _(
            "Participants join «{title}» with this link or the QR code below:\n{link}\n\n"
            "Or by sending /join {code} to @{bot}."
        ).format(title=title, link=join_link, code=workshop.code, bot=bot_username)
    )
    await chat.send_photo(
        qr_png(join_link), caption=_("Scan to join «{title}»").format(title=title)
    )


async def show_facilitator_link(chat: Chat, workshop: Workshop) -> None:
    """A new facilitator link, after the old one was revoked."""
    _ = chat.gettext
    await chat.send(
        _(
            "New facilitator link for «{title}»: the previous one no longer works. Those "
            "who joined with it stay facilitators.\n{link}"
        ).format(
            title=escape(workshop.title),
            link=deep_link(chat.bot.username, workshop.facilitator_code),
        )
    )


async def show_progress(
    chat: Chat, mine: ParticipantProgress | None, boards: list[Board] | None
) -> None:
    """/progress: the participant's own place, then each facilitated workshop's live board
    (None: the user asked for a workshop they do not facilitate)."""
    if boards is None:
        _ = chat.gettext
        await chat.send(_("Only the facilitators of that workshop can follow its progress."))
        return
    state = chat.runtime
    if mine is None and not boards:
        await chat.send(prompts.not_joined_text(chat.language))
        return
    if mine is not None:
        await chat.send(
            prompts.participant_progress_text(
                state.journey,
                mine.workshop,
                mine.step,
                mine.progress,
                chat.language,
                votes=mine.votes,
                to_vote=mine.to_vote,
            )
        )
    now = utc_now().astimezone(state.settings.timezone)
    for board in boards:  # each board stays live: it is edited as participants answer
        text = board_text(state.journey, board, chat.language, now=now)
        sent = await chat.send(text)
        if sent is not None:
            _keep_live(state, sent.chat_id, sent.message_id, board.workshop.id, chat.language, text)


def _keep_live(
    state: Runtime, chat_id: int, message_id: int, workshop_id: int, language: str, text: str
) -> None:
    for key, live in list(state.live_boards.items()):  # the newest board replaces it
        if key[0] == chat_id and live.workshop_id == workshop_id:
            del state.live_boards[key]
    state.live_boards[(chat_id, message_id)] = LiveBoard(
        workshop_id, language, board_content(text), utc_now() + BOARD_LIVE_FOR
    )


def board_content(text: str) -> str:
    """A board without its last line (the time it was drawn): what changes matter."""
    return text.rpartition("\n")[0]


async def refresh_live_boards(state: Runtime, bot: Bot) -> None:
    """Edit each live board whose figures changed (never more often than the job runs);
    forget those past their time, or whose message is gone."""
    now = utc_now()
    for key, live in list(state.live_boards.items()):
        if now > live.until:
            state.live_boards.pop(key, None)
            continue
        board = await state.service.board_of(workshop_id=live.workshop_id)
        if board is None:
            state.live_boards.pop(key, None)
            continue
        local_now = now.astimezone(state.settings.timezone)
        text = board_text(state.journey, board, live.language, now=local_now)
        if board_content(text) == live.content:
            continue
        chat_id, message_id = key
        try:  # not through the courier: a board that fails now is simply tried next time
            await bot.edit_message_text(
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
