"""The person a view writes to: their chat, their language, the button they pressed.

A `Chat` made from an update answers that update: a failure to send goes up to the error
handler, as for any reply. A `Chat` made for a participant of a broadcast sends through
`bot.delivery`: a blocked chat or a timeout there costs that person their message, never
the others theirs, and `outcome` says how it went.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.delivery import Courier, Delivered, Status, Tally
from bot.runtime import Runtime, runtime
from locales import normalise_language
from reports.text import ngettext_for, translator

log = logging.getLogger(__name__)


@dataclass
class Chat:
    runtime: Runtime
    bot: Bot
    chat_id: int
    user_id: int
    language: str
    query: CallbackQuery | None = None
    message: Message | None = None
    courier: Courier | None = None  # set: a broadcast, sent under the delivery policy
    outcome: Status | None = None  # a broadcast's worst outcome so far (None: nothing sent)
    error: TelegramError | None = None  # what Telegram or the network answered to that

    @property
    def gettext(self) -> Callable[[str], str]:
        return translator(self.language)

    @property
    def ngettext(self) -> Callable[[str, str, int], str]:
        return ngettext_for(self.language)

    def speaking(self, language: str) -> Chat:
        """The same chat, written to in another language (after a switch of language)."""
        return replace(self, language=language)

    def delivering(self) -> Chat:
        """The same chat, sent to under the delivery policy: for a reply of many messages
        (a synthesis and its charts) that should not stop at the first that fails."""
        if self.courier is not None:
            return self
        return replace(self, courier=Courier(self.bot, faults=self.runtime.faults))

    async def send(
        self, text: str, *, reply_markup: InlineKeyboardMarkup | None = None
    ) -> Message | None:
        """An HTML message in this chat (None: a broadcast could not deliver it)."""
        if self.courier is None:
            return await self.bot.send_message(
                self.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=reply_markup
            )
        return self._noted(
            await self.courier.message(self.chat_id, text, reply_markup=reply_markup)
        )

    async def send_photo(self, photo: bytes, caption: str) -> None:
        if self.courier is None:
            await self.bot.send_photo(
                self.chat_id, photo, caption=caption, parse_mode=ParseMode.HTML
            )
            return
        self._noted(await self.courier.photo(self.chat_id, photo, caption=caption))

    async def send_document(self, data: bytes, filename: str, caption: str) -> Message | None:
        """A file with an HTML caption (a session's calendar file); None: not delivered."""
        if self.courier is None:
            return await self.bot.send_document(
                self.chat_id, data, filename=filename, caption=caption, parse_mode=ParseMode.HTML
            )
        return self._noted(
            await self.courier.document(self.chat_id, data, filename=filename, caption=caption)
        )

    async def edit(
        self, message_id: int, text: str, *, reply_markup: InlineKeyboardMarkup | None = None
    ) -> bool:
        """Rewrite a message (a question turned into the next one, a statement once voted
        on). False when it is not shown as asked: deleted by the user, or too old to edit
        (the caller may send it instead); a message already reading so counts as shown."""
        if self.courier is not None:
            delivered = await self.courier.edit_text(
                self.chat_id, message_id, text, reply_markup=reply_markup
            )
            return delivered.status is Status.SENT
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=self.chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=reply_markup,
            )
        except BadRequest as error:  # already edited (a redelivery), or deleted by the user
            log.debug("message %s not edited: %s", message_id, error)
            return "not modified" in error.message.lower()
        return True

    async def show_in_place(
        self,
        message_id: int | None,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None,
        fresh: bool = False,
    ) -> int | None:
        """Show `text` on the one message that carries it (a participant's caucus or agora
        message): edited in place, sent the first time, or (`fresh`) sent again further
        down, the old one losing its buttons. The id of the message showing it now, or
        None when it could not be sent."""
        if message_id is not None and not fresh:
            await self.edit(message_id, text, reply_markup=reply_markup)
            return message_id
        sent = await self.send(text, reply_markup=reply_markup)
        if sent is None:
            return None
        if message_id is not None:
            await self.set_buttons(message_id, None)
        return sent.message_id

    async def set_buttons(self, message_id: int, markup: InlineKeyboardMarkup | None) -> None:
        """Change (or, with None, take off) a message's buttons."""
        if self.courier is not None:
            await self.courier.edit_buttons(self.chat_id, message_id, markup)
            return
        try:
            await self.bot.edit_message_reply_markup(self.chat_id, message_id, reply_markup=markup)
        except BadRequest as error:  # already as asked, or deleted by the user
            log.debug("buttons of %s kept as they were: %s", message_id, error)

    async def note(self, text: str | None = None) -> None:
        """Answer the pressed button (a redelivered press was answered already: fine)."""
        if self.query is None:
            return
        try:
            await self.query.answer(text)
        except BadRequest as error:
            log.debug("callback query %s not answered: %s", self.query.id, error)

    def pressed_message_id(self) -> int | None:
        if self.query is None or self.query.message is None:
            return None
        return self.query.message.message_id

    def pressed_has_buttons(self) -> bool:
        message = self.query.message if self.query else None
        return not (isinstance(message, Message) and message.reply_markup is None)

    async def close_pressed(self) -> None:
        """Take the buttons off the pressed message (if it still shows any)."""
        pressed = self.pressed_message_id()
        if pressed is not None and self.pressed_has_buttons():
            await self.set_buttons(pressed, None)

    async def rewrite_pressed(self, text: str) -> None:
        """Replace the pressed message's text and buttons. A message whose buttons are gone
        was answered before (a double tap, a redelivery): it stays as it is."""
        pressed = self.pressed_message_id()
        if pressed is not None and self.pressed_has_buttons():
            await self.edit(pressed, text)

    def counted_in(self, tally: Tally) -> None:
        """Add how this broadcast went for this person (if anything was sent) to `tally`."""
        if self.outcome is not None:
            tally.count(Delivered(self.chat_id, self.outcome))

    def _noted(self, delivered: Delivered[Message]) -> Message | None:
        order = (Status.SENT, Status.FAILED, Status.UNREACHABLE)
        if self.outcome is None or order.index(delivered.status) > order.index(self.outcome):
            self.outcome = delivered.status
            self.error = delivered.error
        return delivered.result


async def user_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The user's chosen language, else their Telegram app's, else the default."""
    state = runtime(context)
    user = update.effective_user
    if user is None:
        return state.settings.default_language
    stored = await state.service.preferred_language(user_id=user.id)
    return stored or normalise_language(user.language_code, default=state.settings.default_language)


async def chat_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Chat:
    """The chat an update comes from, to answer it."""
    user, chat = update.effective_user, update.effective_chat
    assert chat is not None
    return Chat(
        runtime=runtime(context),
        bot=context.bot,
        chat_id=chat.id,
        user_id=user.id if user is not None else chat.id,
        language=await user_language(update, context),
        query=update.callback_query,
        message=update.effective_message,
    )


def broadcast_chat(state: Runtime, bot: Bot, user_id: int, language: str | None = None) -> Chat:
    """A participant's or facilitator's private chat, written to unasked (announcements,
    pushes, moderation): under the delivery policy."""
    return Chat(
        runtime=state,
        bot=bot,
        chat_id=user_id,
        user_id=user_id,
        language=language or state.settings.default_language,
        courier=Courier(bot, faults=state.faults),
    )
