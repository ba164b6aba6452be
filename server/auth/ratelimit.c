/* Fixed-window attempt counters: one per account in a small table, one for the server. */
#include "auth/ratelimit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t key[32];
    int count;
    int64_t window_start_ms;
    bool used;
} slot_t;

struct lc_ratelimit {
    lc_ratelimit_config_t cfg;
    pthread_mutex_t mu;
    int global_count;
    int64_t global_start_ms;
    slot_t *slots;
};

void lc_ratelimit_config_default(lc_ratelimit_config_t *cfg)
{
    *cfg = (lc_ratelimit_config_t){.account_max = 5,
                                   .account_window_ms = 15 * 60 * 1000,
                                   .global_max = 100,
                                   .global_window_ms = 60 * 1000,
                                   .slots = 4096};
}

lc_ratelimit_t *lc_ratelimit_new(const lc_ratelimit_config_t *cfg)
{
    lc_ratelimit_t *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->cfg = *cfg;
    if (rl->cfg.slots == 0)
        rl->cfg.slots = 1;
    rl->slots = calloc(rl->cfg.slots, sizeof *rl->slots);
    if (!rl->slots) {
        free(rl);
        return NULL;
    }
    pthread_mutex_init(&rl->mu, NULL);
    return rl;
}

void lc_ratelimit_free(lc_ratelimit_t **prl)
{
    if (!prl || !*prl)
        return;
    pthread_mutex_destroy(&(*prl)->mu);
    free((*prl)->slots);
    free(*prl);
    *prl = NULL;
}

static slot_t *find(lc_ratelimit_t *rl, const uint8_t key[32])
{
    for (size_t i = 0; i < rl->cfg.slots; i++)
        if (rl->slots[i].used && memcmp(rl->slots[i].key, key, 32) == 0)
            return &rl->slots[i];
    return NULL;
}

/* A slot for a new account: a free or expired one, else the one whose window started first.
 * A linear walk: a few thousand comparisons per login attempt is nothing next to the KDF. */
static slot_t *claim(lc_ratelimit_t *rl, const uint8_t key[32], int64_t now_ms)
{
    slot_t *best = NULL;
    for (size_t i = 0; i < rl->cfg.slots; i++) {
        slot_t *s = &rl->slots[i];
        if (!s->used || now_ms - s->window_start_ms >= rl->cfg.account_window_ms) {
            best = s;
            break;
        }
        if (!best || s->window_start_ms < best->window_start_ms)
            best = s;
    }
    memcpy(best->key, key, 32);
    best->used = true;
    best->count = 0;
    best->window_start_ms = now_ms;
    return best;
}

int64_t lc_ratelimit_acquire(lc_ratelimit_t *rl, const uint8_t key[32], int64_t now_ms)
{
    int64_t wait = 0;
    pthread_mutex_lock(&rl->mu);
    if (now_ms - rl->global_start_ms >= rl->cfg.global_window_ms) {
        rl->global_start_ms = now_ms;
        rl->global_count = 0;
    }
    slot_t *s = find(rl, key);
    if (s && now_ms - s->window_start_ms >= rl->cfg.account_window_ms) {
        s->count = 0;
        s->window_start_ms = now_ms;
    }
    if (s && s->count >= rl->cfg.account_max)
        wait = s->window_start_ms + rl->cfg.account_window_ms - now_ms;
    if (rl->global_count >= rl->cfg.global_max) {
        int64_t g = rl->global_start_ms + rl->cfg.global_window_ms - now_ms;
        if (g > wait)
            wait = g;
    }
    if (wait <= 0) {
        wait = 0;
        if (!s)
            s = claim(rl, key, now_ms);
        s->count++;
        rl->global_count++;
    }
    pthread_mutex_unlock(&rl->mu);
    return wait;
}

void lc_ratelimit_refund(lc_ratelimit_t *rl, const uint8_t key[32])
{
    pthread_mutex_lock(&rl->mu);
    slot_t *s = find(rl, key);
    if (s && s->count > 0)
        s->count--;
    if (rl->global_count > 0)
        rl->global_count--;
    pthread_mutex_unlock(&rl->mu);
}

void lc_ratelimit_success(lc_ratelimit_t *rl, const uint8_t key[32])
{
    pthread_mutex_lock(&rl->mu);
    slot_t *s = find(rl, key);
    if (s)
        memset(s, 0, sizeof *s);
    if (rl->global_count > 0)
        rl->global_count--;
    pthread_mutex_unlock(&rl->mu);
}
