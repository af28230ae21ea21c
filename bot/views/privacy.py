"""People's rights over their data, as they read them: the copy of everything stored, and
the erasure asked for and confirmed."""

from __future__ import annotations

import json

from telegram import InputFile
from telegram.constants import ParseMode

from bot.keyboards import forget_keyboard
from bot.menus import withdraw_role_commands
from bot.views.chat import Chat


async def send_personal_data(chat: Chat, data: dict[str, object]) -> None:
    """/mydata: everything stored about the user, as a JSON file."""
    _ = chat.gettext
    document = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await chat.bot.send_document(
        chat.chat_id,
        InputFile(document, filename="coopbot-my-data.json"),
        caption=_("Everything coopbot stores about you. /forget erases it."),
        parse_mode=ParseMode.HTML,
    )


async def ask_to_forget(chat: Chat) -> None:
    """/forget: a confirmation first, since it cannot be undone."""
    _ = chat.gettext
    await chat.send(
        _(
            "This erases your participation in every workshop, all your answers and your "
            "preferences, for good. Results already shared as anonymous totals are not "
            "affected. Erase everything?"
        ),
        reply_markup=forget_keyboard(chat.language),
    )


async def show_kept(chat: Chat) -> None:
    await chat.note()
    await chat.rewrite_pressed(chat.gettext("Nothing was erased."))


async def erase_everything(chat: Chat) -> None:
    """Erase the user's data and roles; their live question loses its buttons first, while
    it is still known, and their menu goes back to a participant's."""
    await chat.note()
    current = await chat.runtime.service.current(user_id=chat.user_id)
    if current is not None and current[0].prompt_message_id is not None:
        await chat.set_buttons(current[0].prompt_message_id, None)
    await chat.runtime.service.erase(user_id=chat.user_id)
    await withdraw_role_commands(chat.bot, chat_id=chat.user_id)
    await chat.rewrite_pressed(
        chat.gettext("Done: everything coopbot stored about you has been erased.")
    )
