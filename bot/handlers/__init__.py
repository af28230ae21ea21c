"""Handler registration: which update goes to which thin handler."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.handlers import agora, common, facilitator, participant, phases, privacy, syntheses
from bot.keyboards import JOURNEY_PREFIX, LANGUAGE_PREFIX, MODERATION_PREFIX, VOTE_PREFIX


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
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
        "statements": phases.on_statements,
        "withdraw": phases.on_withdraw,
        "approve": phases.on_approve,
        "reject": phases.on_reject,
        "synthesis": syntheses.on_synthesis,
        "export": syntheses.on_export,
        "share": syntheses.on_share,
        "help": common.on_help,
        "language": common.on_language,
        "whoami": common.on_whoami,
        "mydata": privacy.on_mydata,
        "forget": privacy.on_forget,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=new_private))
    application.add_handler(
        CallbackQueryHandler(participant.on_journey_button, pattern=rf"^{JOURNEY_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(common.on_language_button, pattern=rf"^{LANGUAGE_PREFIX}:")
    )
    application.add_handler(CallbackQueryHandler(agora.on_vote_button, pattern=rf"^{VOTE_PREFIX}:"))
    application.add_handler(
        CallbackQueryHandler(phases.on_moderation_button, pattern=rf"^{MODERATION_PREFIX}:")
    )
    application.add_handler(
        CallbackQueryHandler(privacy.on_forget_button, pattern=rf"^{privacy.FORGET_PREFIX}:")
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
