/* Files compiled into the binary at build time (tools/embed.c): migrations and web pages. */
#ifndef LC_CORE_EMBEDDED_H
#define LC_CORE_EMBEDDED_H

#include <stddef.h>

typedef struct {
    const char *name;          /* base name, e.g. "0001_init.sql"; NULL ends the table */
    const unsigned char *data; /* NUL-terminated for convenience; len excludes the NUL */
    size_t len;
} lc_embedded_file_t;

/* Sorted by name. */
extern const lc_embedded_file_t lc_embedded_migrations[];
extern const lc_embedded_file_t lc_embedded_web[];

/* Finds an embedded file by base name, or NULL. */
const lc_embedded_file_t *lc_embedded_find(const lc_embedded_file_t *table, const char *name);

#endif
