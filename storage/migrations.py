"""The versioned schema: forward migrations applied at start, tracked by `user_version`."""

from __future__ import annotations

import aiosqlite

# Each entry moves the schema from version N to N + 1. Never edit a released one:
# append a new migration instead.
MIGRATIONS: tuple[str, ...] = (
    # 1: workshops, who facilitates them, who takes part, and their answers.
    """
    CREATE TABLE workshops (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        facilitator_code TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        journey_id TEXT NOT NULL,
        created_by INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        closed_at TEXT
    );
    CREATE TABLE facilitators (
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (workshop_id, user_id)
    );
    CREATE TABLE participants (
        id INTEGER PRIMARY KEY,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        category TEXT,
        language TEXT NOT NULL,
        state TEXT NOT NULL,
        joined_at TEXT NOT NULL,
        consented_at TEXT,
        finished_at TEXT,
        paused_at TEXT,
        UNIQUE (workshop_id, user_id)
    );
    CREATE TABLE answers (
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        value TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        edited_at TEXT,
        PRIMARY KEY (participant_id, question_id)
    );
    """,
    # 2: per-user preferences (language, which workshop they are in now) and the
    # ledger of handled updates that makes a redelivered update harmless.
    """
    CREATE TABLE users (
        user_id INTEGER PRIMARY KEY,
        language TEXT,
        current_participant_id INTEGER REFERENCES participants(id) ON DELETE SET NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE processed_updates (
        update_id INTEGER PRIMARY KEY,
        processed_at TEXT NOT NULL
    );
    CREATE INDEX participants_by_user ON participants(user_id);
    CREATE INDEX participants_by_workshop ON participants(workshop_id, state);
    INSERT INTO users (user_id, current_participant_id, updated_at)
        SELECT user_id, MAX(id), MAX(joined_at) FROM participants GROUP BY user_id;
    """,
    # 3: the message that carries a participant's live buttons, so that only the current
    # question ever has buttons in their chat; and the update that created a workshop, so
    # that a redelivered /newsession finds it instead of creating a second one.
    """
    ALTER TABLE participants ADD COLUMN prompt_message_id INTEGER;
    ALTER TABLE workshops ADD COLUMN source_update_id INTEGER;
    CREATE UNIQUE INDEX workshops_by_source_update ON workshops(source_update_id);
    """,
    # 4: phases 2 and 3. When phase 2 opens (NULL: it waits for a facilitator) and the
    # agora's opening and closing; statements (phase 2 requests and commitments, agora
    # proposals) with their moderation; one vote per participant and statement; the
    # statement each participant is being offered; the facilitators' moderation messages.
    # Each statement keeps its number of votes, kept exact by triggers, so that offering
    # the least-voted one next does not count every vote each time.
    # Statement ids and numbers are never reused (an erased statement's old buttons must
    # not act on a new one): AUTOINCREMENT, and a per-workshop counter for the numbers.
    # Participants who finished before phase 2 existed wait for it.
    """
    ALTER TABLE workshops ADD COLUMN peers_opened_at TEXT;
    ALTER TABLE workshops ADD COLUMN agora_opened_at TEXT;
    ALTER TABLE workshops ADD COLUMN agora_closed_at TEXT;
    ALTER TABLE workshops ADD COLUMN statements_made INTEGER NOT NULL DEFAULT 0;
    UPDATE workshops SET peers_opened_at = created_at;
    CREATE TABLE statements (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        participant_id INTEGER REFERENCES participants(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('request', 'commitment', 'proposal')),
        source_category TEXT NOT NULL,
        target_category TEXT,
        question_id TEXT,
        text TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
        created_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by INTEGER,
        vote_count INTEGER NOT NULL DEFAULT 0,
        UNIQUE (workshop_id, number)
    );
    CREATE INDEX statements_by_workshop ON statements(workshop_id, status);
    CREATE INDEX statements_by_participant ON statements(participant_id, question_id);
    CREATE TABLE votes (
        statement_id INTEGER NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        value TEXT NOT NULL CHECK (value IN ('agree', 'disagree', 'pass')),
        voted_at TEXT NOT NULL,
        changed_at TEXT,
        PRIMARY KEY (statement_id, participant_id)
    );
    CREATE INDEX votes_by_participant ON votes(participant_id);
    CREATE TRIGGER votes_counted AFTER INSERT ON votes BEGIN
        UPDATE statements SET vote_count = vote_count + 1 WHERE id = NEW.statement_id;
    END;
    CREATE TRIGGER votes_uncounted AFTER DELETE ON votes BEGIN
        UPDATE statements SET vote_count = vote_count - 1 WHERE id = OLD.statement_id;
    END;
    CREATE TABLE moderation_messages (
        statement_id INTEGER NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        PRIMARY KEY (statement_id, chat_id)
    );
    ALTER TABLE participants ADD COLUMN offer_statement_id INTEGER
        REFERENCES statements(id) ON DELETE SET NULL;
    ALTER TABLE participants ADD COLUMN offer_message_id INTEGER;
    UPDATE participants SET state = 'peers_wait', finished_at = NULL WHERE state = 'done';
    """,
    # 5: syntheses pushed to facilitators: each phase's once, when everyone active has
    # finished it; and the time a facilitator asked for one.
    """
    ALTER TABLE workshops ADD COLUMN synthesis_due_at TEXT;
    CREATE TABLE pushes (
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        phase TEXT NOT NULL,
        pushed_at TEXT NOT NULL,
        PRIMARY KEY (workshop_id, phase)
    );
    """,
    # 6: the workshop converges. Statements get a review state that can be "merged" (into
    # another, which counts its votes and authors), and enter the agora at a moment of
    # their own (`in_agora_at`): after review, and after their peer group chose them in
    # the caucus. Caucus votes (within one category) are apart from agora votes. A
    # workshop's agora is self-paced or paced by the room, on a current statement; each
    # facilitator's room control message is kept to edit it; resolutions record what the
    # room converged on, who carries it and by when; a user may owe a typed answer to a
    # facilitator prompt (`awaiting`). The statements table is rebuilt to widen its
    # status check (SQLite cannot alter a check), with foreign keys off for the copy.
    """
    DROP TRIGGER votes_counted;
    DROP TRIGGER votes_uncounted;
    CREATE TABLE statements_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        participant_id INTEGER REFERENCES participants(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('request', 'commitment', 'proposal')),
        source_category TEXT NOT NULL,
        target_category TEXT,
        question_id TEXT,
        text TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn', 'merged')),
        created_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by INTEGER,
        vote_count INTEGER NOT NULL DEFAULT 0,
        in_agora_at TEXT,
        merged_into INTEGER REFERENCES statements_new(id) ON DELETE SET NULL,
        UNIQUE (workshop_id, number)
    );
    INSERT INTO statements_new (id, workshop_id, number, participant_id, kind,
        source_category, target_category, question_id, text, status, created_at, decided_at,
        decided_by, vote_count, in_agora_at)
        SELECT id, workshop_id, number, participant_id, kind, source_category,
        target_category, question_id, text, status, created_at, decided_at, decided_by,
        vote_count,
        CASE WHEN status IN ('approved', 'withdrawn') THEN COALESCE(decided_at, created_at) END
        FROM statements;
    DROP TABLE statements;
    ALTER TABLE statements_new RENAME TO statements;
    CREATE INDEX statements_by_workshop ON statements(workshop_id, status);
    CREATE INDEX statements_by_participant ON statements(participant_id, question_id);
    CREATE INDEX statements_merged ON statements(merged_into);
    CREATE TRIGGER votes_counted AFTER INSERT ON votes BEGIN
        UPDATE statements SET vote_count = vote_count + 1 WHERE id = NEW.statement_id;
    END;
    CREATE TRIGGER votes_uncounted AFTER DELETE ON votes BEGIN
        UPDATE statements SET vote_count = vote_count - 1 WHERE id = OLD.statement_id;
    END;
    ALTER TABLE workshops ADD COLUMN review INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE workshops ADD COLUMN caucus INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE workshops ADD COLUMN caucus_keep INTEGER NOT NULL DEFAULT 2;
    ALTER TABLE workshops ADD COLUMN caucus_commitments INTEGER NOT NULL DEFAULT 3;
    ALTER TABLE workshops ADD COLUMN caucus_closed_at TEXT;
    ALTER TABLE workshops ADD COLUMN agora_mode TEXT NOT NULL DEFAULT 'self'
        CHECK (agora_mode IN ('self', 'room'));
    ALTER TABLE workshops ADD COLUMN room_statement_id INTEGER;
    ALTER TABLE workshops ADD COLUMN room_vote_closed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE workshops ADD COLUMN room_order TEXT;
    ALTER TABLE workshops ADD COLUMN resolutions_made INTEGER NOT NULL DEFAULT 0;
    UPDATE workshops SET review = 0, caucus = 0, caucus_closed_at = agora_opened_at
        WHERE agora_opened_at IS NOT NULL OR EXISTS
        (SELECT 1 FROM statements s WHERE s.workshop_id = workshops.id);
    CREATE TABLE caucus_votes (
        statement_id INTEGER NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        value TEXT NOT NULL CHECK (value IN ('agree', 'disagree', 'pass')),
        voted_at TEXT NOT NULL,
        changed_at TEXT,
        PRIMARY KEY (statement_id, participant_id)
    );
    CREATE INDEX caucus_votes_by_participant ON caucus_votes(participant_id);
    ALTER TABLE participants ADD COLUMN caucus_statement_id INTEGER
        REFERENCES statements(id) ON DELETE SET NULL;
    ALTER TABLE participants ADD COLUMN caucus_message_id INTEGER;
    CREATE TABLE room_controls (
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        PRIMARY KEY (workshop_id, chat_id)
    );
    CREATE TABLE resolutions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        statement_id INTEGER UNIQUE REFERENCES statements(id) ON DELETE SET NULL,
        text TEXT NOT NULL,
        carrier_category TEXT,
        carrier_name TEXT,
        due_on TEXT,
        created_by INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (workshop_id, number)
    );
    ALTER TABLE users ADD COLUMN awaiting TEXT;
    """,
    # 7: organisers and the follow-up. A workshop gets a territory, a time zone (NULL: the
    # deployment's), a décantation delay, and co-organisers; its dated sessions (place
    # and time) are a table of their own. Users may name their own time zone, and are
    # marked unreachable when they block the bot. Every scheduled or mass message is a
    # mailing, written before anything is sent: one row per recipient (a delivery) with
    # its own due time, claimed (`sending`) before its call to Telegram and settled
    # after, so that a crash leaves only the calls in flight to send again (`doubled`).
    # A participant's décantation: when it was sent, and when they answered it.
    """
    ALTER TABLE workshops ADD COLUMN territory TEXT;
    ALTER TABLE workshops ADD COLUMN timezone TEXT;
    ALTER TABLE workshops ADD COLUMN decantation_seconds INTEGER NOT NULL DEFAULT 864000;
    ALTER TABLE workshops ADD COLUMN sessions_made INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE organisers (
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        added_by INTEGER,
        added_at TEXT NOT NULL,
        PRIMARY KEY (workshop_id, user_id)
    );
    INSERT INTO organisers (workshop_id, user_id, added_by, added_at)
        SELECT id, created_by, NULL, created_at FROM workshops;
    CREATE INDEX organisers_by_user ON organisers(user_id);
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT,
        place TEXT,
        created_by INTEGER,
        created_at TEXT NOT NULL,
        cancelled_at TEXT,
        UNIQUE (workshop_id, number)
    );
    ALTER TABLE users ADD COLUMN timezone TEXT;
    ALTER TABLE users ADD COLUMN unreachable_at TEXT;
    ALTER TABLE participants ADD COLUMN decantation_sent_at TEXT;
    ALTER TABLE participants ADD COLUMN settled_at TEXT;
    CREATE TABLE mailings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('reminder', 'broadcast', 'invitation',
            'session_reminder', 'decantation', 'decantation_reminder', 'followup')),
        target TEXT NOT NULL DEFAULT 'all',
        text TEXT,
        session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
        offset_rule TEXT,
        due_at TEXT NOT NULL,
        expires_at TEXT,
        automatic INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('draft', 'scheduled',
            'open', 'done', 'cancelled')),
        created_by INTEGER,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        report_chat_id INTEGER,
        report_message_id INTEGER,
        report_language TEXT,
        reported_at TEXT,
        source_update_id INTEGER UNIQUE
    );
    CREATE INDEX mailings_by_status ON mailings(status, due_at);
    CREATE INDEX mailings_by_workshop ON mailings(workshop_id, kind);
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mailing_id INTEGER NOT NULL REFERENCES mailings(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        participant_id INTEGER REFERENCES participants(id) ON DELETE CASCADE,
        due_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending',
            'sent', 'unreachable', 'failed', 'skipped', 'expired')),
        late INTEGER NOT NULL DEFAULT 0,
        doubled INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        claimed_at TEXT,
        settled_at TEXT,
        message_id INTEGER,
        UNIQUE (mailing_id, user_id)
    );
    CREATE INDEX deliveries_due ON deliveries(status, due_at);
    CREATE INDEX deliveries_by_participant ON deliveries(participant_id);
    -- sessions and organisers
    -- a redelivered /session adds its session once
    ALTER TABLE sessions ADD COLUMN source_update_id INTEGER;
    CREATE UNIQUE INDEX sessions_by_update ON sessions(source_update_id);
    -- reminders and broadcasts
    -- décantation and follow-up
    """,
    # 8: what others read of what a participant wrote. Their own names, handles, e-mail
    # addresses, phone numbers and links are masked in every text someone else reads; the
    # words as written stay for the author (/mydata) and the answers' export.
    # - answers.shown: the value as others read it, when masking changed it (else NULL);
    # - statements.text is what everyone reads; statements.written keeps the author's own
    #   words when masking changed them (else NULL);
    # - participants.masking_told_at: they were told, once, that quotes are anonymised.
    # And participants.shown_state: the step whose question was last shown to them, so
    # that a typed text answers only a question they saw (after a crash between an
    # answer and the next question, the same text sent again is not the next answer),
    # and processed_updates.stored: 0 for an update handled without storing anything (a
    # refused answer), so that a failed reply never tells its author it was saved.
    # And workshops.export_key: the secret the export's pseudonyms are keyed with, which
    # no one is shown (the facilitator code, used before, is known to the facilitators
    # who download the export).
    """
    ALTER TABLE answers ADD COLUMN shown TEXT;
    ALTER TABLE statements ADD COLUMN written TEXT;
    ALTER TABLE participants ADD COLUMN masking_told_at TEXT;
    ALTER TABLE participants ADD COLUMN shown_state TEXT;
    ALTER TABLE processed_updates ADD COLUMN stored INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE workshops ADD COLUMN export_key TEXT;
    UPDATE workshops SET export_key = lower(hex(randomblob(16)));
    """,
    # 9: who did what to which workshop, and what is left of a workshop whose retention
    # period ended. `audit` names the organiser or facilitator who acted (NULL: the bot, or
    # an account since erased) and a short detail (a statement's number, a phase, a
    # count), never what a participant wrote; `source_update_id` makes a redelivered
    # update record once. `erasures` keeps a workshop's overall figures once the personal
    # data of its participants was erased (`COOPBOT_RETENTION_DAYS` after it closed).
    """
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        actor_id INTEGER,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL,
        source_update_id INTEGER
    );
    CREATE INDEX audit_by_workshop ON audit(workshop_id, id);
    CREATE UNIQUE INDEX audit_by_update ON audit(source_update_id, action);
    CREATE TABLE erasures (
        workshop_id INTEGER PRIMARY KEY REFERENCES workshops(id) ON DELETE CASCADE,
        erased_at TEXT NOT NULL,
        participants INTEGER NOT NULL,
        by_category TEXT NOT NULL,
        answers INTEGER NOT NULL,
        statements INTEGER NOT NULL,
        votes INTEGER NOT NULL,
        caucus_votes INTEGER NOT NULL,
        resolutions INTEGER NOT NULL
    );
    """,
    # 10: the live screen's secret links, and the quotes a facilitator chose for the
    # report. A link is a workshop's page for the room, in the language of the facilitator
    # who asked for it; revoking it (`revoked_at`) makes its address answer 404. A chosen
    # quote points at the answer it quotes, so a participant who erases their data takes
    # it with them.
    """
    CREATE TABLE screen_links (
        id INTEGER PRIMARY KEY,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        token TEXT NOT NULL UNIQUE,
        language TEXT NOT NULL,
        created_by INTEGER,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX screen_links_by_workshop ON screen_links(workshop_id);
    CREATE TABLE chosen_quotes (
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        participant_id INTEGER NOT NULL,
        question_id TEXT NOT NULL,
        chosen_by INTEGER,
        chosen_at TEXT NOT NULL,
        PRIMARY KEY (participant_id, question_id),
        FOREIGN KEY (participant_id, question_id)
            REFERENCES answers(participant_id, question_id) ON DELETE CASCADE
    );
    CREATE INDEX chosen_quotes_by_workshop ON chosen_quotes(workshop_id);
    -- A quote is chosen as it was read: an answer its author changes since must be chosen
    -- again (the report never quotes words no facilitator saw).
    CREATE TRIGGER chosen_quotes_follow_edits AFTER UPDATE OF value, shown ON answers
    WHEN old.value IS NOT new.value OR old.shown IS NOT new.shown
    BEGIN
        DELETE FROM chosen_quotes
        WHERE participant_id = old.participant_id AND question_id = old.question_id;
    END;
    """,
    # 11: several workers on one database: the workers alive (each says so every few
    # seconds) and which one claimed a delivery, so that a worker gone leaves its claims
    # to the others and a worker starting takes none of a live one's.
    """
    CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        seen_at TEXT NOT NULL
    );
    ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
    """,
    # 12: the Mini App's one-time tickets, in the database rather than in the issuing
    # worker's memory: the ticket and the event stream it opens may reach two workers.
    """
    CREATE TABLE screen_tickets (
        ticket TEXT PRIMARY KEY,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        language TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX screen_tickets_by_expiry ON screen_tickets(expires_at);
    """,
)

LATEST_VERSION = len(MIGRATIONS)


async def schema_version(connection: aiosqlite.Connection) -> int:
    """The version the file is at (0 for a new file)."""
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(connection: aiosqlite.Connection, *, target_version: int | None = None) -> int:
    """Apply every pending migration up to `target_version` (default: latest), each atomically."""
    target = LATEST_VERSION if target_version is None else target_version
    current = await schema_version(connection)
    if current > LATEST_VERSION:
        raise RuntimeError(
            f"the database is at schema version {current}, newer than this coopbot "
            f"({LATEST_VERSION}); upgrade coopbot before opening it"
        )
    # Foreign keys are off while a migration runs (a rebuilt table is dropped and renamed,
    # which must not cascade), and checked before it commits.
    async with connection.execute("PRAGMA foreign_keys") as cursor:
        row = await cursor.fetchone()
    enforced = bool(row and row[0])
    await connection.execute("PRAGMA foreign_keys = OFF")
    try:
        for version in range(current, target):
            script = MIGRATIONS[version]
            await connection.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version + 1};"
            )
            async with connection.execute("PRAGMA foreign_key_check") as cursor:
                broken = await cursor.fetchall()
            if broken:
                await connection.rollback()
                raise RuntimeError(
                    f"migration {version + 1} breaks foreign keys: {list(broken)[:3]}"
                )
            await connection.commit()
    finally:
        if enforced:
            await connection.execute("PRAGMA foreign_keys = ON")
    return await schema_version(connection)
