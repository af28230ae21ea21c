"""A strict Telegram Bot API emulator for end-to-end tests, rehearsals and benchmarks.

    async with BotApiEmulator() as emulator:
        application = (
            ApplicationBuilder().token(emulator.token)
            .base_url(emulator.base_url).base_file_url(emulator.base_file_url).build()
        )
        ...
        await emulator.user(1001).send("/start")
        await emulator.wait_idle()

See README.md next to this file for what it checks and what it does not emulate.
"""

from bot.emulator.errors import ApiError
from bot.emulator.models import ApiCall, SentMessage, UploadedFile
from bot.emulator.server import BotApiEmulator
from bot.emulator.users import EmulatedUser

__all__ = ["ApiCall", "ApiError", "BotApiEmulator", "EmulatedUser", "SentMessage", "UploadedFile"]
