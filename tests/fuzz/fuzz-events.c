/* libFuzzer: bytes as a client's Last-Event-ID against an event log that holds a few events:
 * the id either resumes exactly after an event the log holds or asks for a snapshot, and the
 * reader then reads whole frames, in pieces of any size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256)
        return 0;
    size_t chunk = (size_t)data[0] % 64 + 1;
    char *id = malloc(size);
    if (!id)
        return 0;
    memcpy(id, data + 1, size - 1);
    id[size - 1] = 0;
    int64_t epoch, seq;
    int parsed = lc_events_parse_id(id, &epoch, &seq);
    if (parsed == 0 && (epoch < 0 || seq < 0))
        abort();
    lc_events_t *ev = lc_events_new(7, LC_EVENTS_IDLE_MS);
    json_t *o = json_pack("{s:s}", "k", "v");
    for (int i = 0; i < 5; i++)
        lc_events_publish(ev, 1, "chat", o, o, LC_EVENTS_ALL_ATTENDEES);
    bool snapshot = false;
    lc_event_sub_t *s = NULL;
    lc_events_subscribe(ev, 1, 3, id, 0, &snapshot, &s);
    bool resumable = parsed == 0 && epoch == 7 && seq <= 5;
    if (s && snapshot == resumable)
        abort();
    if (s && snapshot)
        lc_event_sub_snapshot(s, o);
    /* Then only whole frames: every one starts with "id: " where the previous ended. */
    char buf[64], frame[256];
    size_t at = 0;
    ssize_t n;
    while (s && (n = lc_event_sub_read(s, buf, chunk)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (at >= sizeof frame)
                abort();
            frame[at++] = buf[i];
            if (at >= 2 && frame[at - 1] == '\n' && frame[at - 2] == '\n') {
                if (memcmp(frame, "id: 7-", 6) != 0)
                    abort();
                at = 0;
            }
        }
    }
    if (at != 0)
        abort();
    lc_event_sub_free(&s);
    json_decref(o);
    lc_events_free(&ev);
    free(id);
    return 0;
}
