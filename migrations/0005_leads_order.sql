-- A webinar's registrations in id order without sorting them: the organisers' list pages through
-- them, the exports stream them and the retention purge deletes them in batches in that order.
-- With only registrations_by_webinar_state (webinar_id, state, id), SQLite sorted every
-- registration of the webinar before the first row (100,000 rows: seconds before an export's
-- first byte, and a sort per page of the list).
CREATE INDEX registrations_by_webinar ON registrations(webinar_id, id);
