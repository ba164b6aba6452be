/* Test helper: captures what the process writes to stderr into a temporary file, so that a test
 * can check which lines the log module wrote (it writes each line with one write(2) to fd 2, from
 * any thread: lines of other threads land in the capture too). One capture at a time.
 * Register tests that capture with cmocka_unit_test_teardown(test, log_capture_teardown): a
 * failed assertion leaves the test early, and the teardown then restores stderr and shows what
 * was captured, cmocka's failure message included. Header-only. */
#ifndef TESTS_UNIT_LOG_CAPTURE_H
#define TESTS_UNIT_LOG_CAPTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_CAPTURE_FN static __attribute__((unused))

static struct {
    bool on;
    int saved; /* the real stderr */
    int fd;    /* the capture file, unlinked at once */
} log_capture_state;

/* Returns 0, or -1 when stderr could not be redirected. */
LOG_CAPTURE_FN int log_capture_start(void)
{
    char path[] = "/tmp/lectern-log-XXXXXX";
    if (log_capture_state.on)
        return -1;
    fflush(stderr);
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    int saved = dup(STDERR_FILENO);
    if (saved < 0 || dup2(fd, STDERR_FILENO) < 0) {
        if (saved >= 0)
            close(saved);
        close(fd);
        return -1;
    }
    log_capture_state.on = true;
    log_capture_state.saved = saved;
    log_capture_state.fd = fd;
    return 0;
}

/* Restores stderr, echoes what was captured to it (so that the test's output still shows its
 * log) and returns it as a malloc'ed string (NULL when nothing was captured or it cannot be
 * read). */
LOG_CAPTURE_FN char *log_capture_stop(void)
{
    if (!log_capture_state.on)
        return NULL;
    log_capture_state.on = false;
    fflush(stderr);
    dup2(log_capture_state.saved, STDERR_FILENO);
    close(log_capture_state.saved);
    struct stat st;
    char *text = NULL;
    if (fstat(log_capture_state.fd, &st) == 0 && (text = malloc((size_t)st.st_size + 1))) {
        ssize_t got = pread(log_capture_state.fd, text, (size_t)st.st_size, 0);
        text[got > 0 ? got : 0] = 0;
        if (got > 0) {
            ssize_t echoed = write(STDERR_FILENO, text, (size_t)got); /* only an echo */
            (void)echoed;
        }
    }
    close(log_capture_state.fd);
    return text;
}

/* cmocka teardown: ends a capture that a failed assertion left running. */
LOG_CAPTURE_FN int log_capture_teardown(void **state)
{
    (void)state;
    free(log_capture_stop());
    return 0;
}

/* Lines of `text` that contain both `a` and `b` (either may be NULL: any line). */
LOG_CAPTURE_FN int log_lines(const char *text, const char *a, const char *b)
{
    int n = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, len);
        if (copy && (!a || strstr(copy, a)) && (!b || strstr(copy, b)))
            n++;
        free(copy);
        line = end ? end + 1 : line + len;
    }
    return n;
}

#endif
