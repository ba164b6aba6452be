-- What organisers set on a webinar: its public description and schedule, who may watch, and how
-- long personal data and the recording are kept. Existing webinars take the defaults.
-- Times are Unix epoch milliseconds, UTC; text bounds are in characters (SQLite's length()).

ALTER TABLE webinars ADD COLUMN description TEXT NOT NULL DEFAULT ''
    CHECK (length(description) <= 10000);
-- NULL for an on-demand (evergreen) webinar, which has no live date.
ALTER TABLE webinars ADD COLUMN starts_at INTEGER
    CHECK (starts_at IS NULL OR starts_at BETWEEN 0 AND 253402300799999);
ALTER TABLE webinars ADD COLUMN duration_s INTEGER NOT NULL DEFAULT 3600
    CHECK (duration_s BETWEEN 60 AND 86400);
-- A JSON array of at most 20 presenter names (each at most 100 characters, checked by the API).
ALTER TABLE webinars ADD COLUMN presenters TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(presenters) AND json_type(presenters) = 'array'
           AND json_array_length(presenters) <= 20);
ALTER TABLE webinars ADD COLUMN on_demand INTEGER NOT NULL DEFAULT 0
    CHECK (on_demand IN (0, 1) AND NOT (on_demand = 1 AND starts_at IS NOT NULL));
ALTER TABLE webinars ADD COLUMN access TEXT NOT NULL DEFAULT 'registration'
    CHECK (access IN ('registration', 'public'));
ALTER TABLE webinars ADD COLUMN waiting_room INTEGER NOT NULL DEFAULT 0
    CHECK (waiting_room IN (0, 1));
ALTER TABLE webinars ADD COLUMN approval INTEGER NOT NULL DEFAULT 0
    CHECK (approval IN (0, 1));
-- "scrypt$N$r$p$salt$hash" of the room password; NULL when the room has none.
ALTER TABLE webinars ADD COLUMN room_password_hash TEXT
    CHECK (room_password_hash IS NULL OR length(room_password_hash) BETWEEN 16 AND 255);
ALTER TABLE webinars ADD COLUMN hide_attendee_names INTEGER NOT NULL DEFAULT 1
    CHECK (hide_attendee_names IN (0, 1));
ALTER TABLE webinars ADD COLUMN replay_enabled INTEGER NOT NULL DEFAULT 1
    CHECK (replay_enabled IN (0, 1));
ALTER TABLE webinars ADD COLUMN replay_requires_registration INTEGER NOT NULL DEFAULT 1
    CHECK (replay_requires_registration IN (0, 1));
-- Days after the webinar that attendees' personal data is kept.
ALTER TABLE webinars ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 90
    CHECK (retention_days BETWEEN 1 AND 3650);
-- Days the recording is kept; NULL keeps it.
ALTER TABLE webinars ADD COLUMN recording_retention_days INTEGER
    CHECK (recording_retention_days IS NULL OR recording_retention_days BETWEEN 1 AND 3650);
ALTER TABLE webinars ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
-- The organiser who created it (NULL: made on the command line, or the account is gone).
ALTER TABLE webinars ADD COLUMN created_by INTEGER REFERENCES users(id) ON DELETE SET NULL;

UPDATE webinars SET updated_at = created_at;
