"""The live screen's web server, in the bot's own process (`COOPBOT_WEB_LISTEN`).

`open_services` starts it and `close_services` stops it (`bot.app`); `Runtime.web` is the
running `WebScreen`. Its hub (`bot.web.hub`) also looks again when another worker
sharing the database says it handled something (`Database.listen`). Its routes:

- `GET /s/{token}`: the page of the workshop whose live link it is; `GET
  /s/{token}/events`: its server-sent events (the current page at once, then one event
  per change, a comment every `KEEPALIVE` s so that proxies keep it open). An unknown or
  revoked token gets a bare 404, nothing else.
- `GET /app/{workshop_id}`: the page's shell for a Telegram Mini App, which shows nothing
  until `POST /app/{workshop_id}/ticket` has checked the init data Telegram signed
  (`bot.web.initdata`, sent as the request's body) and that its user facilitates the
  workshop (403 otherwise), and answered with a ticket: a random word, good once and for
  `TICKET_LIFE`, that opens `GET /app/{workshop_id}/events?ticket=…`. Tickets are kept in
  the database (`storage.screens`), so that behind a load balancer the stream opens on
  whichever worker it reaches, and still once. The init data (the facilitator's id and
  names, usable for a day) never travels in an address, which proxies log.
- `GET /static/…`: the page's own script and style sheet; no other asset, no CDN.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from telegram import Bot

from bot.web import page
from bot.web.hub import Rendered, ScreenHub, Watcher
from bot.web.initdata import checked_user_id
from flows.screen import Snapshot
from locales import normalise_language
from storage import screens as stored_screens

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

KEEPALIVE = 15.0  # seconds between two comments on a quiet event stream
TICKET_LIFE = timedelta(seconds=60)  # how long a Mini App's ticket opens its stream, once
INIT_DATA_LIMIT = 8192  # bytes: Telegram's init data is well under
STATIC_DIR = Path(__file__).resolve().parent / "static"
TOKEN = r"[A-Za-z0-9_-]{16,64}"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
        " frame-ancestors 'self' https://web.telegram.org"
    ),
}


def not_found() -> web.HTTPNotFound:
    """The one answer to a wrong or revoked link: nothing about why."""
    return web.HTTPNotFound(text="Not found", headers={"Cache-Control": "no-store"})


def event(rendered: Rendered) -> bytes:
    data = json.dumps(
        {"version": rendered.version, "phase": rendered.phase, "html": rendered.html},
        ensure_ascii=False,
    )
    return f"id: {rendered.version}\ndata: {data}\n\n".encode()


class ListenError(RuntimeError):
    """The web server cannot listen where `COOPBOT_WEB_LISTEN` says."""


class WebScreen:
    """The running web server and its hub."""

    def __init__(self, state: Runtime, bot: Bot) -> None:
        self.state = state
        self.bot = bot
        self.base_url = ""
        self.public_url = ""
        screens = state.screens
        self.hub = ScreenHub(
            screens.snapshot, self.render, screens.live_tokens, forget=screens.forget
        )
        self._runner: web.AppRunner | None = None
        self._unlisten: Callable[[], None] = lambda: None

    @classmethod
    async def start(cls, state: Runtime, bot: Bot) -> WebScreen:
        """Listen on `settings.web_listen` (port 0: a free one, read back); `ListenError`
        when that cannot be."""
        assert state.settings.web_listen is not None
        host, port = state.settings.web_listen
        server = cls(state, bot)
        app = web.Application()
        app.add_routes(
            [
                web.get(f"/s/{{token:{TOKEN}}}", server.on_page),
                web.get(f"/s/{{token:{TOKEN}}}/events", server.on_events),
                web.get(r"/app/{workshop_id:\d{1,18}}", server.on_app),
                web.post(r"/app/{workshop_id:\d{1,18}}/ticket", server.on_app_ticket),
                web.get(r"/app/{workshop_id:\d{1,18}}/events", server.on_app_events),
                web.static("/static", STATIC_DIR, show_index=False),
            ]
        )
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:  # the port taken, not ours to take, no such address
            await runner.cleanup()
            raise ListenError(f"cannot listen on {host}:{port} ({error.strerror})") from error
        except BaseException:
            await runner.cleanup()
            raise
        server._runner = runner
        bound = runner.addresses[0]
        shown_host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        server.base_url = f"http://{shown_host}:{bound[1]}"
        server.public_url = state.settings.public_url or server.base_url
        server.hub.start()
        # The votes other workers handled make the pages look again too.
        server._unlisten = await state.screens.db.listen(server.hub.nudge)
        log.info("live screen served on %s", server.base_url)
        return server

    async def stop(self) -> None:
        """End every event stream, then stop listening."""
        self._unlisten()
        await self.hub.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def screen_url(self, token: str) -> str:
        return f"{self.public_url}/s/{token}"

    def app_url(self, workshop_id: int) -> str | None:
        """The Mini App's address, when the public address is https (Telegram's rule)."""
        if not self.public_url.startswith("https://"):
            return None
        return f"{self.public_url}/app/{workshop_id}"

    def render(self, snapshot: Snapshot, language: str) -> str:
        return page.main_html(self.state.journey, snapshot, language, bot=self.bot.username)

    # -- the routes -----------------------------------------------------------------------

    async def on_page(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        link = await self.state.screens.by_token(token)
        rendered = await self.hub.now(link.workshop_id, link.language) if link else None
        if link is None or rendered is None:
            raise not_found()
        body = page.page_html(
            inner=rendered.html,
            version=rendered.version,
            phase=rendered.phase,
            language=link.language,
            title=rendered.title,
            events=f"/s/{token}/events",
        )
        return web.Response(text=body, content_type="text/html", headers=HEADERS)

    async def on_events(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        link = await self.state.screens.by_token(token)
        if link is None:
            raise not_found()
        return await self._stream(request, self.hub.watch(link.workshop_id, link.language, token))

    async def on_app(self, request: web.Request) -> web.Response:
        """The Mini App's shell: the workshop's page is sent only once the init data holds."""
        workshop_id = int(request.match_info["workshop_id"])
        language = self.state.settings.default_language
        body = page.page_html(
            inner=page.waiting_html(language),
            version=0,
            phase="",
            language=language,
            title="coopbot",
            app_events=f"/app/{workshop_id}/events",
        )
        return web.Response(text=body, content_type="text/html", headers=HEADERS)

    async def on_app_ticket(self, request: web.Request) -> web.Response:
        """The Mini App's init data, checked: a ticket to its workshop's event stream."""
        workshop_id = int(request.match_info["workshop_id"])
        raw = await request.content.read(INIT_DATA_LIMIT + 1)
        init_data = raw.decode("utf-8", "replace") if len(raw) <= INIT_DATA_LIMIT else ""
        user_id = checked_user_id(init_data, self.bot.token, now=datetime.now(UTC))
        screens = self.state.screens
        if user_id is None or not await screens.may_watch(user_id=user_id, workshop_id=workshop_id):
            raise web.HTTPForbidden(text="Forbidden", headers={"Cache-Control": "no-store"})
        stored = await self.state.service.preferred_language(user_id=user_id)
        language = normalise_language(stored, default=self.state.settings.default_language)
        ticket = secrets.token_urlsafe(24)
        await stored_screens.issue_ticket(
            screens.db,
            ticket=ticket,
            workshop_id=workshop_id,
            language=language,
            now=self.state.clock(),
            life=TICKET_LIFE,
        )
        return web.json_response({"ticket": ticket}, headers={"Cache-Control": "no-store"})

    async def on_app_events(self, request: web.Request) -> web.StreamResponse:
        """The stream a ticket opens, once (a reconnecting page asks for a new one)."""
        workshop_id = int(request.match_info["workshop_id"])
        language = await stored_screens.take_ticket(
            self.state.screens.db,
            ticket=request.query.get("ticket", ""),
            workshop_id=workshop_id,
            now=self.state.clock(),
        )
        if language is None:
            raise web.HTTPForbidden(text="Forbidden", headers={"Cache-Control": "no-store"})
        return await self._stream(request, self.hub.watch(workshop_id, language, None))

    async def _stream(self, request: web.Request, watcher: Watcher) -> web.StreamResponse:
        """Server-sent events: the page now, then each change, until the page goes, its
        link is revoked, or the server stops."""
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # nginx: pass each event on at once
            }
        )
        try:
            first = await self.hub.now(watcher.workshop_id, watcher.language)
            if first is None or watcher.closed:
                raise not_found()
            await response.prepare(request)
            await response.write(b"retry: 2000\n\n" + event(first))
            watcher.sent(first)
            while not watcher.closed:
                rendered = await watcher.next(KEEPALIVE)
                if watcher.closed:
                    break
                await response.write(event(rendered) if rendered else b": keep-alive\n\n")
        except ConnectionError as error:  # the page went away
            log.debug("event stream ended: %s", error)
        finally:
            self.hub.unwatch(watcher)
        return response
