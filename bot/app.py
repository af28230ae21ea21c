"""All the wiring in one place: settings → database → service → Application with handlers.

`build_application` is used by `coopbot run`, the tests, the rehearsal and the benchmarks.
Under `run_polling` the database opens in `post_init` and closes in `post_shutdown`;
elsewhere `running(application)` does the same around a polling session, and
`running_webhook(application)` around a webhook server (bot/webhook.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import jobs
from bot.concurrency import PerChatUpdateProcessor
from bot.handlers import (
    agora,
    audit,
    common,
    decantation,
    facilitator,
    flood,
    health,
    mailings,
    organiser,
    participant,
    phases,
    privacy,
    syntheses,
)
from bot.handlers import caucus as caucus_handlers
from bot.handlers import quotes as quote_handlers
from bot.handlers import review as review_handlers
from bot.handlers import room as room_handlers
from bot.handlers import screen as screen_handlers
from bot.http import AiohttpRequest
from bot.keyboards import (
    CAUCUS_PREFIX,
    FORGET_PREFIX,
    JOURNEY_PREFIX,
    LANGUAGE_PREFIX,
    MAILING_PREFIX,
    MODERATION_PREFIX,
    ORGANISER_PREFIX,
    QUOTE_PREFIX,
    RESOLUTION_PREFIX,
    REVIEW_PREFIX,
    ROOM_PREFIX,
    SCREEN_PREFIX,
    TIMEZONE_PREFIX,
    VOTE_PREFIX,
)
from bot.menus import names, publish_default_commands
from bot.outbox import Outbox
from bot.pacing import EvenRateLimiter
from bot.runtime import RUNTIME_KEY, Runtime
from bot.settings import Settings
from bot.web.hub import Announcer
from bot.web.server import WebScreen
from bot.webhook import MAX_CONNECTIONS, WebhookServer, webhook_secret
from flows.agora import AgoraService
from flows.audit import AuditService
from flows.caucus import CaucusService
from flows.decantation import DecantationService
from flows.engine import JourneyEngine
from flows.facilitation import FacilitationService
from flows.journey_file import default_journey
from flows.mailings import MailingService
from flows.newsession import CreationQuestions
from flows.organising import OrganiserService
from flows.outbox import OutboxService
from flows.quotes import QuoteService
from flows.resolutions import ResolutionService
from flows.retention import RetentionService
from flows.review import ReviewService
from flows.room import RoomService
from flows.screen import ScreenService
from flows.service import WorkshopService
from storage import updates
from storage.address import shown_target
from storage.db import Database, DatabaseError, utc_now

log = logging.getLogger(__name__)
# Where `open_services` keeps the worker's `Announcer` (on a database others share).
ANNOUNCER_KEY = "coopbot.announcer"
# transitions logs every state change at INFO: one line per answer is noise in the bot's log.
logging.getLogger("transitions").setLevel(logging.WARNING)


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    max_concurrent_updates: int = 64,
) -> Application:
    """The bot, ready to run against `settings.api_base_url`.

    Updates of different chats are handled concurrently, up to `max_concurrent_updates`
    at once (1 handles them one by one; the benchmarks compare both).
    """
    if not settings.token:
        raise ValueError("a bot token is needed to build the application")
    journey = default_journey()
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_base_file_url)
        .defaults(Defaults(tzinfo=settings.timezone))
        .rate_limiter(EvenRateLimiter(settings.messages_per_second))
        .concurrent_updates(PerChatUpdateProcessor(max_concurrent_updates))
        .job_queue(jobs.QuietlyStoppingJobQueue())
        .post_init(open_services)
        .post_shutdown(close_services)
    )
    # aiohttp for Telegram unless a test brings its own; the long poll has its own.
    builder = builder.request(request if request is not None else AiohttpRequest())
    builder = builder.get_updates_request(AiohttpRequest(connection_pool_size=1))
    application = builder.build()
    application.bot_data[RUNTIME_KEY] = Runtime(
        settings=settings,
        journey=journey,
        engine=JourneyEngine(journey, max_text_length=settings.max_answer_length),
    )
    application.bot_data[RUNTIME_KEY].jobs = application.job_queue
    route(application)
    jobs.schedule(application)
    return application


def route(application: Application) -> None:
    """Which update goes to which handler."""
    private = filters.ChatType.PRIVATE
    # Before anything else: a user sending too much at once is asked to slow down, and
    # the rest of their burst goes no further.
    application.add_handler(TypeHandler(Update, flood.on_any_update), group=-2)
    # Commands act once, when sent: an edited message is never re-run as a command.
    new_private = private & filters.UpdateType.MESSAGE
    commands = {
        "start": participant.on_start,
        "join": participant.on_join,
        "back": participant.on_back,
        "skip": participant.on_skip,
        "pause": participant.on_pause,
        "resume": participant.on_resume,
        "progress": facilitator.on_progress,
        "newsession": facilitator.on_newsession,
        "open": phases.on_open,
        "peers": phases.on_peers,
        "agora": phases.on_agora,
        "caucus": caucus_handlers.on_caucus,
        "statements": phases.on_statements,
        "withdraw": phases.on_withdraw,
        "approve": phases.on_approve,
        "reject": phases.on_reject,
        "review": review_handlers.on_review,
        "resolutions": room_handlers.on_resolutions,
        "synthesis": syntheses.on_synthesis,
        "export": syntheses.on_export,
        "share": syntheses.on_share,
        "screen": screen_handlers.on_screen,
        "quotes": quote_handlers.on_quotes,
        "report": quote_handlers.on_report,
        "help": common.on_help,
        "language": common.on_language,
        "whoami": common.on_whoami,
        "mydata": privacy.on_mydata,
        "forget": privacy.on_forget,
        "workshops": organiser.on_workshops,
        "session": organiser.on_session,
        "close": organiser.on_close,
        "revoke": organiser.on_revoke,
        "coorganiser": organiser.on_coorganiser,
        "audit": audit.on_audit,
        "health": health.on_health,
        "timezone": organiser.on_timezone,
        "remind": mailings.on_remind,
        "reminders": mailings.on_reminders,
        "broadcast": mailings.on_broadcast,
        "decantation": decantation.on_decantation,
        "followup": decantation.on_followup,
    }
    # Each under its English and its French name (/synthesis, /synthese), for everyone.
    for name, callback in commands.items():
        application.add_handler(CommandHandler(names(name), callback, filters=new_private))
    application.add_handler(
        CallbackQueryHandler(participant.on_journey_button, pattern=rf"^{JOURNEY_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(common.on_language_button, pattern=rf"^{LANGUAGE_PREFIX}:")
    )
    application.add_handler(CallbackQueryHandler(agora.on_vote_button, pattern=rf"^{VOTE_PREFIX}:"))
    application.add_handler(
        CallbackQueryHandler(caucus_handlers.on_caucus_button, pattern=rf"^{CAUCUS_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(phases.on_moderation_button, pattern=rf"^{MODERATION_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(review_handlers.on_review_button, pattern=rf"^{REVIEW_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(privacy.on_forget_button, pattern=rf"^{FORGET_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(room_handlers.on_room_button, pattern=rf"^{ROOM_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(room_handlers.on_resolution_button, pattern=rf"^{RESOLUTION_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(screen_handlers.on_screen_button, pattern=rf"^{SCREEN_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(quote_handlers.on_quote_button, pattern=rf"^{QUOTE_PREFIX}:")
    )
    # First, in a group of their own: a typed message that answers a facilitator's
    # resolution card (the others go on to the handlers below), and any command, which
    # forgets such a pending question (/cancel stops there).
    typed = new_private & filters.TEXT
    application.add_handler(
        MessageHandler(typed & ~filters.COMMAND, room_handlers.on_awaited_text), group=-1
    )
    application.add_handler(
        MessageHandler(typed & filters.COMMAND, room_handlers.on_any_command), group=-1
    )
    application.add_handler(
        CallbackQueryHandler(organiser.on_organiser_button, pattern=rf"^{ORGANISER_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(organiser.on_timezone_button, pattern=rf"^{TIMEZONE_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(mailings.on_mailing_button, pattern=rf"^{MAILING_PREFIX}:")
    )
    application.add_handler(
        ChatMemberHandler(common.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(CallbackQueryHandler(common.on_unknown_button))
    application.add_handler(
        MessageHandler(new_private & filters.COMMAND, common.on_unknown_command)
    )
    application.add_handler(
        MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, common.on_edited_message)
    )
    application.add_handler(
        MessageHandler(private & filters.UpdateType.MESSAGE & filters.TEXT, participant.on_text)
    )
    application.add_handler(
        MessageHandler(private & filters.UpdateType.MESSAGE, common.on_unsupported_message)
    )
    application.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & filters.COMMAND,
            common.on_group_message,
        )
    )
    application.add_error_handler(common.on_error)


async def open_services(application: Application) -> None:
    """Open the database (migrating it), build the service, publish the command menus."""
    state: Runtime = application.bot_data[RUNTIME_KEY]
    if state.database is not None:
        return
    state.database = await Database.open(state.settings.database)
    await updates.prune(state.database, before=utc_now() - jobs.UPDATE_LEDGER_RETENTION)
    state.service_ = WorkshopService(
        state.database, state.engine, organisers=state.settings.organisers
    )
    state.agora_ = AgoraService(
        state.database, state.engine, max_text_length=state.settings.max_answer_length
    )
    state.facilitation_ = FacilitationService(
        state.database, state.engine, min_group=state.settings.min_group
    )
    state.caucus_ = CaucusService(state.database, state.facilitation_)
    state.review_ = ReviewService(state.database, state.facilitation_)
    state.quotes_ = QuoteService(state.facilitation_)
    state.resolutions_ = ResolutionService(
        state.database,
        state.facilitation_,
        zone=state.settings.timezone,
        categories=tuple(c.id for c in state.journey.categories),
        max_text_length=state.settings.max_answer_length,
    )
    state.room_ = RoomService(state.database, state.engine, state.facilitation_, state.resolutions_)
    state.screens_ = ScreenService(
        state.database, state.engine, state.facilitation_, state.room_, clock=lambda: state.clock()
    )
    state.outbox_ = OutboxService(
        state.database,
        state.engine,
        zone=state.settings.timezone,
        quiet=state.settings.quiet_hours,
        clock=lambda: state.clock(),
        worker=state.worker,
    )
    state.organising_ = OrganiserService(
        state.database,
        organisers=state.settings.organisers,
        zone=state.settings.timezone,
        clock=lambda: state.clock(),
    )
    state.creation_ = CreationQuestions(state.organising_)
    state.audit_ = AuditService(state.database, state.organising_, clock=lambda: state.clock())
    state.retention_ = RetentionService(
        state.database, days=state.settings.retention_days, clock=lambda: state.clock()
    )
    state.mailings_ = MailingService(
        state.database, state.outbox_, zone=state.settings.timezone, clock=lambda: state.clock()
    )
    state.decantation_ = DecantationService.build(
        state.database,
        state.engine,
        zone=state.settings.timezone,
        min_group=state.settings.min_group,
        clock=lambda: state.clock(),
    )
    if moved := await state.service_.settle_retired():
        log.info("%d participants moved on from questions the journey file retired", moved)
    doubled = await state.outbox_.recover()
    if doubled:
        log.warning("%d messages were in flight when the bot stopped: sending them again", doubled)
    state.sender = Outbox(state, application.bot)
    state.wake_outbox = state.sender.wake
    await publish_default_commands(
        application.bot, default_language=state.settings.default_language
    )
    if isinstance(application.update_processor, PerChatUpdateProcessor):
        # One chat's updates one after the other across every worker on the database.
        application.update_processor.turn = state.database.turn
    if state.settings.web_listen is not None:
        state.web = await WebScreen.start(state, application.bot)
    if isinstance(application.update_processor, PerChatUpdateProcessor):
        application.update_processor.after_each = after_each_update(application, state)
    log.info("coopbot ready on %s", shown_target(state.settings.database))


def after_each_update(application: Application, state: Runtime) -> Callable[[], None]:
    """What every update, however it ended, sets going: the open pages look again, and,
    on a database other workers share, those open on them too (told at most once per
    `hub.DEBOUNCE` by an `Announcer`, closed by `close_services`)."""
    nudges: list[Callable[[], None]] = []
    if state.web is not None:
        nudges.append(state.web.hub.nudge)
    if state.database is not None and state.database.shared:
        announcer = Announcer(state.database.announce)
        application.bot_data[ANNOUNCER_KEY] = announcer
        nudges.append(announcer.changed)

    def after_each() -> None:
        for nudge in nudges:
            nudge()

    return after_each


async def close_services(application: Application) -> None:
    state: Runtime = application.bot_data[RUNTIME_KEY]
    if isinstance(application.update_processor, PerChatUpdateProcessor):
        application.update_processor.after_each = lambda: None
    announcer: Announcer | None = application.bot_data.pop(ANNOUNCER_KEY, None)
    if announcer is not None:
        await announcer.close()
    if state.web is not None:
        await state.web.stop()
        state.web = None
    if state.sender is not None:
        await state.sender.stop()
        state.sender = None
        state.wake_outbox = lambda: None
    if state.outbox_ is not None and state.database is not None and state.database.shared:
        try:  # the other workers stop counting this one, and take what it left in flight
            await state.outbox_.leave()
        except DatabaseError as error:
            log.warning("could not tell the other workers this one stops: %s", error)
    if isinstance(application.update_processor, PerChatUpdateProcessor):
        application.update_processor.turn = lambda key: nullcontext()
    if state.database is not None:
        await state.database.close()
        state.database = None
        state.service_ = state.agora_ = state.facilitation_ = None
        state.caucus_ = None
        state.review_ = state.quotes_ = None
        state.room_ = state.resolutions_ = None
        state.screens_ = None
        state.outbox_ = None
        state.organising_ = state.creation_ = None
        state.audit_ = state.retention_ = None


def is_handling_updates(application: Application) -> bool:
    """Whether the bot has updates queued or in hand, or a room's control edit due (lets a
    rehearsal wait for quiet)."""
    processor = application.update_processor
    in_hand = (
        processor.in_hand
        if isinstance(processor, PerChatUpdateProcessor)
        else processor.current_concurrent_updates
    )
    state: Runtime = application.bot_data[RUNTIME_KEY]
    due = any(pace.busy for pace in state.rooms.values())
    sending = state.sender is not None and state.sender.busy
    return not application.update_queue.empty() or in_hand > 0 or due or sending


@asynccontextmanager
async def running(
    application: Application,
) -> AsyncIterator[Application]:
    """Run the bot polling in the background for the length of the block (tests, rehearsal)."""
    async with application:
        await open_services(application)
        try:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(
                timeout=1,
                allowed_updates=Update.ALL_TYPES,
            )
            try:
                yield application
            finally:
                await application.updater.stop()
                await application.stop()
        finally:
            await close_services(application)


@asynccontextmanager
async def running_webhook(
    application: Application, *, grace: float = 10.0
) -> AsyncIterator[WebhookServer]:
    """Run the bot receiving updates by webhook for the length of the block: listen on
    `settings.webhook_listen`, register `settings.webhook_url`, and on leaving stop
    accepting, give the updates in hand `grace` seconds, then stop. The webhook stays
    registered: other workers may still be serving it."""
    settings: Settings = application.bot_data[RUNTIME_KEY].settings
    if settings.webhook_url is None or settings.webhook_listen is None:
        raise ValueError("webhook mode needs settings.webhook_url and settings.webhook_listen")
    secret = webhook_secret(settings)
    async with application:
        await open_services(application)
        try:
            await application.start()
            try:
                server = await WebhookServer.start(
                    application,
                    listen=settings.webhook_listen,
                    secret=secret,
                    url=settings.webhook_url,
                )
                try:
                    await application.bot.set_webhook(
                        url=settings.webhook_url,
                        secret_token=secret,
                        allowed_updates=Update.ALL_TYPES,
                        max_connections=MAX_CONNECTIONS,
                    )
                    yield server
                finally:
                    await server.stop(grace)
            finally:
                await application.stop()
        finally:
            await close_services(application)
