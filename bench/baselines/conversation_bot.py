"""The nine moments written the way python-telegram-bot's examples write a questionnaire.

As `conversationbot.py` and `persistentconversationbot.py` do: one `ConversationHandler`,
one state per question, inline buttons for the scales and choices (answered, then the
message edited into the next question, as `inlinekeyboard2.py` does), text for the
reflections, the answers in `context.user_data`, and `PicklePersistence(filepath=...)`
with `persistent=True`. PicklePersistence writes its file every `update_interval` (a
minute): with `BENCH_SAVE_EACH_ANSWER=1` the bot saves it after each answer instead, as a
bot must that loses no answer in a crash. The questions are plain strings in a JSON file (a list of
`{"kind": "scale" | "choice" | "text", "text": ..., "options": [...]}`), which
`bench.load` writes from coopbot's own journey. Run by `bench.load` as a process of its
own, against the emulator:

    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT/bot \\
        BENCH_PROMPTS=prompts.json BENCH_PERSISTENCE=conversation.pickle \\
        .venv/bin/python -m bench.baselines.conversation_bot
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)

logging.basicConfig(
    format="%(asctime)s - %(name)s - %(levelname)s - %(message)s", level=logging.INFO
)
logging.getLogger("httpx").setLevel(logging.WARNING)

PROMPTS: list[dict[str, Any]] = json.loads(Path(os.environ["BENCH_PROMPTS"]).read_text())
THANKS = "Merci, c'est tout pour cette partie."
SAVE_EACH_ANSWER = os.environ.get("BENCH_SAVE_EACH_ANSWER") == "1"


async def kept(context: ContextTypes.DEFAULT_TYPE) -> None:
    """With `BENCH_SAVE_EACH_ANSWER`, write the answers to the file before replying."""
    if SAVE_EACH_ANSWER:
        await context.application.update_persistence()


def keyboard(prompt: dict[str, Any]) -> InlineKeyboardMarkup | None:
    """The buttons of a scale (1 to 5) or a choice (its options); none for a text."""
    if prompt["kind"] == "scale":
        labels = [str(value) for value in range(1, 6)]
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=label) for label in labels]]
        )
    if prompt["kind"] == "choice":
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=str(number))]
                for number, label in enumerate(prompt["options"])
            ]
        )
    return None


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Ask the first question."""
    assert update.message is not None
    await update.message.reply_text(PROMPTS[0]["text"], reply_markup=keyboard(PROMPTS[0]))
    return 0


def answered(number: int) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, object]]:
    """The handlers of question `number`: keep the answer, ask the next question."""

    async def by_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None and context.user_data is not None
        await query.answer()
        context.user_data[f"q{number}"] = query.data
        await kept(context)
        if number + 1 == len(PROMPTS):
            await query.edit_message_text(THANKS)
            return ConversationHandler.END
        following = PROMPTS[number + 1]
        await query.edit_message_text(following["text"], reply_markup=keyboard(following))
        return number + 1

    async def by_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None and context.user_data is not None
        context.user_data[f"q{number}"] = update.message.text
        await kept(context)
        if number + 1 == len(PROMPTS):
            await update.message.reply_text(THANKS)
            return ConversationHandler.END
        following = PROMPTS[number + 1]
        await update.message.reply_text(following["text"], reply_markup=keyboard(following))
        return number + 1

    if PROMPTS[number]["kind"] == "text":
        return [MessageHandler(filters.TEXT & ~filters.COMMAND, by_text)]
    return [CallbackQueryHandler(by_button)]


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stop the questionnaire."""
    assert update.message is not None
    await update.message.reply_text("Bye!")
    return ConversationHandler.END


def main() -> None:
    """Run the bot until interrupted."""
    persistence = PicklePersistence(filepath=os.environ["BENCH_PERSISTENCE"])
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .persistence(persistence)
        .build()
    )
    conversation = ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={number: answered(number) for number in range(len(PROMPTS))},
        fallbacks=[CommandHandler("cancel", cancel)],
        name="moments",
        persistent=True,
    )
    application.add_handler(conversation)
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
