-- Live interaction (issue 5): polls, questions, chat and raised hands. Everything that names an
-- attendee hangs off their registration (ON DELETE CASCADE), so that retention and erasure of a
-- registration take their questions, messages, hands and attributed votes with it.

ALTER TABLE webinars ADD COLUMN questions_public INTEGER NOT NULL DEFAULT 0
    CHECK (questions_public IN (0, 1));
ALTER TABLE webinars ADD COLUMN chat_enabled INTEGER NOT NULL DEFAULT 0
    CHECK (chat_enabled IN (0, 1));

CREATE TABLE polls (
    id            INTEGER PRIMARY KEY,
    webinar_id    INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
    question      TEXT NOT NULL,
    multiple      INTEGER NOT NULL DEFAULT 0 CHECK (multiple IN (0, 1)),
    anonymous     INTEGER NOT NULL DEFAULT 1 CHECK (anonymous IN (0, 1)),
    allow_change  INTEGER NOT NULL DEFAULT 0 CHECK (allow_change IN (0, 1)),
    state         TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'open', 'closed')),
    results_shown INTEGER NOT NULL DEFAULT 0 CHECK (results_shown IN (0, 1)),
    created_at    INTEGER NOT NULL,
    opened_at     INTEGER,
    closed_at     INTEGER
);
CREATE INDEX polls_webinar ON polls (webinar_id, id);

-- At most 10 options; a vote is a bit mask over their positions.
CREATE TABLE poll_options (
    id       INTEGER PRIMARY KEY,
    poll_id  INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position BETWEEN 0 AND 9),
    label    TEXT NOT NULL,
    UNIQUE (poll_id, position)
);

-- One vote per attendee and poll: the primary key. `voter` is an HMAC of the registration id
-- (server secret 'vote_hmac', keyed per poll): anonymous polls store nothing else about the
-- voter; attributed polls also keep registration_id, for the lead export.
CREATE TABLE poll_votes (
    poll_id         INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    voter           BLOB NOT NULL CHECK (length(voter) = 16),
    registration_id INTEGER REFERENCES registrations(id) ON DELETE CASCADE,
    choices         INTEGER NOT NULL CHECK (choices BETWEEN 1 AND 1023),
    voted_at        INTEGER NOT NULL,
    changed_at      INTEGER,
    PRIMARY KEY (poll_id, voter)
) WITHOUT ROWID;
CREATE INDEX poll_votes_registration ON poll_votes (registration_id)
    WHERE registration_id IS NOT NULL;

CREATE TABLE questions (
    id              INTEGER PRIMARY KEY,
    webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    body            TEXT NOT NULL,
    show_name       INTEGER NOT NULL DEFAULT 0 CHECK (show_name IN (0, 1)),
    -- Whether other attendees see it: the webinar's questions_public when it was asked, kept, so
    -- that a question asked in private never becomes public when the setting changes.
    public          INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered', 'dismissed')),
    upvotes         INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX questions_webinar ON questions (webinar_id, id);
CREATE INDEX questions_registration ON questions (registration_id);

CREATE TABLE question_upvotes (
    question_id     INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    PRIMARY KEY (question_id, registration_id)
) WITHOUT ROWID;
CREATE INDEX question_upvotes_registration ON question_upvotes (registration_id);

-- registration_id NULL: written by a moderator (to everyone, or to_registration_id privately).
CREATE TABLE chat_messages (
    id                 INTEGER PRIMARY KEY,
    webinar_id         INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
    registration_id    INTEGER REFERENCES registrations(id) ON DELETE CASCADE,
    to_moderators      INTEGER NOT NULL DEFAULT 0 CHECK (to_moderators IN (0, 1)),
    to_registration_id INTEGER REFERENCES registrations(id) ON DELETE CASCADE,
    body               TEXT NOT NULL,
    show_name          INTEGER NOT NULL DEFAULT 0 CHECK (show_name IN (0, 1)),
    created_at         INTEGER NOT NULL,
    deleted_at         INTEGER
);
CREATE INDEX chat_webinar ON chat_messages (webinar_id, id);
CREATE INDEX chat_registration ON chat_messages (registration_id);
CREATE INDEX chat_to_registration ON chat_messages (to_registration_id);

CREATE TABLE chat_mutes (
    webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    muted_at        INTEGER NOT NULL,
    PRIMARY KEY (webinar_id, registration_id)
) WITHOUT ROWID;
CREATE INDEX chat_mutes_registration ON chat_mutes (registration_id);

CREATE TABLE hands (
    webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    raised_at       INTEGER NOT NULL,
    acknowledged_at INTEGER,
    PRIMARY KEY (webinar_id, registration_id)
) WITHOUT ROWID;
CREATE INDEX hands_registration ON hands (registration_id);
INSERT INTO server_secrets (name, value) VALUES ('vote_hmac', randomblob(32));
