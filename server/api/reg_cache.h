/* What the registration path reads about a webinar on every sign-up (the row and its form),
 * kept for a moment: a burst of thousands of registrations for one webinar would otherwise read
 * the same row thousands of times through the database's one shared connection. An organiser's
 * change applies to registrations within `ttl_ms`; a registration that meets a webinar deleted
 * meanwhile fails at its insert (the foreign key). Unknown slugs are never cached. Thread-safe. */
#ifndef LC_API_REG_CACHE_H
#define LC_API_REG_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

typedef struct lc_reg_cache lc_reg_cache_t;

/* NULL when out of memory. */
lc_reg_cache_t *lc_reg_cache_new(int64_t ttl_ms);
/* NULL-safe; sets *pc to NULL. */
void lc_reg_cache_free(lc_reg_cache_t **pc);
/* The webinar with this slug, as read at most ttl_ms before `now_ms` (`fresh`: read now), and
 * its form_fields JSON (*form: a copy, free() it): 0, LC_ENOTFOUND, -ENOMEM or LC_EDB. */
int lc_reg_cache_get(lc_reg_cache_t *c, lc_db_t *db, const char *slug, int64_t now_ms, bool fresh,
                     lc_webinar_t *w, char **form);

#endif
