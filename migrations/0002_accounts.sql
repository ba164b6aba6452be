-- Organiser accounts, their login sessions and the one-time setup links.
-- Secrets (session tokens, setup tokens) are stored only as SHA-256 hashes; passwords only as a
-- self-describing KDF string; no IP address is stored anywhere. Times are epoch ms, UTC.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    -- Unique whatever the case of its ASCII letters (the address syntax we accept is ASCII).
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 254),
    -- "scrypt$N$r$p$salt$hash" (base64url): the parameters travel with the hash, so they can be
    -- raised later and old hashes are upgraded at the next login.
    password_hash TEXT    NOT NULL CHECK (length(password_hash) BETWEEN 16 AND 255),
    created_at    INTEGER NOT NULL
);

CREATE TABLE auth_sessions (
    id           INTEGER PRIMARY KEY,
    -- SHA-256 of the cookie's token; the token itself is never stored.
    token_hash   BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- Sent back in X-CSRF-Token with every state-changing request. Useless without the cookie.
    csrf_token   TEXT    NOT NULL CHECK (length(csrf_token) = 43),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    -- The absolute end (created_at + lifetime); the idle limit is applied to last_seen_at.
    expires_at   INTEGER NOT NULL
);

CREATE INDEX auth_sessions_by_user ON auth_sessions(user_id);
CREATE INDEX auth_sessions_by_expiry ON auth_sessions(expires_at);

CREATE TABLE setup_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
