"""What a person is told when their update met a fault: plainly, whether what they sent was
saved, and what to do now."""

from __future__ import annotations

from bot.faults import Fault
from bot.views.chat import Chat
from bot.views.common import error_text
from reports.text import translator


def not_saved_text(language: str) -> str:
    """The database failed before the commit: nothing of the update was kept."""
    _ = translator(language)
    return _(
        "⚠️ Your answer was NOT saved: I could not store it just now. Please send it again "
        "in a moment (or press the button again); the question you were at is still open."
    )


def saved_text(language: str) -> str:
    """The update was committed, then something failed (most often, the reply)."""
    _ = translator(language)
    return _(
        "Your answer is saved, but I could not show you what comes next. /resume shows the "
        "question you are at."
    )


async def show_fault(chat: Chat, fault: Fault, *, saved: bool | None) -> None:
    """Tell the person about a fault that stopped their update: not saved (a database
    fault before the commit), saved (committed before the failure), or, when that cannot
    be known, that what they saw confirmed is saved."""
    if saved is False and fault.kind.storage:
        await chat.note()  # the pressed button stops spinning; it is still live
        await chat.send(not_saved_text(chat.language))
    elif saved:
        await chat.send(saved_text(chat.language))
    else:
        await chat.note()
        await chat.send(error_text(chat.language))
