-- Registration and joining: the form each webinar asks, the registrations (leads) with their
-- consent and source, personal join links, attendance, the audit log of access to personal
-- data, and the counts that stay once personal data is deleted.
-- Times are Unix epoch milliseconds, UTC. No IP address is stored anywhere.

-- The registration form: a JSON array of {"id","label","type","required","options"}, checked by
-- the API (server/api/webinar_input.c); at most 20 fields.
ALTER TABLE webinars ADD COLUMN form_fields TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(form_fields) AND json_type(form_fields) = 'array'
           AND json_array_length(form_fields) <= 20);
-- The Art. 13 GDPR information shown with the form; NULL shows the server's default text.
ALTER TABLE webinars ADD COLUMN privacy_notice TEXT
    CHECK (privacy_notice IS NULL OR length(privacy_notice) BETWEEN 1 AND 20000);
-- What the attendee agrees to by ticking the box, and its version (stored with each consent).
-- NULL text: the server's default consent text.
ALTER TABLE webinars ADD COLUMN consent_text TEXT
    CHECK (consent_text IS NULL OR length(consent_text) BETWEEN 1 AND 2000);
ALTER TABLE webinars ADD COLUMN consent_version TEXT NOT NULL DEFAULT '1'
    CHECK (length(consent_version) BETWEEN 1 AND 40);
-- "Admit everyone from now on": the waiting room lets every attendee straight in.
ALTER TABLE webinars ADD COLUMN admit_all INTEGER NOT NULL DEFAULT 0 CHECK (admit_all IN (0, 1));
-- The unguessable names of the webinar's media: /live/{live_key}/..., /vod/{replay_key}/...
-- (32 lowercase hex digits, 128 random bits each). The slug is public (it is in the
-- registration link); these are handed only to those who may watch. Two keys, so that a public
-- replay never opens the live stream of a registration-only webinar.
ALTER TABLE webinars ADD COLUMN live_key TEXT CHECK (live_key IS NULL OR length(live_key) = 32);
ALTER TABLE webinars ADD COLUMN replay_key TEXT
    CHECK (replay_key IS NULL OR length(replay_key) = 32);
UPDATE webinars SET live_key = lower(hex(randomblob(16))), replay_key = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX webinars_by_live_key ON webinars(live_key);
CREATE UNIQUE INDEX webinars_by_replay_key ON webinars(replay_key);

CREATE TABLE registrations (
    id              INTEGER PRIMARY KEY,
    webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
    -- As entered, and unique per webinar whatever the case of its letters (one lead per person).
    email           TEXT    NOT NULL COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 254),
    name            TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- The answers to the webinar's custom fields: {"field id": "text" | true | false}.
    answers         TEXT    NOT NULL DEFAULT '{}'
                            CHECK (json_valid(answers) AND json_type(answers) = 'object'),
    consent_version TEXT    NOT NULL CHECK (length(consent_version) BETWEEN 1 AND 40),
    consent_at      INTEGER NOT NULL,
    -- Where the lead came from: utm_* of the registration page's URL and the referring page.
    utm_source      TEXT    CHECK (utm_source IS NULL OR length(utm_source) <= 200),
    utm_medium      TEXT    CHECK (utm_medium IS NULL OR length(utm_medium) <= 200),
    utm_campaign    TEXT    CHECK (utm_campaign IS NULL OR length(utm_campaign) <= 200),
    referrer        TEXT    CHECK (referrer IS NULL OR length(referrer) <= 2000),
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    decided_at      INTEGER,
    -- Waiting room: when a moderator admitted this attendee (NULL: not yet).
    admitted_at     INTEGER,
    -- The room password was given once through this registration's link.
    password_ok     INTEGER NOT NULL DEFAULT 0 CHECK (password_ok IN (0, 1)),
    created_at      INTEGER NOT NULL,
    -- The newest moment anything happened with this registration (retention counts from it).
    last_activity   INTEGER NOT NULL,
    UNIQUE (webinar_id, email)
);
-- No index on email alone: every registration would pay one more randomly placed index page
-- for the sake of the rare data-subject request, which can afford to scan.
CREATE INDEX registrations_by_webinar_state ON registrations(webinar_id, state, id);

-- Personal join links: SHA-256 of a 256-bit token, never the token. A person who registers
-- again gets another link to the same registration; with manual approval that link stays
-- pending until an organiser approves it (so it reveals nothing a first registration would not).
CREATE TABLE join_links (
    token_hash      BLOB    PRIMARY KEY CHECK (length(token_hash) = 32),
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    pending         INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1)),
    -- 0 for the link of the first registration (never changed or removed while the
    -- registration exists), 1 for one made by registering again (at most 10 are kept).
    repeat          INTEGER NOT NULL DEFAULT 0 CHECK (repeat IN (0, 1)),
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX join_links_by_registration ON join_links(registration_id);

-- Attendance in stretches: one row per continuous watching (heartbeats less than two minutes
-- apart), live or on replay, with the seconds actually watched.
CREATE TABLE attendance (
    id              INTEGER PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    mode            TEXT    NOT NULL CHECK (mode IN ('live', 'replay')),
    joined_at       INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    seconds         INTEGER NOT NULL DEFAULT 0 CHECK (seconds >= 0)
);
CREATE INDEX attendance_by_registration ON attendance(registration_id, mode, last_seen_at);

-- What stays once personal data is deleted (retention or erasure): counts, never names.
CREATE TABLE webinar_stats (
    webinar_id      INTEGER PRIMARY KEY REFERENCES webinars(id) ON DELETE CASCADE,
    registrations   INTEGER NOT NULL DEFAULT 0,
    attended_live   INTEGER NOT NULL DEFAULT 0,
    seconds_live    INTEGER NOT NULL DEFAULT 0,
    seconds_replay  INTEGER NOT NULL DEFAULT 0
);

-- Who exported, viewed or erased personal data, and when. The person concerned is never named:
-- for a data-subject request `subject` is an HMAC of the email address under a key kept in
-- this database, so a later question "was my erasure done?" can be answered without storing
-- the address.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    -- The organiser (their account may be gone later: the email is kept as written then).
    user_id     INTEGER,
    user_email  TEXT,
    action      TEXT    NOT NULL CHECK (action IN ('export_csv', 'export_json',
                    'view_registrations', 'subject_access', 'subject_erasure',
                    'retention_purge', 'decide_registrations', 'admit')),
    webinar_id  INTEGER,
    subject     TEXT,
    records     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_log_by_time ON audit_log(at);

-- Server-wide secrets that must survive restarts (the audit log's HMAC key).
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO server_secrets (name, value) VALUES ('audit_hmac', randomblob(32));
