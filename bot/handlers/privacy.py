"""People's rights over their data: /mydata sends it all, /forget erases it all."""

from __future__ import annotations

import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.handlers.replies import (
    answer_query,
    edit_query_message,
    gettext_for,
    remove_buttons,
    user_language,
)
from bot.menus import withdraw_role_commands
from bot.runtime import runtime

FORGET_PREFIX = "forget"


async def on_mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mydata: everything stored about the user, as a JSON file."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    _ = gettext_for(await user_language(update, context))
    data = await runtime(context).service.personal_data(user_id=user.id)
    document = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await message.reply_document(
        InputFile(document, filename="coopbot-my-data.json"),
        caption=_("Everything coopbot stores about you. /forget erases it."),
        parse_mode=ParseMode.HTML,
    )


async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: ask for confirmation before erasing."""
    message = update.effective_message
    assert message is not None
    _ = gettext_for(await user_language(update, context))
    await message.reply_text(
        _(
            "This erases your participation in every workshop, all your answers and your "
            "preferences, for good. Results already shared as anonymous totals are not "
            "affected. Erase everything?"
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(_("Erase everything"), callback_data=f"{FORGET_PREFIX}:yes")],
                [InlineKeyboardButton(_("Cancel"), callback_data=f"{FORGET_PREFIX}:no")],
            ]
        ),
        parse_mode=ParseMode.HTML,
    )


async def on_forget_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirmation of /forget."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    _ = gettext_for(await user_language(update, context))
    await answer_query(query)
    if query.data != f"{FORGET_PREFIX}:yes":
        await edit_query_message(query, _("Nothing was erased."))
        return
    current = await runtime(context).service.current(user_id=user.id)
    if current is not None and current[0].prompt_message_id is not None:
        await remove_buttons(context, user.id, current[0].prompt_message_id)
    await runtime(context).service.erase(user_id=user.id)
    await withdraw_role_commands(context.bot, chat_id=user.id)
    await edit_query_message(query, _("Done: everything coopbot stored about you has been erased."))
