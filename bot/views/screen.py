"""`/screen`: the live screen's secret address for a facilitator, its QR code and its
buttons (a new link, revoke, the page as a Mini App), and what those buttons did."""

from __future__ import annotations

from bot.menus import spoken
from bot.screen_keyboards import screen_keyboard
from bot.views.board import qr_png
from bot.views.chat import Chat
from flows.screen import LinkChange
from reports.text import escape, translator
from storage.models import ScreenLink


def link_text(title: str, url: str, language: str, *, renewed: bool) -> str:
    """The message that carries the address (the buttons go under it)."""
    gettext = translator(language)
    head = (
        gettext("📺 New live screen link for «{title}»: the previous address no longer opens.")
        if renewed
        else gettext("📺 Live screen of «{title}»")
    )
    return "\n".join(
        [
            head.format(title=escape(title)),
            "",
            gettext(
                "Open this address on the computer connected to the projector: it shows how "
                "many joined, where they are and, in the agora, the votes as they come in, "
                "never a name."
            ),
            escape(url),
            "",
            gettext(
                "Anyone with this address can see the page: revoke the link (Revoke button) "
                "when the workshop is over."
            ),
        ]
    )


async def show_link(chat: Chat, change: LinkChange, *, renewed: bool = False) -> None:
    """The page's address, its buttons, then its QR code (to open it from a phone)."""
    web = chat.runtime.web
    gettext = chat.gettext
    if web is None or change.link is None:
        await chat.send(
            gettext(
                "The live screen is not available: the bot runs without its web server "
                "(COOPBOT_WEB_LISTEN is not set)."
            )
        )
        return
    link: ScreenLink = change.link
    url = web.screen_url(link.token)
    keyboard = screen_keyboard(link.id, chat.language, app_url=web.app_url(change.workshop.id))
    await chat.send(
        link_text(change.workshop.title, url, chat.language, renewed=renewed),
        reply_markup=keyboard,
    )
    await chat.send_photo(
        qr_png(url),
        caption=gettext("Live screen of «{title}»").format(title=escape(change.workshop.title)),
    )


async def show_renewed(chat: Chat, change: LinkChange) -> None:
    """After "New link": the pressed message loses its buttons, the new address follows.
    Under an address replaced since (an old message), nothing changes: the one in use
    stays, and the press says where to find it."""
    if change.link is None:
        command = spoken("/screen", chat.language)
        await chat.note(
            chat.gettext(
                "This address was replaced already: {command} gives the one in use."
            ).format(command=command)
        )
        await chat.close_pressed()
        return
    await chat.note()
    await chat.close_pressed()
    await show_link(chat, change, renewed=True)


async def show_revoked(chat: Chat, change: LinkChange) -> None:
    """After "Revoke": said on the pressed message, which loses its buttons."""
    gettext = chat.gettext
    await chat.note()
    text = (
        gettext(
            "The link to the live screen of «{title}» is revoked: the address no longer "
            "opens and any screen showing it goes blank. {command} creates a new one."
        )
        if change.changed
        else gettext("The link to the live screen of «{title}» was already revoked.")
    )
    command = spoken("/screen", chat.language)
    await chat.rewrite_pressed(text.format(title=escape(change.workshop.title), command=command))
