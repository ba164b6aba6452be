/* The event streams (Server-Sent Events): one per attendee (by join link) and per moderator.
 * A stream subscribes to its webinar's log (events/events.h), begins with a snapshot built from
 * the database unless it resumes after a Last-Event-ID the log still holds, and is then held
 * without a thread (lc_reply_push) until there is something for it. */
#include "api/interaction.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include <openssl/crypto.h>

#include "api/registration.h"
#include "auth/auth.h"
#include "api/room.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "events/events.h"

/* Chat messages a snapshot carries. */
#define SNAPSHOT_CHAT_ATTENDEE 100
#define SNAPSHOT_CHAT_MODERATOR 200
/* An attendee's snapshot looks this far back for the messages they may see. */
#define SNAPSHOT_CHAT_SCAN 1000

/* A held stream: its reader and, for a moderator, the login it was opened with, looked at
 * again every SESSION_CHECK_MS (a ping at the latest) so that logging out, or the login
 * expiring, ends the stream of private questions and names too. */
typedef struct {
    lc_event_sub_t *sub;
    lc_app_t *app;
    char token[LC_DB_TOKEN_MAX]; /* "" for an attendee */
    int64_t checked_ms;
} held_t;

#define SESSION_CHECK_MS 2000

static ssize_t held_read(void *opaque, char *buf, size_t max)
{
    held_t *h = opaque;
    if (h->token[0]) {
        int64_t now = lc_now_mono_ms();
        if (now - h->checked_ms >= SESSION_CHECK_MS) {
            lc_auth_session_t s;
            if (lc_auth_session_get(h->app->auth, h->token, lc_now_real_ms(), &s) < 0)
                return -EACCES;
            h->checked_ms = now;
        }
    }
    return lc_event_sub_read(h->sub, buf, max);
}

static void held_free(void *opaque)
{
    held_t *h = opaque;
    lc_event_sub_free(&h->sub);
    OPENSSL_cleanse(h->token, sizeof h->token);
    free(h);
}

static void sub_wake(void *opaque) { lc_push_wake(opaque); }

/* The attendee's snapshot (docs/api.md). */
static int attendee_snapshot(lc_app_t *app, const lc_webinar_t *w, int64_t me, json_t **out)
{
    lc_db_t *db = app->db;
    bool hidden = w->settings.hide_attendee_names;
    json_t *polls = NULL, *questions = NULL, *upvoted = NULL, *chat = NULL, *hands = NULL,
           *mutes = NULL;
    int rc;
    if ((rc = lc_db_polls(db, w->id, 0, &polls)) < 0 ||
        (rc = lc_db_questions(db, w->id, 0, &questions)) < 0 ||
        (rc = lc_db_question_upvoted(db, w->id, me, &upvoted)) < 0 ||
        (rc = lc_db_chat_recent(db, w->id, SNAPSHOT_CHAT_SCAN, &chat)) < 0 ||
        (rc = lc_db_hands(db, w->id, &hands)) < 0 || (rc = lc_db_chat_mutes(db, w->id, &mutes)) < 0)
        goto out;
    json_t *vpolls = json_array(), *vq = json_array(), *vchat = json_array();
    json_t *snap = json_pack("{s:o,s:{s:I,s:{s:b,s:n,s:n},s:b},s:o,s:o,s:o}", "settings",
                             lc_room_settings(w), "you", "registration_id", (json_int_t)me,
                             "hand", "raised", 0, "raised_at", "acknowledged_at", "muted", 0,
                             "polls", vpolls, "questions", vq, "chat", vchat);
    if (!snap) {
        rc = -ENOMEM;
        goto out;
    }
    size_t i;
    json_t *o;
    json_array_foreach(polls, i, o) {
        const char *st = json_string_value(json_object_get(o, "state"));
        if (strcmp(st, "draft") == 0)
            continue;
        int64_t pid = json_integer_value(json_object_get(o, "id"));
        json_t *res = NULL;
        if (json_is_true(json_object_get(o, "results_shown")) &&
            (rc = lc_db_poll_results(db, pid, &res)) < 0)
            break;
        if (res)
            json_object_set_new(o, "results", res);
        uint8_t voter[LC_VOTER_LEN];
        int mask = 0;
        lc_room_voter(app->room, pid, me, voter);
        if ((rc = lc_db_poll_vote_mask(db, pid, voter, &mask)) < 0)
            break;
        json_t *v = lc_room_poll_view(o), *mine = mask ? json_array() : json_null();
        json_t *opt;
        size_t k;
        json_array_foreach(json_object_get(o, "options"), k, opt)
            if (mask && k < LC_POLL_OPTIONS_MAX && (mask & (1 << k)))
                json_array_append(mine, json_object_get(opt, "id"));
        if (v)
            json_object_set_new(v, "my_vote", mine);
        json_array_append_new(vpolls, v);
    }
    json_array_foreach(questions, i, o) {
        bool mine = json_integer_value(json_object_get(o, "registration_id")) == me;
        const char *st = json_string_value(json_object_get(o, "state"));
        if (!mine && (!json_is_true(json_object_get(o, "public")) || strcmp(st, "dismissed") == 0))
            continue;
        json_t *v = lc_room_question_view(o, hidden, me);
        bool up = false;
        size_t k;
        json_t *id;
        json_array_foreach(upvoted, k, id)
            up = up || json_integer_value(id) == json_integer_value(json_object_get(o, "id"));
        if (v)
            json_object_set_new(v, "upvoted", json_boolean(up));
        json_array_append_new(vq, v);
    }
    json_array_foreach(chat, i, o)
        if (lc_room_chat_visible(o, me))
            json_array_append_new(vchat, lc_room_chat_view(o, hidden, me));
    while (json_array_size(vchat) > SNAPSHOT_CHAT_ATTENDEE)
        json_array_remove(vchat, 0);
    json_t *you = json_object_get(snap, "you");
    json_array_foreach(hands, i, o)
        if (json_integer_value(json_object_get(o, "registration_id")) == me)
            json_object_set_new(you, "hand", lc_room_hand_view(o));
    json_array_foreach(mutes, i, o)
        if (json_integer_value(o) == me)
            json_object_set_new(you, "muted", json_true());
    if (rc < 0)
        json_decref(snap);
    else
        *out = snap;
out:
    json_decref(polls);
    json_decref(questions);
    json_decref(upvoted);
    json_decref(chat);
    json_decref(hands);
    json_decref(mutes);
    return rc;
}

static int moderator_snapshot(lc_app_t *app, const lc_webinar_t *w, json_t **out)
{
    lc_db_t *db = app->db;
    json_t *polls = NULL, *questions = NULL, *chat = NULL, *hands = NULL, *mutes = NULL;
    int rc;
    if ((rc = lc_db_polls(db, w->id, 0, &polls)) < 0 ||
        (rc = lc_db_questions(db, w->id, 0, &questions)) < 0 ||
        (rc = lc_db_chat_recent(db, w->id, SNAPSHOT_CHAT_MODERATOR, &chat)) < 0 ||
        (rc = lc_db_hands(db, w->id, &hands)) < 0 || (rc = lc_db_chat_mutes(db, w->id, &mutes)) < 0)
        goto out;
    size_t i;
    json_t *o;
    json_array_foreach(polls, i, o) {
        json_t *res = NULL;
        if ((rc = lc_db_poll_results(db, json_integer_value(json_object_get(o, "id")), &res)) < 0)
            goto out;
        json_object_set_new(o, "results", res);
    }
    *out = json_pack("{s:o,s:O,s:O,s:O,s:O,s:o,s:O}", "settings", lc_room_settings(w), "polls",
                     polls, "questions", questions, "chat", chat, "hands", hands, "audience",
                     lc_ix_audience_json(app, w->id), "muted", mutes);
    if (!*out)
        rc = -ENOMEM;
out:
    json_decref(polls);
    json_decref(questions);
    json_decref(chat);
    json_decref(hands);
    json_decref(mutes);
    return rc;
}

/* Subscribes, queues the snapshot when one is needed, and holds the stream. */
static int stream(lc_req_t *req, const lc_webinar_t *w, int64_t me)
{
    lc_app_t *app = lc_req_app(req);
    const char *last = lc_req_header(req, "Last-Event-ID");
    if (!last)
        last = lc_req_query(req, "last_event_id");
    bool need_snapshot = false;
    lc_event_sub_t *sub = NULL;
    int src = lc_events_subscribe(lc_room_events(app->room), w->id, me, last,
                                  me ? LC_IX_STREAMS_PER_ATTENDEE : LC_IX_STREAMS_MODERATORS,
                                  &need_snapshot, &sub);
    if (src == -EMFILE)
        return lc_reply_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_streams",
                              "too many live-event streams are open for this link; close a tab");
    if (src < 0)
        return src;
    if (need_snapshot) {
        json_t *snap = NULL;
        int rc = me ? attendee_snapshot(app, w, me, &snap) : moderator_snapshot(app, w, &snap);
        if (rc == 0)
            rc = lc_event_sub_snapshot(sub, snap);
        json_decref(snap);
        if (rc < 0) {
            lc_event_sub_free(&sub);
            return rc;
        }
    }
    held_t *h = calloc(1, sizeof *h);
    if (!h) {
        lc_event_sub_free(&sub);
        return -ENOMEM;
    }
    h->sub = sub;
    h->app = app;
    h->checked_ms = lc_now_mono_ms();
    const char *token = me ? NULL : lc_req_session_token(req);
    if (token)
        snprintf(h->token, sizeof h->token, "%s", token);
    lc_room_watch(app->room, w->id);
    int rc = 0;
    lc_push_t *p = lc_reply_push(req, "text/event-stream; charset=utf-8", held_read, held_free, h,
                                 NULL, &rc);
    if (p)
        lc_event_sub_set_wake(sub, sub_wake, p);
    return rc;
}

int lc_api_join_events(lc_req_t *req)
{
    lc_join_t j;
    lc_webinar_t w;
    int rc = 0;
    if (lc_api_join_in_room(req, &j, &w, &rc) < 0)
        return rc;
    return stream(req, &w, j.registration_id);
}

int lc_api_admin_events(lc_req_t *req)
{
    lc_webinar_t w;
    int rc = 0;
    if (lc_ix_moderator_webinar(req, &w, &rc) < 0)
        return rc;
    return stream(req, &w, 0);
}
