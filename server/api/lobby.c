/* The waiting room in memory (lobby.h). */
#include "api/lobby.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define BUCKETS 4096

typedef struct presence {
    struct presence *next;
    int64_t registration_id, webinar_id;
    int64_t arrived_ms, seen_ms;
} presence_t;

struct lc_lobby {
    pthread_mutex_t lock;
    lc_lobby_waiter_t head; /* circular list of waiters */
    presence_t *buckets[BUCKETS];
};

static size_t bucket(int64_t id) { return (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull >> 52); }

lc_lobby_t *lc_lobby_new(void)
{
    lc_lobby_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    pthread_mutex_init(&l->lock, NULL);
    l->head.next = l->head.prev = &l->head;
    return l;
}

void lc_lobby_free(lc_lobby_t **pl)
{
    if (!pl || !*pl)
        return;
    lc_lobby_t *l = *pl;
    for (size_t i = 0; i < BUCKETS; i++)
        while (l->buckets[i]) {
            presence_t *p = l->buckets[i];
            l->buckets[i] = p->next;
            free(p);
        }
    pthread_mutex_destroy(&l->lock);
    free(l);
    *pl = NULL;
}

void lc_lobby_wait(lc_lobby_t *l, lc_lobby_waiter_t *w, int64_t webinar_id,
                   int64_t registration_id, lc_req_t *req)
{
    w->webinar_id = webinar_id;
    w->registration_id = registration_id;
    w->req = req;
    pthread_mutex_lock(&l->lock);
    w->prev = l->head.prev;
    w->next = &l->head;
    l->head.prev->next = w;
    l->head.prev = w;
    pthread_mutex_unlock(&l->lock);
}

static void unlink_locked(lc_lobby_waiter_t *w)
{
    if (!w->next)
        return;
    w->prev->next = w->next;
    w->next->prev = w->prev;
    w->next = w->prev = NULL;
}

void lc_lobby_cancel(lc_lobby_t *l, lc_lobby_waiter_t *w)
{
    if (!l || !w)
        return;
    pthread_mutex_lock(&l->lock);
    unlink_locked(w);
    pthread_mutex_unlock(&l->lock);
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Wakes the webinar's waiters, all of them or those whose registration is in `sorted`. */
static void wake(lc_lobby_t *l, int64_t webinar_id, const int64_t *sorted, size_t n)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    lc_lobby_waiter_t *w = l->head.next;
    while (w != &l->head) {
        lc_lobby_waiter_t *next = w->next;
        if (w->webinar_id == webinar_id &&
            (!sorted || bsearch(&w->registration_id, sorted, n, sizeof *sorted, cmp_id))) {
            unlink_locked(w);
            lc_req_wake(w->req);
        }
        w = next;
    }
    pthread_mutex_unlock(&l->lock);
}

void lc_lobby_wake(lc_lobby_t *l, int64_t webinar_id) { wake(l, webinar_id, NULL, 0); }

void lc_lobby_wake_some(lc_lobby_t *l, int64_t webinar_id, const int64_t *ids, size_t n)
{
    int64_t *sorted = n ? malloc(n * sizeof *sorted) : NULL;
    if (!sorted) { /* none, or out of memory: waking everyone is correct, only slower */
        if (n)
            wake(l, webinar_id, NULL, 0);
        return;
    }
    memcpy(sorted, ids, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_id);
    wake(l, webinar_id, sorted, n);
    free(sorted);
}

void lc_lobby_seen(lc_lobby_t *l, int64_t webinar_id, int64_t registration_id, int64_t now_ms)
{
    pthread_mutex_lock(&l->lock);
    presence_t **b = &l->buckets[bucket(registration_id)], *p = *b;
    while (p && p->registration_id != registration_id)
        p = p->next;
    if (!p && (p = calloc(1, sizeof *p))) {
        p->registration_id = registration_id;
        p->arrived_ms = now_ms;
        p->next = *b;
        *b = p;
    }
    if (p) {
        if (now_ms - p->seen_ms > LC_LOBBY_PRESENCE_MS)
            p->arrived_ms = now_ms; /* came back after leaving: arrives anew */
        p->webinar_id = webinar_id;
        p->seen_ms = now_ms;
    }
    pthread_mutex_unlock(&l->lock);
}

void lc_lobby_leave(lc_lobby_t *l, int64_t registration_id)
{
    pthread_mutex_lock(&l->lock);
    for (presence_t **pp = &l->buckets[bucket(registration_id)]; *pp; pp = &(*pp)->next)
        if ((*pp)->registration_id == registration_id) {
            presence_t *p = *pp;
            *pp = p->next;
            free(p);
            break;
        }
    pthread_mutex_unlock(&l->lock);
}

static int by_arrival(const void *a, const void *b)
{
    const presence_t *x = *(presence_t *const *)a, *y = *(presence_t *const *)b;
    if (x->arrived_ms != y->arrived_ms)
        return x->arrived_ms < y->arrived_ms ? -1 : 1;
    return x->registration_id < y->registration_id ? -1 : x->registration_id > y->registration_id;
}

int lc_lobby_present(lc_lobby_t *l, int64_t webinar_id, int64_t now_ms, int64_t **ids,
                     size_t *n)
{
    presence_t **found = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    *ids = NULL;
    *n = 0;
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < BUCKETS; i++) {
        for (presence_t **pp = &l->buckets[i]; *pp;) {
            presence_t *p = *pp;
            if (now_ms - p->seen_ms > LC_LOBBY_PRESENCE_MS) { /* gone: forget */
                *pp = p->next;
                free(p);
                continue;
            }
            if (p->webinar_id == webinar_id && rc == 0 &&
                lc_vec_push((void **)&found, &count, &cap, &p, sizeof p) < 0)
                rc = -ENOMEM;
            pp = &p->next;
        }
    }
    if (rc == 0 && count) {
        qsort(found, count, sizeof *found, by_arrival);
        *ids = malloc(count * sizeof **ids);
        if (!*ids)
            rc = -ENOMEM;
        for (size_t i = 0; rc == 0 && i < count; i++)
            (*ids)[i] = found[i]->registration_id;
        if (rc == 0)
            *n = count;
    }
    pthread_mutex_unlock(&l->lock);
    free(found);
    return rc;
}
