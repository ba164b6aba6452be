/* Settings of the server and the command-line tools: embedded defaults, then an optional config
 * file (`key = value` lines, the same names as the long options), then command-line flags.
 * Validated once, at start-up; the rest of the program reads the struct. */
#ifndef LC_CONFIG_CONFIG_H
#define LC_CONFIG_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/log.h"

typedef struct {
    char http_listen[128];     /* --http, default "0.0.0.0:8080" */
    char rtmp_listen[128];     /* --rtmp, default "0.0.0.0:1935" */
    char data_dir[PATH_MAX];   /* --data-dir, default "./data" */
    char public_url[256];      /* --public-url, base of printed web URLs; default from --http */
    char rtmp_url[256];        /* --rtmp-url, publish base; default from --rtmp, ".../live" */
    lc_log_level_t log_level;  /* --log-level error|warn|info|debug, default info */
    double part_target_s;      /* --part-target, default 0.5 */
    double segment_target_s;   /* --segment-target, default 2.0 */
    int window_segments;       /* --window-segments, default 6 */
    int64_t grace_ms;          /* --grace (seconds), default 60 */
    bool low_latency;          /* --low-latency: LL-HLS parts and blocking reload, default true */
    bool demo;                 /* --demo: create a demo webinar and feed it a synthetic source */
    bool secure_cookies;       /* --secure-cookies: mark cookies Secure (behind a TLS proxy) */
    int64_t session_idle_ms;   /* --session-idle (seconds), default 12 h */
    int64_t session_lifetime_ms; /* --session-lifetime (seconds), default 7 days */
    int64_t retention_interval_ms; /* --retention-interval (seconds), default 1 hour */
    int64_t events_ping_ms;        /* --events-ping (seconds), default 15 */
    char privacy_notice_file[PATH_MAX]; /* --privacy-notice: the server's default notice */
} lc_config_t;

/* Fills the embedded defaults. */
void lc_config_default(lc_config_t *cfg);

/* Sets one option by its long name (without "--"), from a flag or a config-file line. Returns 0,
 * -ENOENT for an unknown name, -EINVAL/-ERANGE for a bad value; `err` (may be NULL) receives a
 * message for the user. */
int lc_config_set(lc_config_t *cfg, const char *name, const char *value, char *err, size_t err_size);

/* Reads a config file (`key = value`, `#` comments, blank lines). Returns 0 or a negative code
 * with a message naming the file and line in `err`. */
int lc_config_load_file(lc_config_t *cfg, const char *path, char *err, size_t err_size);

/* Fills public_url / rtmp_url when they were not set, from the given addresses (the ones really
 * bound, after start-up) or, when those are NULL, from the listen settings. A wildcard host
 * becomes "localhost". Removes a trailing '/' from both. */
void lc_config_finish(lc_config_t *cfg, const char *http_addr, const char *rtmp_addr);

/* Parses argv for a command: `--config FILE` is applied first, then every other `--name value`
 * / `--name=value` / boolean `--demo` in order. Options not allowed for the command (`allowed`,
 * a NULL-terminated list of names; NULL = all) are refused. Non-option arguments are returned in
 * `rest` (at most `rest_max`, in order) and counted in *nrest. Returns 0, or -EINVAL with a
 * message in `err`. */
int lc_config_parse_args(lc_config_t *cfg, int argc, char **argv, const char *const *allowed,
                         const char **rest, int rest_max, int *nrest, char *err, size_t err_size);

/* Prints the help text of the options in `allowed` (NULL = all), with defaults. */
void lc_config_print_help(FILE *out, const char *const *allowed);

#endif
