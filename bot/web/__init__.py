"""The live screen's web side: an aiohttp server in the bot's own process (`server.py`),
the hub that keeps the open pages up to date (`hub.py`), the page itself (`page.py`,
`static/`) and the check of a Telegram Mini App's signed init data (`initdata.py`)."""
