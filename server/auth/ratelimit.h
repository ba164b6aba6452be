/* Login rate limiting, in memory only: per account (keyed by a hash of the address typed, so an
 * address with no account is limited exactly like one with an account) and for the whole server.
 * Nothing is keyed by, or remembers, a client's IP address. State is lost on restart, which only
 * ever lets an attacker start over after a restart they cannot cause.
 *
 * Every attempt counts as a failure from the moment it starts (so that parallel attempts cannot
 * all pass the check before the first one fails); a success wipes the account's count. All
 * functions are thread-safe. */
#ifndef LC_AUTH_RATELIMIT_H
#define LC_AUTH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct lc_ratelimit lc_ratelimit_t;

typedef struct {
    int account_max;           /* attempts per account per window (5) */
    int64_t account_window_ms; /* (15 minutes) */
    int global_max;            /* attempts on all accounts together per window (100) */
    int64_t global_window_ms;  /* (1 minute) */
    size_t slots;              /* accounts remembered at once (4096); the oldest make room */
} lc_ratelimit_config_t;

void lc_ratelimit_config_default(lc_ratelimit_config_t *cfg);

/* NULL when out of memory. */
lc_ratelimit_t *lc_ratelimit_new(const lc_ratelimit_config_t *cfg);
/* NULL-safe; sets *prl to NULL. */
void lc_ratelimit_free(lc_ratelimit_t **prl);

/* Starts an attempt for account `key`: returns 0 and counts it, or the milliseconds until an
 * attempt will be allowed again (> 0) without counting anything. */
int64_t lc_ratelimit_acquire(lc_ratelimit_t *rl, const uint8_t key[32], int64_t now_ms);
/* The attempt could not be made (server busy, internal error): it does not count. */
void lc_ratelimit_refund(lc_ratelimit_t *rl, const uint8_t key[32]);
/* The attempt succeeded: the account's failures are forgotten, and it leaves the global count. */
void lc_ratelimit_success(lc_ratelimit_t *rl, const uint8_t key[32]);

#endif
