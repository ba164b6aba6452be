/* Thread-safe line logger: each line is formatted into a stack buffer and written with one
 * write(2), which POSIX keeps whole for pipes up to PIPE_BUF and in practice for files/ttys. */
#include "core/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/log.h>

static _Atomic int g_level = LC_LOG_INFO;

void lc_log_set_level(lc_log_level_t level) { atomic_store(&g_level, (int)level); }
lc_log_level_t lc_log_get_level(void) { return (lc_log_level_t)atomic_load(&g_level); }

int lc_log_parse_level(const char *s, lc_log_level_t *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *out = (lc_log_level_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

void lc_logv(lc_log_level_t level, const char *tag, const char *fmt, va_list ap)
{
    static const char *const names[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};
    if ((int)level > atomic_load(&g_level))
        return;
    char line[2048 + 128];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[level < 0 || level > 3 ? 0 : level],
                     tag ? tag : "-");
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    size_t room = sizeof line - used - 1; /* keep one byte for the newline */
    int m = vsnprintf(line + used, room + 1, fmt, ap);
    if (m < 0)
        m = 0;
    if ((size_t)m > room) {
        used += room;
        memcpy(line + used - 3, "...", 3);
    } else {
        used += (size_t)m;
    }
    /* libav messages carry their own newline; never print two. */
    while (used > 0 && line[used - 1] == '\n')
        used--;
    line[used++] = '\n';
    ssize_t w;
    do {
        w = write(STDERR_FILENO, line, used);
    } while (w < 0 && errno == EINTR);
}

void lc_log(lc_log_level_t level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lc_logv(level, tag, fmt, ap);
    va_end(ap);
}

/* libav writes some messages in pieces (no newline until the last one): the pieces of each
 * thread are gathered here so that one message is one line. */
static _Thread_local char av_line[1024];
static _Thread_local size_t av_len;
static _Thread_local const atomic_bool *av_quiet;

void lc_log_libav_quiet_when(const atomic_bool *flag) { av_quiet = flag; }

static void libav_cb(void *avcl, int av_level, const char *fmt, va_list ap)
{
    (void)avcl;
    lc_log_level_t level;
    if (av_level <= AV_LOG_ERROR)
        level = LC_LOG_ERROR;
    else if (av_level <= AV_LOG_WARNING)
        level = LC_LOG_WARN;
    else if (av_level <= AV_LOG_VERBOSE)
        level = LC_LOG_DEBUG;
    else
        return; /* libav's debug/trace output is far too chatty for any of our levels */
    if ((int)level > atomic_load(&g_level) || (av_quiet && atomic_load(av_quiet)))
        return;
    int n = vsnprintf(av_line + av_len, sizeof av_line - av_len, fmt, ap);
    if (n < 0)
        return;
    av_len += (size_t)n < sizeof av_line - av_len ? (size_t)n : sizeof av_line - av_len - 1;
    if (av_len > 0 && av_line[av_len - 1] != '\n' && av_len < sizeof av_line - 1)
        return; /* more pieces to come */
    lc_log(level, "libav", "%s", av_line);
    av_len = 0;
}

void lc_log_hook_libav(void) { av_log_set_callback(libav_cb); }
