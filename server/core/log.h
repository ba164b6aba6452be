/* One log module for the whole process: levels, a subsystem tag, one write(2) per line, so lines
 * from different threads never interleave. Never log personal data (names, emails, addresses). */
#ifndef LC_CORE_LOG_H
#define LC_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

typedef enum {
    LC_LOG_ERROR = 0,
    LC_LOG_WARN = 1,
    LC_LOG_INFO = 2,
    LC_LOG_DEBUG = 3,
} lc_log_level_t;

/* Sets the most verbose level that is written. Any thread. Default LC_LOG_INFO. */
void lc_log_set_level(lc_log_level_t level);
lc_log_level_t lc_log_get_level(void);

/* Parses "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int lc_log_parse_level(const char *s, lc_log_level_t *out);

/* Writes "2026-11-27T08:00:00.123Z INFO  tag: message\n" to stderr. Any thread. Messages longer
 * than 2 KiB are cut and marked with "...". */
void lc_log(lc_log_level_t level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lc_logv(lc_log_level_t level, const char *tag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Routes libav's log through lc_log (tag "libav"), mapping its levels onto ours. Call once. */
void lc_log_hook_libav(void);

/* From now on, libav messages of the calling thread are dropped while *flag is true (NULL: never).
 * For work that is being cancelled on purpose, whose libav errors are expected. */
void lc_log_libav_quiet_when(const _Atomic bool *flag);

#define LC_ERROR(tag, ...) lc_log(LC_LOG_ERROR, tag, __VA_ARGS__)
#define LC_WARN(tag, ...) lc_log(LC_LOG_WARN, tag, __VA_ARGS__)
#define LC_INFO(tag, ...) lc_log(LC_LOG_INFO, tag, __VA_ARGS__)
#define LC_DEBUG(tag, ...)                                                                         \
    do {                                                                                           \
        if (lc_log_get_level() >= LC_LOG_DEBUG)                                                    \
            lc_log(LC_LOG_DEBUG, tag, __VA_ARGS__);                                                \
    } while (0)

#endif
