"""The server engine: PostgreSQL through asyncpg, for deployments with several workers.

The SQL is storage/'s one copy, with `?` placeholders, numbered here (`$1`, `$2`…). Write
transactions are serialised across every worker by a transaction-scoped advisory lock,
taken with BEGIN in the same trip: each sees the database as the previous one left it,
as on SQLite, so that no read-then-write of storage/ can interleave with another worker's.
Within a process, a lock keeps writers from holding pooled connections while they wait.
Reads take any pooled connection and never wait for the writers. A change one worker
announces reaches the others by NOTIFY, heard on a connection of their own (`listen`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import secrets
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage import postgres_schema
from storage.connection import Connection, Rows, Statement
from storage.db import Database, ServerUnreachable, TransactionAborted

log = logging.getLogger(__name__)

# The advisory lock keys: every write transaction's, the schema's while it migrates, and
# the leader's (a session lock). Sections one worker at a time runs (`exclusive`) are keyed
# by two halves, the first of which no chat's id has (the turns' space).
WRITE_LOCK = 0x636F6F70  # "coop"
SCHEMA_LOCK = 0x636F6F71
LEADER_LOCK = 0x636F6F72
SECTIONS = 0x636F6F73
# How long a check that the leader's session is alive may take before it counts as lost.
LEADER_CHECK_TIMEOUT = 5.0
# What a server that takes no more connections for now answers a new one.
REFUSED = (asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError)
# What a session the server ended (a worker killed, the server restarted) raises when used
# again: asyncpg's protocol may also find itself mid-operation then.
SESSION_GONE = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
BEGIN_WRITE = f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
POOL_SIZE = 10
# The channel on which a worker announces that something changed (the payload: which
# worker, so that it ignores its own), and its listening connection's upkeep: seconds
# between two attempts to connect again once it dropped, and between two checks that it
# is alive (a network gone quiet does not end it by itself).
CHANGES = "coopbot_changes"
LISTEN_RETRY = 1.0
LISTEN_CHECK = 30.0
LISTEN_TIMEOUT = 5.0
LISTENER_NAME = "coopbot listener"
# Connections that hold chats' turns, apart from those that run statements: a handler
# holding its chat's turn always finds a connection for its reads and writes.
TURN_POOL_SIZE = 16
# Connections that hold a section (`exclusive`), apart from the turns': a handler holding
# its chat's turn and waiting for a section never waits for a connection the other
# handlers of that worker hold (sixteen `/review` at once would wait on each other).
SECTION_POOL_SIZE = 2
# Seconds a chat's turn or a section waits for a connection of its pool; then the update
# is handled without its turn (`bot.concurrency`), rather than the worker freezing.
ACQUIRE_TIMEOUT = 30.0
# The sessions that hold a lock (the chats' turns, the sections, the leader's) ask the
# server to notice within half a minute a client that went silent (its host down, the
# network cut), and release what it held: the operating system's default is two hours.
KEEPALIVES = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
}

_QUOTED = re.compile(r"('(?:[^']|'')*')")
_RETURNS_ROWS = re.compile(r"^\s*(SELECT|VALUES)\b|\bRETURNING\b", re.IGNORECASE)
_WITH_WRITE = re.compile(r"^\s*WITH\b.*\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE | re.DOTALL)


@functools.lru_cache(maxsize=2048)
def numbered(sql: str) -> tuple[str, bool]:
    """`sql` with its `?` placeholders numbered as PostgreSQL wants them (never inside a
    quoted literal), and whether it returns rows."""
    parts = _QUOTED.split(sql)
    count = 0
    for index in range(0, len(parts), 2):  # the even parts are outside quotes

        def number(_: re.Match[str]) -> str:
            nonlocal count
            count += 1
            return f"${count}"

        parts[index] = re.sub(r"\?", number, parts[index])
    text = "".join(parts)
    if re.match(r"^\s*WITH\b", text, re.IGNORECASE):  # a CTE, then a read or a write
        return text, "RETURNING" in text.upper() or not _WITH_WRITE.match(text)
    return text, bool(_RETURNS_ROWS.search(text))


class PostgresConnection(Connection):
    """A pooled asyncpg connection; `opening`, when set, runs before the first statement
    (a transaction's BEGIN)."""

    def __init__(self, connection: asyncpg.Connection, *, opening: str | None = None) -> None:
        super().__init__()
        self._connection = connection
        self._opening = opening
        self.opened = False

    async def _open(self) -> None:
        if self._opening is not None and not self.opened:
            await self._connection.execute(self._opening)
            self.opened = True
        for sql, parameters in self._take_deferred():
            await self._one(sql, parameters)

    async def _one(self, sql: str, parameters: Sequence[Any]) -> Rows:
        text, returns_rows = numbered(sql)
        try:
            if returns_rows:
                rows = await self._connection.fetch(text, *parameters)
                return Rows(rows, len(rows))
            status = await self._connection.execute(text, *parameters)
        except asyncpg.PostgresError as error:  # which statement, in the traceback
            error.add_note(f"in: {text}")
            raise
        last = status.rsplit(" ", 1)[-1]
        return Rows([], int(last) if last.isdigit() else -1)

    async def _run(self, statements: list[Statement], *, single: bool) -> Any:
        await self._open()
        done = [await self._one(sql, parameters) for sql, parameters in statements]
        return done[0] if single else done

    async def commit(self) -> None:
        if self.opened or self._deferred:
            await self._open()
            status = await self._connection.execute("COMMIT")
            self.opened = False
            if status != "COMMIT":  # the server rolled it back: a statement had failed
                raise TransactionAborted(f"the transaction was not kept ({status})")


class PostgresDatabase(Database):
    """A PostgreSQL database shared by every worker of the bot."""

    def __init__(
        self, pool: asyncpg.Pool, turns: asyncpg.Pool, sections: asyncpg.Pool, target: str
    ) -> None:
        self._pool = pool
        self._turns = turns
        self._sections = sections
        self._target = target
        self._write_lock = asyncio.Lock()
        # The session that asks for the leader's lock, and holds it while this one leads.
        self._session: asyncpg.Connection | None = None
        self._leads = False
        self._leader_lock = asyncio.Lock()
        # Who announces, and who hears the others' announcements (`announce`, `listen`).
        self._identity = secrets.token_hex(8)
        self._listeners: set[Callable[[], None]] = set()
        self._listening: asyncio.Task[None] | None = None

    @property
    def target(self) -> str:
        return self._target

    @property
    def shared(self) -> bool:
        return True

    @classmethod
    async def connect(cls, target: str, *, target_version: int | None = None) -> PostgresDatabase:
        """Connect to the server at `target` and bring its schema up to date."""
        pool = await asyncpg.create_pool(target, min_size=1, max_size=POOL_SIZE)
        try:
            async with pool.acquire() as connection:
                await migrate(connection, target_version=target_version)
            turns = await asyncpg.create_pool(
                target, min_size=0, max_size=TURN_POOL_SIZE, server_settings=KEEPALIVES
            )
            sections = await asyncpg.create_pool(
                target, min_size=0, max_size=SECTION_POOL_SIZE, server_settings=KEEPALIVES
            )
        except BaseException:
            await pool.close()
            raise
        return cls(pool, turns, sections, target)

    async def schema_version(self) -> int:
        async with self._pool.acquire() as raw:
            return await schema_version(raw)

    async def size_in_bytes(self) -> int:
        async with self._pool.acquire() as raw:
            size = await raw.fetchval("SELECT pg_database_size(current_database())")
        return int(size)

    async def close(self) -> None:
        await self._stop_listening()
        async with self._leader_lock:
            await self._drop_session()
        await self._turns.close()
        await self._sections.close()
        async with self._write_lock:
            await self._pool.close()

    @asynccontextmanager
    async def turn(self, key: int) -> AsyncIterator[None]:
        """A session advisory lock on the chat's id, held on a connection of its own for
        the block: the server releases it if this process dies. Its two 32-bit halves key
        it, a space apart from the write lock's single 64-bit key."""
        async with _session_lock(self._turns, key):
            yield

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """A session advisory lock keyed by the section's name, in the turns' space (no
        chat's id has its first half), on a pool of its own."""
        async with _session_lock(self._sections, (SECTIONS << 32) | zlib.crc32(name.encode())):
            yield

    async def leading(self) -> bool:
        """The leader holds a session advisory lock on a connection of its own, outside the
        pools: the server releases it when that session ends (at once when the process is
        killed, within `KEEPALIVES`' half minute when its host or network goes silent), and
        the next worker to ask takes it. Each call checks that the session is alive, or
        tries the lock again."""
        async with self._leader_lock:
            try:
                if self._session is None or self._session.is_closed():
                    self._leads = False
                    self._session = await asyncpg.connect(
                        self._target, timeout=LEADER_CHECK_TIMEOUT, server_settings=KEEPALIVES
                    )
                if self._leads:
                    await self._session.fetchval("SELECT 1", timeout=LEADER_CHECK_TIMEOUT)
                else:
                    self._leads = bool(
                        await self._session.fetchval(
                            "SELECT pg_try_advisory_lock($1)",
                            LEADER_LOCK,
                            timeout=LEADER_CHECK_TIMEOUT,
                        )
                    )
                    if self._leads:
                        log.info("this worker now leads the others")
            except (*SESSION_GONE, TimeoutError) as error:
                if self._leads:
                    log.warning("this worker no longer leads: its session ended (%s)", error)
                else:
                    log.warning("cannot ask the server which worker leads: %s", error)
                await self._drop_session()
            return self._leads

    async def _drop_session(self) -> None:
        session, self._session, self._leads = self._session, None, False
        if session is not None:
            with contextlib.suppress(*SESSION_GONE, TimeoutError):
                await session.close(timeout=LEADER_CHECK_TIMEOUT)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._write_lock, _acquired(self._pool) as raw:
            conn = PostgresConnection(raw, opening=BEGIN_WRITE)
            try:
                yield conn
                await conn.commit()
            except BaseException:
                # Always, not only when the driver says a transaction is open: a BEGIN
                # cancelled on its way opened one it does not know of yet.
                await _roll_back(raw)
                raise

    async def write(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        async with self.transaction() as conn:
            rows = await conn.execute(sql, parameters)
        return rows.rowcount

    @asynccontextmanager
    async def reading(self, *, snapshot: bool = False) -> AsyncIterator[Connection]:
        async with _acquired(self._pool) as raw:
            if not snapshot:
                yield PostgresConnection(raw)
                return
            opening = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            conn = PostgresConnection(raw, opening=opening)
            try:
                yield conn
            finally:
                await _roll_back(raw)  # it only read: nothing to keep

    async def announce(self) -> None:
        """NOTIFY, outside any transaction (it goes at once), signed with this database's
        identity."""
        async with _acquired(self._pool) as raw:
            await raw.execute("SELECT pg_notify($1, $2)", CHANGES, self._identity)

    async def listen(self, callback: Callable[[], None]) -> Callable[[], None]:
        """The first call opens the listening connection, a connection of its own outside
        the pools (LISTEN holds it), kept until `close`."""
        self._listeners.add(callback)
        if self._listening is None:
            self._listening = asyncio.get_running_loop().create_task(self._listen())
        return lambda: self._listeners.discard(callback)

    async def _listen(self) -> None:
        """LISTEN on a connection made again whenever it drops (the server restarted, the
        network lost): a warning once when it drops, a line when it is back, and the
        listeners called then, since what changed meanwhile went unheard."""
        lost = False
        while True:
            reason = "the server ended the connection"
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(
                    self._target,
                    timeout=LISTEN_TIMEOUT,
                    server_settings={"application_name": LISTENER_NAME, **KEEPALIVES},
                )
                ended = asyncio.Event()
                connection.add_termination_listener(lambda _, done=ended: done.set())
                await connection.add_listener(CHANGES, self._heard)
                if lost:
                    log.info("hearing the other workers' changes again")
                    lost = False
                    self._tell()
                while not connection.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(ended.wait(), LISTEN_CHECK)
                    if not ended.is_set():
                        await connection.fetchval("SELECT 1", timeout=LISTEN_TIMEOUT)
            except (*SESSION_GONE, TimeoutError) as error:
                reason = str(error) or type(error).__name__
            finally:
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(*SESSION_GONE, TimeoutError):
                        await connection.close(timeout=LISTEN_TIMEOUT)
            if not lost:
                log.warning("not hearing the other workers' changes (%s): trying again", reason)
                lost = True
            await asyncio.sleep(LISTEN_RETRY)

    def _heard(self, connection: asyncpg.Connection, pid: int, channel: str, payload: str) -> None:
        if payload != self._identity:  # another worker's, not one this one sent
            self._tell()

    def _tell(self) -> None:
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:  # one listener's failure must not silence the others
                log.exception("a listener of the other workers' changes failed")

    async def _stop_listening(self) -> None:
        task, self._listening = self._listening, None
        self._listeners.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _roll_back(raw: asyncpg.Connection) -> None:
    """ROLLBACK, on a connection that may be broken or busy with a cancelled statement:
    then the pool, resetting or closing it, ends the transaction."""
    if raw.is_closed():
        return
    with contextlib.suppress(
        asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError
    ):
        await raw.execute("ROLLBACK")


@asynccontextmanager
async def scratch_database(server: str, *, prefix: str) -> AsyncIterator[str]:
    """A new, empty database on the PostgreSQL `server` (an address to one of its
    databases), named `prefix` and a random part, for the length of the block: its
    address. Dropped after, whoever is still connected (the tests' and benchmarks' own)."""
    name = f"{prefix}{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def _session_lock(pool: asyncpg.Pool, key: int) -> AsyncIterator[None]:
    """A session advisory lock on `key` (64 bits, as two 32-bit halves), held for the
    block on a connection of `pool`: the server releases it if this process dies."""
    high, low = key >> 32, key & 0xFFFFFFFF
    low = low - (1 << 32) if low >= 1 << 31 else low
    async with _acquired(pool, within=ACQUIRE_TIMEOUT) as raw:
        await raw.execute("SELECT pg_advisory_lock($1, $2)", high, low)
        try:
            yield
        finally:
            # A session gone (the server dropped it) took its lock with it, and the pool
            # replaces its connection; a connection going back to the pool is reset,
            # every advisory lock of its session released.
            with contextlib.suppress(*SESSION_GONE):
                await raw.execute("SELECT pg_advisory_unlock($1, $2)", high, low)


@asynccontextmanager
async def _acquired(
    pool: asyncpg.Pool, *, within: float | None = None
) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for the block. One the pool cannot reset when it comes back
    (seen once under load: the protocol still busy with an error's remains) is closed by
    the pool; what the block did is done (committed, or rolled back and raised), so that
    is logged, not raised over it."""
    try:
        raw = await pool.acquire(timeout=within)
    except TimeoutError as error:  # a new connection could not be made, or none came free
        raise ServerUnreachable(
            "the database server cannot be reached, or this process's connections to it "
            f"stayed busy: {error!r}"
        ) from error
    except OSError as error:  # a new connection could not be made
        raise ServerUnreachable(f"the database server cannot be reached: {error}") from error
    except REFUSED as error:  # its connections all taken, or it is starting or stopping
        raise ServerUnreachable(f"the database server refuses connections: {error}") from error
    try:
        yield raw
    finally:
        try:
            await pool.release(raw)
        except (asyncpg.InterfaceError, asyncpg.InternalClientError) as error:
            log.warning("a database connection could not be reset, closed: %r", error)


async def schema_version(connection: asyncpg.Connection) -> int:
    """The version the server's schema is at (0 for a new database)."""
    exists = await connection.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    version = await connection.fetchval("SELECT version FROM schema_version")
    return int(version or 0)


async def migrate(connection: asyncpg.Connection, *, target_version: int | None = None) -> int:
    """Bring the schema to `target_version` (default: latest), each step atomically, one
    worker at a time: the others wait, then find it done."""
    latest = postgres_schema.LATEST_VERSION
    target = latest if target_version is None else target_version
    if target < postgres_schema.BASELINE_VERSION:
        raise RuntimeError(
            f"a PostgreSQL database starts at schema version {postgres_schema.BASELINE_VERSION}"
        )
    async with connection.transaction():
        await connection.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
        current = await schema_version(connection)
        if current > latest:
            raise RuntimeError(
                f"the database is at schema version {current}, newer than this coopbot "
                f"({latest}); upgrade coopbot before opening it"
            )
        if current == 0:
            await connection.execute(postgres_schema.MIGRATIONS[0])
            await connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            await connection.execute(
                "INSERT INTO schema_version VALUES ($1)", postgres_schema.BASELINE_VERSION
            )
            current = postgres_schema.BASELINE_VERSION
        for version in range(current, target):
            step = version - postgres_schema.BASELINE_VERSION + 1
            await connection.execute(postgres_schema.MIGRATIONS[step])
            await connection.execute("UPDATE schema_version SET version = $1", version + 1)
    return await schema_version(connection)


def failure_of_postgres(error: BaseException) -> str | None:
    """What a PostgreSQL error says of the server: see `storage.db.failure_of`."""
    if isinstance(error, asyncpg.DiskFullError | asyncpg.OutOfMemoryError):
        return "full"
    if isinstance(
        error,
        asyncpg.LockNotAvailableError | asyncpg.DeadlockDetectedError | asyncpg.QueryCanceledError,
    ):
        return "locked"
    if isinstance(error, ServerUnreachable):
        return "io"
    if isinstance(
        error,
        asyncpg.ConnectionDoesNotExistError
        | asyncpg.CannotConnectNowError
        | asyncpg.PostgresConnectionError
        | asyncpg.ReadOnlySQLTransactionError
        | asyncpg.DataCorruptedError
        | asyncpg.InterfaceError,
    ):
        return "io"
    return None
