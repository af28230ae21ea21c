"""A strict Telegram Bot API emulator for end-to-end tests, rehearsals and benchmarks.

    async with BotApiEmulator() as emulator:
        application = (
            ApplicationBuilder().token(emulator.token)
            .base_url(emulator.base_url).base_file_url(emulator.base_file_url).build()
        )
        ...
        await emulator.user(1001).send("/start")
        await emulator.wait_idle()

Test infrastructure, kept out of the product packages: the bot imports it only where
the offline rehearsal starts, and its HTTP server, aiohttp, comes with the extra
`coopbot[rehearsal]` (which `dev` includes). See README.md next to this file for what it
checks and what it does not emulate.
"""

from tgemu.errors import ApiError
from tgemu.models import ApiCall, SentMessage, UploadedFile
from tgemu.server import BotApiEmulator
from tgemu.users import EmulatedUser

__all__ = ["ApiCall", "ApiError", "BotApiEmulator", "EmulatedUser", "SentMessage", "UploadedFile"]
