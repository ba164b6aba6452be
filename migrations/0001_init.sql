-- Webinars and their live sessions (each session is one recording).
-- Times are Unix epoch milliseconds, UTC.

CREATE TABLE webinars (
    id              INTEGER PRIMARY KEY,
    slug            TEXT    NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 63),
    title           TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- SHA-256 of the stream key; the key itself is shown once and never stored.
    stream_key_hash BLOB    NOT NULL UNIQUE CHECK (length(stream_key_hash) = 32),
    state           TEXT    NOT NULL DEFAULT 'scheduled'
                            CHECK (state IN ('scheduled', 'live', 'ended')),
    created_at      INTEGER NOT NULL
);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
    state       TEXT    NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'ended')),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    duration_ms INTEGER,
    -- 1 when the server died during the session and the recording was recovered at start-up.
    recovered   INTEGER NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1)),
    CHECK ((state = 'live') = (ended_at IS NULL))
);

CREATE INDEX sessions_by_webinar ON sessions(webinar_id, id);
CREATE INDEX sessions_live ON sessions(state) WHERE state = 'live';
