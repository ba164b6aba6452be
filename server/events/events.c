/* Per-webinar event logs and their readers (events.h). One mutex per webinar guards its ring
 * and its readers; the table of webinars has its own. A reader is a few dozen bytes: frames are
 * shared, serialised once per audience, and copied only into the connection's buffer. */
#include "events/events.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define RING_MASK (LC_EVENTS_RING - 1)
#define BUCKETS 256
#define READER_BUCKETS 1024 /* per webinar: open streams per registration */

typedef struct {
    int64_t seq;
    int64_t att_reg; /* LC_EVENTS_NO_ATTENDEE, LC_EVENTS_ALL_ATTENDEES or a registration */
    char *mod;       /* the moderators' frame, or NULL */
    size_t mod_len;
    char *att; /* the attendees' frame, or NULL */
    size_t att_len;
} event_t;

/* How many streams one registration has open (0: moderators). */
typedef struct reader {
    struct reader *next;
    int64_t reg;
    int streams;
} reader_t;

typedef struct hub {
    struct hub *next; /* in its bucket */
    int64_t webinar_id;
    int64_t epoch;   /* names this hub's lifetime in its event ids */
    int refs;        /* users between hub_get and hub_put (a reader holds one); under ev->mu */
    int64_t used_ms; /* CLOCK_MONOTONIC, the last get or put; under ev->mu */
    pthread_mutex_t mu;
    int64_t seq; /* the last event's */
    lc_event_sub_t *subs;
    reader_t *readers[READER_BUCKETS];
    size_t attendees; /* registrations (not moderators) with a stream open */
    event_t ring[LC_EVENTS_RING];
} hub_t;

struct lc_events {
    pthread_mutex_t mu; /* the buckets, and each hub's refs and used_ms */
    int64_t epoch;
    int64_t hubs_made; /* hub n's ids carry epoch + n: a hub made anew never resumes old ids */
    int64_t idle_ms;   /* a hub unused this long is freed */
    hub_t *buckets[BUCKETS];
};

struct lc_event_sub {
    hub_t *hub;
    lc_events_t *ev;
    lc_event_sub_t *prev, *next;
    int64_t reg; /* 0: a moderator */
    int64_t pos; /* the last event delivered or passed over */
    size_t off;  /* bytes of event pos + 1 already copied (a frame larger than the buffer) */
    char *pending; /* the snapshot frame, until copied */
    size_t pending_len, pending_off;
    bool ping_due;
    lc_events_wake_cb wake;
    void *wake_opaque;
};

static const char PING[] = ": ping\n\n";

lc_events_t *lc_events_new(int64_t epoch, int64_t idle_ms)
{
    lc_events_t *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    pthread_mutex_init(&ev->mu, NULL);
    ev->epoch = epoch;
    ev->idle_ms = idle_ms;
    return ev;
}

static void event_clear(event_t *e)
{
    free(e->mod);
    free(e->att);
    memset(e, 0, sizeof *e);
}

static void hub_free(hub_t *h)
{
    for (int i = 0; i < LC_EVENTS_RING; i++)
        event_clear(&h->ring[i]);
    for (int i = 0; i < READER_BUCKETS; i++)
        for (reader_t *r = h->readers[i], *rn; r; r = rn) {
            rn = r->next;
            free(r);
        }
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void lc_events_free(lc_events_t **pev)
{
    if (!pev || !*pev)
        return;
    lc_events_t *ev = *pev;
    for (int b = 0; b < BUCKETS; b++) {
        hub_t *next;
        for (hub_t *h = ev->buckets[b]; h; h = next) {
            next = h->next;
            hub_free(h);
        }
    }
    pthread_mutex_destroy(&ev->mu);
    free(ev);
    *pev = NULL;
}

/* The webinar's hub, created on first use, with a reference the caller gives back with
 * hub_put (a reader keeps its own until it is freed). A hub is ~200 KiB: one nobody used for
 * idle_ms is freed by lc_events_ping. NULL when out of memory, or when `create` is false and
 * there is none. */
static hub_t *hub_get(lc_events_t *ev, int64_t webinar_id, bool create)
{
    unsigned b = (unsigned)((uint64_t)webinar_id * 0x9E3779B97F4A7C15ull >> 56) % BUCKETS;
    pthread_mutex_lock(&ev->mu);
    hub_t *h = ev->buckets[b];
    while (h && h->webinar_id != webinar_id)
        h = h->next;
    if (!h && create) {
        h = calloc(1, sizeof *h);
        if (h) {
            h->webinar_id = webinar_id;
            h->epoch = ev->epoch + ev->hubs_made++;
            pthread_mutex_init(&h->mu, NULL);
            h->next = ev->buckets[b];
            ev->buckets[b] = h;
        }
    }
    if (h) {
        h->refs++;
        h->used_ms = lc_now_mono_ms();
    }
    pthread_mutex_unlock(&ev->mu);
    return h;
}

static void hub_put(lc_events_t *ev, hub_t *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&ev->mu);
    h->refs--;
    h->used_ms = lc_now_mono_ms();
    pthread_mutex_unlock(&ev->mu);
}

/* A complete SSE frame: "id: EPOCH-SEQ\nevent: TYPE\ndata: JSON\n\n" (compact JSON has no line
 * breaks: they are escaped inside strings). */
static char *frame(int64_t epoch, int64_t seq, const char *type, const char *data, size_t *len)
{
    size_t cap = strlen(type) + strlen(data) + 64;
    char *f = malloc(cap);
    if (!f)
        return NULL;
    int n = snprintf(f, cap, "id: %" PRId64 "-%" PRId64 "\nevent: %s\ndata: %s\n\n", epoch, seq,
                     type, data);
    if (n < 0 || (size_t)n >= cap) {
        free(f);
        return NULL;
    }
    *len = (size_t)n;
    return f;
}

static bool visible(const lc_event_sub_t *s, const event_t *e)
{
    if (s->reg == 0)
        return e->mod != NULL;
    return e->att && (e->att_reg == LC_EVENTS_ALL_ATTENDEES || e->att_reg == s->reg);
}

int64_t lc_events_publish(lc_events_t *ev, int64_t webinar_id, const char *type, json_t *mod,
                          json_t *att, int64_t att_reg)
{
    char *mod_s = mod ? json_dumps(mod, JSON_COMPACT) : NULL;
    char *att_s = att ? json_dumps(att, JSON_COMPACT) : NULL;
    hub_t *h = hub_get(ev, webinar_id, true);
    int64_t rc = -ENOMEM;
    if (!h || (mod && !mod_s) || (att && !att_s))
        goto out;
    pthread_mutex_lock(&h->mu);
    int64_t seq = h->seq + 1;
    event_t e = {.seq = seq, .att_reg = att ? att_reg : LC_EVENTS_NO_ATTENDEE};
    if (mod_s)
        e.mod = frame(h->epoch, seq, type, mod_s, &e.mod_len);
    if (att_s)
        e.att = frame(h->epoch, seq, type, att_s, &e.att_len);
    if ((mod_s && !e.mod) || (att_s && !e.att)) {
        pthread_mutex_unlock(&h->mu);
        event_clear(&e);
        goto out;
    }
    event_clear(&h->ring[seq & RING_MASK]);
    h->ring[seq & RING_MASK] = e;
    h->seq = seq;
    for (lc_event_sub_t *s = h->subs; s; s = s->next)
        if (s->wake && visible(s, &e))
            s->wake(s->wake_opaque);
    pthread_mutex_unlock(&h->mu);
    rc = seq;
out:
    hub_put(ev, h);
    free(mod_s);
    free(att_s);
    return rc;
}

int lc_events_parse_id(const char *id, int64_t *epoch, int64_t *seq)
{
    if (!id)
        return -EINVAL;
    const char *dash = strchr(id, '-');
    char head[24];
    if (!dash || dash == id || (size_t)(dash - id) >= sizeof head)
        return -EINVAL;
    memcpy(head, id, (size_t)(dash - id));
    head[dash - id] = 0;
    if (lc_parse_int64(head, 0, INT64_MAX, epoch) < 0 ||
        lc_parse_int64(dash + 1, 0, INT64_MAX, seq) < 0)
        return -EINVAL;
    return 0;
}

static reader_t **reader_slot(hub_t *h, int64_t reg)
{
    reader_t **p = &h->readers[(uint64_t)reg * 0x9E3779B97F4A7C15ull >> 54];
    while (*p && (*p)->reg != reg)
        p = &(*p)->next;
    return p;
}

int lc_events_subscribe(lc_events_t *ev, int64_t webinar_id, int64_t registration_id,
                        const char *last_event_id, int max_streams, bool *snapshot,
                        lc_event_sub_t **out)
{
    hub_t *h = hub_get(ev, webinar_id, true);
    lc_event_sub_t *s = h ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        hub_put(ev, h);
        return -ENOMEM;
    }
    s->hub = h;
    s->ev = ev;
    s->reg = registration_id;
    int64_t epoch, seq;
    bool resumable = lc_events_parse_id(last_event_id, &epoch, &seq) == 0 && epoch == h->epoch;
    pthread_mutex_lock(&h->mu);
    reader_t **slot = reader_slot(h, registration_id);
    if (!*slot && (*slot = calloc(1, sizeof **slot)))
        (*slot)->reg = registration_id;
    if (!*slot || (max_streams > 0 && (*slot)->streams >= max_streams)) {
        int rc = *slot ? -EMFILE : -ENOMEM;
        pthread_mutex_unlock(&h->mu);
        hub_put(ev, h);
        free(s);
        return rc;
    }
    if ((*slot)->streams++ == 0 && registration_id > 0)
        h->attendees++;
    /* Resumable when every event after `seq` is still in the ring. */
    if (resumable && seq <= h->seq && h->seq - seq <= LC_EVENTS_RING) {
        s->pos = seq;
        *snapshot = false;
    } else {
        s->pos = h->seq;
        *snapshot = true;
    }
    s->next = h->subs;
    if (h->subs)
        h->subs->prev = s;
    h->subs = s;
    pthread_mutex_unlock(&h->mu);
    *out = s;
    return 0;
}

int lc_event_sub_snapshot(lc_event_sub_t *sub, json_t *data)
{
    char *s = json_dumps(data, JSON_COMPACT);
    if (!s)
        return -ENOMEM;
    pthread_mutex_lock(&sub->hub->mu);
    free(sub->pending);
    sub->pending = frame(sub->hub->epoch, sub->pos, "snapshot", s, &sub->pending_len);
    sub->pending_off = 0;
    bool ok = sub->pending != NULL;
    pthread_mutex_unlock(&sub->hub->mu);
    free(s);
    return ok ? 0 : -ENOMEM;
}

void lc_event_sub_set_wake(lc_event_sub_t *sub, lc_events_wake_cb wake, void *opaque)
{
    pthread_mutex_lock(&sub->hub->mu);
    sub->wake = wake;
    sub->wake_opaque = opaque;
    pthread_mutex_unlock(&sub->hub->mu);
}

ssize_t lc_event_sub_read(lc_event_sub_t *sub, char *buf, size_t max)
{
    hub_t *h = sub->hub;
    size_t n = 0;
    pthread_mutex_lock(&h->mu);
    if (sub->pending) {
        size_t k = sub->pending_len - sub->pending_off;
        if (k > max)
            k = max;
        memcpy(buf, sub->pending + sub->pending_off, k);
        sub->pending_off += k;
        n = k;
        if (sub->pending_off < sub->pending_len) {
            pthread_mutex_unlock(&h->mu);
            return (ssize_t)n;
        }
        free(sub->pending);
        sub->pending = NULL;
    }
    while (n < max && sub->pos < h->seq) {
        int64_t next = sub->pos + 1;
        if (h->seq - next >= LC_EVENTS_RING) {
            /* Overwritten before this reader took it: the client must resume anew. */
            pthread_mutex_unlock(&h->mu);
            return n > 0 ? (ssize_t)n : -EPIPE;
        }
        const event_t *e = &h->ring[next & RING_MASK];
        if (!visible(sub, e)) {
            sub->pos = next;
            sub->off = 0;
            continue;
        }
        const char *f = sub->reg == 0 ? e->mod : e->att;
        size_t len = sub->reg == 0 ? e->mod_len : e->att_len;
        size_t rest = len - sub->off;
        if (rest <= max - n) {
            memcpy(buf + n, f + sub->off, rest);
            n += rest;
            sub->pos = next;
            sub->off = 0;
        } else {
            if (n == 0) { /* a frame larger than the buffer: in pieces */
                memcpy(buf, f + sub->off, max);
                sub->off += max;
                n = max;
            }
            break;
        }
    }
    if (n == 0 && sub->ping_due && max >= sizeof PING - 1) {
        memcpy(buf, PING, sizeof PING - 1);
        n = sizeof PING - 1;
    }
    if (n > 0)
        sub->ping_due = false; /* anything sent keeps the stream alive as well */
    pthread_mutex_unlock(&h->mu);
    return (ssize_t)n;
}

void lc_event_sub_free(lc_event_sub_t **psub)
{
    if (!psub || !*psub)
        return;
    lc_event_sub_t *s = *psub;
    hub_t *h = s->hub;
    pthread_mutex_lock(&h->mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        h->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    reader_t **slot = reader_slot(h, s->reg), *r = *slot;
    if (r && --r->streams == 0) {
        *slot = r->next;
        free(r);
        if (s->reg > 0)
            h->attendees--;
    }
    pthread_mutex_unlock(&h->mu);
    hub_put(s->ev, h);
    free(s->pending);
    free(s);
    *psub = NULL;
}

/* Pings every reader, and frees the hubs nobody used for idle_ms (no reader, no publisher
 * meanwhile): their ring is the bulk of this module's memory. The table's lock is held
 * throughout, so no hub is taken meanwhile; each hub's own lock inside it (the one order). */
void lc_events_ping(lc_events_t *ev)
{
    int64_t now = lc_now_mono_ms();
    pthread_mutex_lock(&ev->mu);
    for (int b = 0; b < BUCKETS; b++) {
        for (hub_t **p = &ev->buckets[b]; *p;) {
            hub_t *h = *p;
            if (h->refs == 0 && now - h->used_ms >= ev->idle_ms) {
                *p = h->next;
                hub_free(h);
                continue;
            }
            pthread_mutex_lock(&h->mu);
            for (lc_event_sub_t *s = h->subs; s; s = s->next) {
                s->ping_due = true;
                if (s->wake)
                    s->wake(s->wake_opaque);
            }
            pthread_mutex_unlock(&h->mu);
            p = &h->next;
        }
    }
    pthread_mutex_unlock(&ev->mu);
}

size_t lc_events_audience(lc_events_t *ev, int64_t webinar_id)
{
    hub_t *h = hub_get(ev, webinar_id, false);
    if (!h)
        return 0;
    pthread_mutex_lock(&h->mu);
    size_t n = h->attendees;
    pthread_mutex_unlock(&h->mu);
    hub_put(ev, h);
    return n;
}

int64_t lc_events_last_seq(lc_events_t *ev, int64_t webinar_id)
{
    hub_t *h = hub_get(ev, webinar_id, false);
    if (!h)
        return 0;
    pthread_mutex_lock(&h->mu);
    int64_t seq = h->seq;
    pthread_mutex_unlock(&h->mu);
    hub_put(ev, h);
    return seq;
}
