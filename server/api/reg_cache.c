/* The registration path's webinar cache (reg_cache.h): a small direct-mapped table by slug. */
#include "api/reg_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "db/registrations.h"

#define SLOTS 64

typedef struct {
    bool used;
    int64_t fetched_ms;
    lc_webinar_t w;
    char *form;
} slot_t;

struct lc_reg_cache {
    pthread_mutex_t lock;
    int64_t ttl_ms;
    slot_t slots[SLOTS];
};

lc_reg_cache_t *lc_reg_cache_new(int64_t ttl_ms)
{
    lc_reg_cache_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->ttl_ms = ttl_ms;
    return c;
}

void lc_reg_cache_free(lc_reg_cache_t **pc)
{
    if (!pc || !*pc)
        return;
    for (int i = 0; i < SLOTS; i++)
        free((*pc)->slots[i].form);
    pthread_mutex_destroy(&(*pc)->lock);
    free(*pc);
    *pc = NULL;
}

static unsigned slot_of(const char *slug)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *slug; slug++)
        h = (h ^ (unsigned char)*slug) * 16777619u;
    return h % SLOTS;
}

int lc_reg_cache_get(lc_reg_cache_t *c, lc_db_t *db, const char *slug, int64_t now_ms, bool fresh,
                     lc_webinar_t *w, char **form)
{
    slot_t *s = &c->slots[slot_of(slug)];
    *form = NULL;
    pthread_mutex_lock(&c->lock);
    if (!fresh && s->used && strcmp(s->w.slug, slug) == 0 && now_ms - s->fetched_ms < c->ttl_ms &&
        now_ms >= s->fetched_ms) {
        *w = s->w;
        *form = strdup(s->form);
        pthread_mutex_unlock(&c->lock);
        return *form ? 0 : -ENOMEM;
    }
    pthread_mutex_unlock(&c->lock);
    /* Read outside the lock: two threads may both read a stale slot; the later write wins. */
    int rc = lc_db_webinar_by_slug(db, slug, w);
    if (rc == 0)
        rc = lc_db_webinar_form(db, w->id, form);
    if (rc < 0)
        return rc;
    char *copy = strdup(*form);
    if (!copy)
        return 0; /* answered from the database; only the cache stays cold */
    pthread_mutex_lock(&c->lock);
    free(s->form);
    s->form = copy;
    s->w = *w;
    s->fetched_ms = now_ms;
    s->used = true;
    pthread_mutex_unlock(&c->lock);
    return 0;
}
