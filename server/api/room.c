/* The live rooms' runtime (room.h) and what each change means to whom: the attendees' views of
 * polls, questions, messages and hands (names only where the webinar and the attendee allow)
 * and the audience of each event. */
#include "api/room.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/lobby.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "db/leads.h"

#define TICK_MS 100
#define DIRTY_MAX 256
#define WATCH_MAX 256
/* A webinar's audience is followed this long after its last stream opened. */
#define WATCH_LINGER_MS (6 * 3600 * 1000LL)

typedef struct {
    int64_t webinar_id, poll_id;
    int64_t last_ms; /* when its results went out last */
    bool dirty;
} dirty_t;

typedef struct {
    int64_t webinar_id;
    int64_t seen_ms;
    long long watching, waiting; /* as last announced; -1 before */
} watch_t;

struct lc_room {
    lc_app_t *app;
    lc_events_t *events;
    uint8_t key[32];
    pthread_mutex_t mu; /* dirty, watched, stopping */
    pthread_cond_t cond;
    dirty_t dirty[DIRTY_MAX];
    int ndirty;
    watch_t watched[WATCH_MAX];
    int nwatched;
    struct {
        int64_t webinar_id, at_ms;
    } ended[WATCH_MAX]; /* ended by a moderator, recently (a ring) */
    int nended;
    bool stopping;
    pthread_t thread;
    bool started;
};

lc_events_t *lc_room_events(lc_room_t *room) { return room->events; }

void lc_room_voter(lc_room_t *room, int64_t poll_id, int64_t registration_id,
                   uint8_t out[LC_VOTER_LEN])
{
    uint8_t msg[16], mac[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    for (int i = 0; i < 8; i++) {
        msg[i] = (uint8_t)((uint64_t)poll_id >> (56 - 8 * i));
        msg[8 + i] = (uint8_t)((uint64_t)registration_id >> (56 - 8 * i));
    }
    HMAC(EVP_sha256(), room->key, sizeof room->key, msg, sizeof msg, mac, &len);
    memcpy(out, mac, LC_VOTER_LEN);
}

void lc_room_results_dirty(lc_room_t *room, int64_t webinar_id, int64_t poll_id)
{
    pthread_mutex_lock(&room->mu);
    int i = 0;
    while (i < room->ndirty && room->dirty[i].poll_id != poll_id)
        i++;
    if (i == room->ndirty && room->ndirty < DIRTY_MAX)
        room->dirty[room->ndirty++] = (dirty_t){webinar_id, poll_id, 0, false};
    if (i < room->ndirty)
        room->dirty[i].dirty = true;
    /* More polls with votes arriving than slots: the oldest entries are reused below once
     * published (DIRTY_MAX polls open at once is far beyond a webinar's use). */
    pthread_mutex_unlock(&room->mu);
}

void lc_room_watch(lc_room_t *room, int64_t webinar_id)
{
    int64_t now = lc_now_mono_ms();
    pthread_mutex_lock(&room->mu);
    int i = 0;
    while (i < room->nwatched && room->watched[i].webinar_id != webinar_id)
        i++;
    if (i == room->nwatched && room->nwatched < WATCH_MAX)
        room->watched[room->nwatched++] = (watch_t){webinar_id, now, -1, -1};
    if (i < room->nwatched)
        room->watched[i].seen_ms = now;
    pthread_mutex_unlock(&room->mu);
}

/* ---- views ------------------------------------------------------------------------------------ */

static json_t *copy_members(const json_t *from, const char *const *names)
{
    json_t *o = json_object();
    for (int i = 0; o && names[i]; i++) {
        json_t *v = json_object_get(from, names[i]);
        if (v)
            json_object_set(o, names[i], v);
    }
    return o;
}

json_t *lc_room_poll_view(const json_t *poll)
{
    static const char *const keep[] = {"id", "question", "multiple", "anonymous",
                                       "allow_change", "state", "options", NULL};
    json_t *o = copy_members(poll, keep);
    if (!o)
        return NULL;
    json_t *res = json_object_get(poll, "results");
    json_object_set(o, "results",
                    json_is_true(json_object_get(poll, "results_shown")) && res ? res
                                                                                 : json_null());
    return o;
}

/* The name attendees may see: when the webinar shows names and the author agreed. */
static json_t *shown_name(const json_t *row, bool names_hidden)
{
    json_t *name = json_object_get(row, "name");
    return !names_hidden && json_is_true(json_object_get(row, "show_name")) && name
               ? json_incref(name)
               : json_null();
}

json_t *lc_room_question_view(const json_t *q, bool names_hidden, int64_t viewer)
{
    static const char *const keep[] = {"id", "body", "state", "upvotes", "asked_at", "public",
                                       NULL};
    json_t *o = copy_members(q, keep);
    if (!o)
        return NULL;
    json_object_set_new(o, "name", shown_name(q, names_hidden));
    if (viewer > 0) {
        json_object_set_new(o, "mine", json_boolean(json_integer_value(json_object_get(
                                                        q, "registration_id")) == viewer));
        json_object_set_new(o, "upvoted", json_false());
    }
    return o;
}

/* Who may see a chat message among the attendees: everyone (public), one (private), none. */
static int64_t chat_audience(const json_t *m)
{
    json_t *from = json_object_get(m, "registration_id"), *to = json_object_get(m, "to_registration_id");
    if (json_is_true(json_object_get(m, "to_moderators")))
        return json_integer_value(from);
    if (json_is_integer(to))
        return json_integer_value(to);
    return LC_EVENTS_ALL_ATTENDEES;
}

json_t *lc_room_chat_view(const json_t *m, bool names_hidden, int64_t viewer)
{
    static const char *const keep[] = {"id", "body", "at", NULL};
    json_t *o = copy_members(m, keep);
    if (!o)
        return NULL;
    json_t *from = json_object_get(m, "registration_id");
    bool moderator = !json_is_integer(from);
    json_object_set_new(o, "name", moderator ? json_null() : shown_name(m, names_hidden));
    json_object_set_new(o, "from", json_string(moderator ? "moderator" : "attendee"));
    json_object_set_new(o, "private", json_boolean(chat_audience(m) != LC_EVENTS_ALL_ATTENDEES));
    if (viewer > 0)
        json_object_set_new(o, "mine", json_boolean(!moderator &&
                                                     json_integer_value(from) == viewer));
    return o;
}

/* Whether an attendee may see a chat message (and it is not deleted). */
bool lc_room_chat_visible(const json_t *m, int64_t viewer)
{
    if (json_is_true(json_object_get(m, "deleted")))
        return false;
    int64_t a = chat_audience(m);
    return a == LC_EVENTS_ALL_ATTENDEES || a == viewer;
}

json_t *lc_room_hand_view(const json_t *h)
{
    static const char *const keep[] = {"raised", "raised_at", "acknowledged_at", NULL};
    return copy_members(h, keep);
}

json_t *lc_room_settings(const lc_webinar_t *w)
{
    return json_pack("{s:b,s:b,s:b}", "questions_public", w->settings.questions_public,
                     "chat_enabled", w->settings.chat_enabled, "names_hidden",
                     w->settings.hide_attendee_names);
}

/* ---- publishing --------------------------------------------------------------------------- */

static void publish(lc_room_t *room, int64_t webinar_id, const char *type, json_t *mod,
                    json_t *att, int64_t att_reg)
{
    if (lc_events_publish(room->events, webinar_id, type, mod, att, att_reg) < 0)
        LC_WARN("room", "webinar %lld: an event could not be published (out of memory)",
                (long long)webinar_id);
    json_decref(mod);
    json_decref(att);
}

static bool is_draft(const json_t *poll)
{
    const char *st = json_string_value(json_object_get(poll, "state"));
    return st && strcmp(st, "draft") == 0;
}

void lc_room_publish_change(lc_room_t *room, const lc_ix_job_t *j)
{
    const json_t *out = j->out;
    int64_t w = j->webinar_id;
    switch (j->op) {
    case LC_IX_POLL_CREATE:
    case LC_IX_POLL_UPDATE:
    case LC_IX_POLL_STATE:
    case LC_IX_POLL_RESULTS:
        publish(room, w, "poll", json_incref((json_t *)out),
                is_draft(out) ? NULL : lc_room_poll_view(out), LC_EVENTS_ALL_ATTENDEES);
        break;
    case LC_IX_POLL_DELETE: {
        json_t *id = json_pack("{s:O}", "id", json_object_get(out, "id"));
        publish(room, w, "poll_removed", json_incref(id), is_draft(out) ? NULL : json_incref(id),
                LC_EVENTS_ALL_ATTENDEES);
        json_decref(id);
        break;
    }
    case LC_IX_VOTE:
        lc_room_results_dirty(room, w, j->target_id);
        break;
    case LC_IX_QUESTION_ADD:
    case LC_IX_QUESTION_UPVOTE:
    case LC_IX_QUESTION_STATE: {
        int64_t asker = json_integer_value(json_object_get(out, "registration_id"));
        bool pub = json_is_true(json_object_get(out, "public"));
        /* Public questions go to everyone (a dismissed one once more, so that pages drop it);
         * private ones to their asker, who sees them marked as theirs. */
        publish(room, w, "question", json_incref((json_t *)out),
                lc_room_question_view(out, j->names_hidden, pub ? 0 : asker),
                pub ? LC_EVENTS_ALL_ATTENDEES : asker);
        break;
    }
    case LC_IX_CHAT_ADD: {
        int64_t aud = chat_audience(out);
        publish(room, w, "chat", json_incref((json_t *)out),
                lc_room_chat_view(out, j->names_hidden, aud), aud);
        break;
    }
    case LC_IX_CHAT_DELETE: {
        json_t *id = json_pack("{s:O}", "id", json_object_get(out, "id"));
        publish(room, w, "chat_deleted", json_incref(id), json_incref(id), chat_audience(out));
        json_decref(id);
        break;
    }
    case LC_IX_MUTE:
        publish(room, w, "muted",
                json_pack("{s:I,s:b}", "registration_id", (json_int_t)j->to_registration_id,
                          "muted", j->flag),
                json_pack("{s:b}", "muted", j->flag), j->to_registration_id);
        break;
    case LC_IX_HAND:
        if (j->changed)
            publish(room, w, "hand", json_incref((json_t *)out), lc_room_hand_view(out),
                    j->registration_id);
        break;
    }
}

void lc_room_publish_settings(lc_room_t *room, const lc_webinar_t *w)
{
    json_t *s = lc_room_settings(w);
    publish(room, w->id, "settings", json_incref(s), json_incref(s), LC_EVENTS_ALL_ATTENDEES);
    json_decref(s);
}

void lc_room_mark_ended(lc_room_t *room, int64_t webinar_id)
{
    pthread_mutex_lock(&room->mu);
    int i = room->nended++ % WATCH_MAX;
    room->ended[i].webinar_id = webinar_id;
    room->ended[i].at_ms = lc_now_mono_ms();
    pthread_mutex_unlock(&room->mu);
}

bool lc_room_recently_ended(lc_room_t *room, int64_t webinar_id)
{
    int64_t now = lc_now_mono_ms();
    bool found = false;
    pthread_mutex_lock(&room->mu);
    int n = room->nended < WATCH_MAX ? room->nended : WATCH_MAX;
    for (int i = 0; i < n && !found; i++)
        found = room->ended[i].webinar_id == webinar_id &&
                now - room->ended[i].at_ms < LC_ROOM_END_HOLD_MS;
    pthread_mutex_unlock(&room->mu);
    return found;
}

void lc_room_publish_ended(lc_room_t *room, int64_t webinar_id)
{
    lc_room_mark_ended(room, webinar_id);
    publish(room, webinar_id, "ended", json_object(), json_object(), LC_EVENTS_ALL_ATTENDEES);
}

/* ---- the thread ------------------------------------------------------------------------------ */

/* Publishes a poll's current results: to moderators always, to attendees when shown. */
static void publish_results(lc_room_t *room, int64_t webinar_id, int64_t poll_id)
{
    json_t *polls = NULL, *res = NULL;
    if (lc_db_polls(room->app->db, webinar_id, poll_id, &polls) < 0 ||
        lc_db_poll_results(room->app->db, poll_id, &res) < 0) {
        json_decref(polls);
        return; /* logged; the next vote retries */
    }
    json_t *poll = json_array_get(polls, 0);
    if (poll) {
        json_object_set(poll, "results", res);
        json_t *mod = json_pack("{s:I,s:O,s:O,s:O}", "id", (json_int_t)poll_id, "total",
                                json_object_get(res, "total"), "voters",
                                json_object_get(res, "voters"), "counts",
                                json_object_get(res, "counts"));
        publish(room, webinar_id, "poll_results", mod, NULL, LC_EVENTS_NO_ATTENDEE);
        if (json_is_true(json_object_get(poll, "results_shown")))
            publish(room, webinar_id, "poll", NULL, lc_room_poll_view(poll),
                    LC_EVENTS_ALL_ATTENDEES);
    }
    json_decref(res);
    json_decref(polls);
}

static void results_due(lc_room_t *room, int64_t now)
{
    dirty_t due[DIRTY_MAX];
    int n = 0;
    pthread_mutex_lock(&room->mu);
    for (int i = 0; i < room->ndirty; i++) {
        dirty_t *d = &room->dirty[i];
        if (d->dirty && now - d->last_ms >= LC_ROOM_RESULTS_MS) {
            d->dirty = false;
            d->last_ms = now;
            due[n++] = *d;
        } else if (!d->dirty && now - d->last_ms > 60000) {
            room->dirty[i--] = room->dirty[--room->ndirty]; /* quiet for a minute: forget */
        }
    }
    pthread_mutex_unlock(&room->mu);
    for (int i = 0; i < n; i++)
        publish_results(room, due[i].webinar_id, due[i].poll_id);
}

static void audience_due(lc_room_t *room, int64_t now)
{
    watch_t list[WATCH_MAX];
    pthread_mutex_lock(&room->mu);
    for (int i = 0; i < room->nwatched; i++)
        if (now - room->watched[i].seen_ms > WATCH_LINGER_MS &&
            lc_events_audience(room->events, room->watched[i].webinar_id) == 0)
            room->watched[i--] = room->watched[--room->nwatched];
    int n = room->nwatched;
    memcpy(list, room->watched, (size_t)n * sizeof *list);
    pthread_mutex_unlock(&room->mu);
    for (int i = 0; i < n; i++) {
        long long watching = (long long)lc_events_audience(room->events, list[i].webinar_id);
        int64_t *ids = NULL;
        size_t waiting = 0;
        lc_lobby_present(room->app->lobby, list[i].webinar_id, lc_now_real_ms(), &ids, &waiting);
        free(ids);
        if (watching == list[i].watching && (long long)waiting == list[i].waiting)
            continue;
        publish(room, list[i].webinar_id, "audience",
                json_pack("{s:I,s:I}", "watching", (json_int_t)watching, "waiting",
                          (json_int_t)waiting),
                NULL, LC_EVENTS_NO_ATTENDEE);
        pthread_mutex_lock(&room->mu);
        for (int k = 0; k < room->nwatched; k++)
            if (room->watched[k].webinar_id == list[i].webinar_id) {
                room->watched[k].watching = watching;
                room->watched[k].waiting = (long long)waiting;
            }
        pthread_mutex_unlock(&room->mu);
    }
}

static void *room_main(void *arg)
{
    lc_room_t *room = arg;
    int64_t ping_ms = room->app->cfg.events_ping_ms > 0 ? room->app->cfg.events_ping_ms
                                                        : LC_EVENTS_PING_DEFAULT_MS;
    int64_t next_ping = lc_now_mono_ms() + ping_ms;
    int64_t next_audience = 0;
    pthread_mutex_lock(&room->mu);
    while (!room->stopping) {
        struct timespec ts = lc_mono_timespec(lc_now_mono_ms() + TICK_MS);
        pthread_cond_timedwait(&room->cond, &room->mu, &ts);
        if (room->stopping)
            break;
        pthread_mutex_unlock(&room->mu);
        int64_t now = lc_now_mono_ms();
        results_due(room, now);
        if (now >= next_audience) {
            audience_due(room, now);
            next_audience = now + LC_ROOM_AUDIENCE_MS;
        }
        if (now >= next_ping) {
            lc_events_ping(room->events);
            next_ping = now + ping_ms;
        }
        pthread_mutex_lock(&room->mu);
    }
    pthread_mutex_unlock(&room->mu);
    return NULL;
}

lc_room_t *lc_room_start(lc_app_t *app, int *err)
{
    lc_room_t *room = calloc(1, sizeof *room);
    uint8_t epoch_bytes[6];
    size_t klen = 0;
    int rc = room ? 0 : -ENOMEM;
    if (rc == 0)
        rc = lc_db_secret_get(app->db, "vote_hmac", room->key, sizeof room->key, &klen);
    if (rc == 0 && klen != sizeof room->key)
        rc = -EINVAL;
    if (rc < 0) {
        LC_ERROR("room", "the voters' key is missing: %s", lc_strerror(rc));
        goto fail;
    }
    /* Event ids of an earlier run must never look resumable. */
    if ((rc = lc_random_bytes(epoch_bytes, sizeof epoch_bytes)) < 0)
        goto fail;
    int64_t epoch = 0;
    for (size_t i = 0; i < sizeof epoch_bytes; i++)
        epoch = epoch << 8 | epoch_bytes[i];
    room->app = app;
    room->events = lc_events_new(epoch, LC_EVENTS_IDLE_MS);
    if (!room->events) {
        rc = -ENOMEM;
        goto fail;
    }
    pthread_mutex_init(&room->mu, NULL);
    lc_cond_init_monotonic(&room->cond);
    if (pthread_create(&room->thread, NULL, room_main, room) != 0) {
        pthread_cond_destroy(&room->cond);
        pthread_mutex_destroy(&room->mu);
        rc = -EAGAIN;
        goto fail;
    }
    room->started = true;
    return room;
fail:
    if (room) {
        lc_events_free(&room->events);
        OPENSSL_cleanse(room->key, sizeof room->key);
        free(room);
    }
    *err = rc;
    return NULL;
}

void lc_room_stop(lc_room_t **proom)
{
    if (!proom || !*proom)
        return;
    lc_room_t *room = *proom;
    pthread_mutex_lock(&room->mu);
    room->stopping = true;
    pthread_cond_broadcast(&room->cond);
    pthread_mutex_unlock(&room->mu);
    pthread_join(room->thread, NULL);
    pthread_cond_destroy(&room->cond);
    pthread_mutex_destroy(&room->mu);
    lc_events_free(&room->events);
    OPENSSL_cleanse(room->key, sizeof room->key);
    free(room);
    *proom = NULL;
}
