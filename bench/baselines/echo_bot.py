"""The ceiling: python-telegram-bot's `echobot.py`, with a button answered as its
`inlinekeyboard.py` answers one.

A text is echoed back; a button press is answered (`query.answer()`) and its message
edited to say which button it was, keeping the buttons so that they can be pressed again.
One reply per update, the least any bot can do. Run by `bench.load` as a process of its
own, against the emulator:

    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT/bot \\
        .venv/bin/python -m bench.baselines.echo_bot
"""

from __future__ import annotations

import logging
import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

logging.basicConfig(
    format="%(asctime)s - %(name)s - %(levelname)s - %(message)s", level=logging.INFO
)
logging.getLogger("httpx").setLevel(logging.WARNING)

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton(str(value), callback_data=str(value)) for value in range(1, 6)]]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet, with the buttons."""
    assert update.message is not None
    await update.message.reply_text("Hi! Press a button or write something.", reply_markup=KEYBOARD)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the user's message."""
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and say which button it was; the query's id keeps each edit new."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(
        text=f"Selected option: {query.data} ({query.id})", reply_markup=KEYBOARD
    )


def main() -> None:
    """Run the bot until interrupted."""
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(CallbackQueryHandler(button))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
