"""Updates by webhook: a small aiohttp server that Telegram (through a TLS reverse proxy or a
load balancer) posts each update to, for one of several stateless workers.

Each POST must carry Telegram's `X-Telegram-Bot-Api-Secret-Token` header, compared in
constant time: missing or wrong, 403 and nothing happens. A valid update goes through the
application's update processor (so the per-chat order and the concurrency limit apply as
under polling), and the answer, 200, is given only once it has been handled: its effects
committed, or its failure told to the user and recorded as a fault, as under polling (a
failed update is not posted again). A worker that dies mid-update answers nothing, so
Telegram delivers the update again, possibly to another worker; the ledger of handled
updates makes that second delivery harmless.

The secret is COOPBOT_WEBHOOK_SECRET when set; otherwise it is derived from the bot token
(HMAC-SHA256 of a fixed label, keyed by the token), so that every worker of a bot agrees
on it with no more configuration, and nobody without the token can guess it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's default. Several workers share it: it bounds the updates in flight to the
# whole bot, each worker handling its share under its own concurrency limit.
MAX_CONNECTIONS = 40
_SECRET_LABEL = b"coopbot webhook secret token"


class WebhookListenError(RuntimeError):
    """The webhook server cannot listen where COOPBOT_WEBHOOK_LISTEN says."""


def webhook_secret(settings: Settings) -> str:
    """COOPBOT_WEBHOOK_SECRET, else 64 hex digits derived from the token (which Telegram's
    rule, 1-256 of A-Z a-z 0-9 _ -, allows)."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret
    if not settings.token:
        raise ValueError("a webhook secret is derived from the bot token, and there is none")
    return hmac.new(settings.token.encode(), _SECRET_LABEL, hashlib.sha256).hexdigest()


class WebhookServer:
    """This worker's end of the webhook: listens, checks, hands updates to the application."""

    def __init__(self, application: Application, *, secret: str, path: str = "/") -> None:
        self.application = application
        self.path = path or "/"
        self._secret = secret.encode()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._accepting = False
        self._in_hand: set[asyncio.Task[object]] = set()
        self.port: int | None = None

    @classmethod
    async def start(
        cls, application: Application, *, listen: tuple[str, int], secret: str, url: str
    ) -> WebhookServer:
        """Listen on `listen` (port 0: a free one, read back) for POSTs at `url`'s path;
        `WebhookListenError` when that cannot be."""
        server = cls(application, secret=secret, path=urlsplit(url).path)
        app = web.Application()
        app.router.add_post(server.path, server._on_post)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        host, port = listen
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as error:  # the port taken, not ours to take, no such address
            await runner.cleanup()
            raise WebhookListenError(
                f"cannot listen on {host}:{port} ({error.strerror})"
            ) from error
        server._runner, server._site = runner, site
        server.port = int(runner.addresses[0][1])
        server._accepting = True
        log.info("webhook server listening on %s:%d%s", host, server.port, server.path)
        return server

    @property
    def in_hand(self) -> int:
        """Updates received and not yet answered."""
        return len(self._in_hand)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, give the updates in hand `grace` seconds to finish, cancel the
        rest (unanswered, Telegram delivers them again), and close."""
        if self._runner is None:
            return
        self._accepting = False
        if self._site is not None:
            await self._site.stop()  # no new connections
        if self._in_hand:
            _, late = await asyncio.wait(set(self._in_hand), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                log.warning("%d update(s) unfinished after %ss: left to Telegram", len(late), grace)
                await asyncio.wait(late)
        await self._runner.cleanup()
        self._runner = self._site = None

    async def _on_post(self, request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request without the right secret token: refused")
            return web.Response(status=403)
        if not self._accepting:
            return web.Response(status=503)  # stopping: Telegram delivers it again later
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update object")
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError) as error:
            log.warning("webhook body is not an update (%s): refused", error)
            return web.Response(status=400)
        task = asyncio.current_task()
        assert task is not None
        self._in_hand.add(task)
        handling = self.application.process_update(update)
        try:
            await self.application.update_processor.process_update(update, handling)
        finally:
            self._in_hand.discard(task)
            handling.close()  # not awaited if cancelled while waiting for its chat's turn
        return web.Response(status=200)
