/* lectern: command line, start-up and shutdown. Everything else lives in liblectern. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "api/webinar_input.h"
#include "api/webinars.h"
#include "app.h"
#include "auth/auth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "demo/demo.h"
#include "retention/retention.h"

static const char *const serve_opts[] = {"config", "http", "rtmp", "data-dir", "public-url",
                                         "rtmp-url", "log-level", "part-target", "segment-target",
                                         "window-segments", "grace", "low-latency", "demo",
                                         "secure-cookies", "session-idle", "session-lifetime",
                                         "retention-interval", "privacy-notice", "events-ping",
                                         NULL};
static const char *const tool_opts[] = {"config", "http", "rtmp", "data-dir", "public-url",
                                        "rtmp-url", "log-level", NULL};

static void usage(FILE *out)
{
    fprintf(out,
            "lectern %s — self-hosted webinars: RTMP in, (LL-)HLS out, instant replay\n\n"
            "Usage:\n"
            "  lectern serve [OPTIONS]                   run the server\n"
            "  lectern webinar create --title TITLE [--public] [--on-demand] [--starts-at TIME]\n"
            "                 [--duration SECONDS] [--description TEXT] [--json] [OPTIONS]\n"
            "                                            create a webinar, print its stream key\n"
            "  lectern webinar show ID|SLUG [--json]     state, sessions, replay and MP4 URLs\n"
            "  lectern webinar list [--json]             all webinars\n"
            "  lectern webinar rotate-key ID|SLUG [--json]\n"
            "                                            new stream key; the old one stops working\n"
            "  lectern user add EMAIL [--json]           new organiser account (password: one\n"
            "                                            line on standard input)\n"
            "  lectern user list [--json]                organiser accounts\n"
            "  lectern user delete EMAIL [--json]        delete an account and end its logins\n"
            "  lectern purge [--dry-run] [--json]        delete expired personal data, logins\n"
            "                                            and recordings now (for cron)\n"
            "  lectern --help | --version\n\n"
            "The webinar, user and purge commands work while the server runs (same --data-dir).\n"
            "`lectern serve --help` lists the server's options.\n",
            LECTERN_VERSION);
}

static void serve_usage(FILE *out)
{
    fprintf(out, "Usage: lectern serve [OPTIONS]\n\nOptions (also as `name = value` lines in a "
                 "--config file; flags win over the file):\n");
    lc_config_print_help(out, serve_opts);
    fprintf(out, "  %-28s %s\n", "--help", "show this help");
}

static void webinar_usage(FILE *out)
{
    fprintf(out, "Usage:\n"
                 "  lectern webinar create --title TITLE [--public] [--on-demand]\n"
                 "        [--starts-at TIME] [--duration SECONDS] [--description TEXT] [--json]\n"
                 "        [OPTIONS]\n"
                 "  lectern webinar show ID|SLUG [--json] [OPTIONS]\n"
                 "  lectern webinar list [--json] [OPTIONS]\n"
                 "  lectern webinar rotate-key ID|SLUG [--json] [OPTIONS]\n\nOptions:\n");
    fprintf(out, "  %-28s %s\n", "--title TITLE", "title (1 to 200 characters), for create");
    fprintf(out, "  %-28s %s\n", "--description TEXT", "at most 10,000 characters");
    fprintf(out, "  %-28s %s\n", "--starts-at TIME",
            "ISO 8601 with offset or Z, e.g. 2026-12-01T15:00:00+01:00");
    fprintf(out, "  %-28s %s\n", "--duration SECONDS", "60 to 86400 (default 3600)");
    fprintf(out, "  %-28s %s\n", "--public",
            "anyone with the link watches without registering");
    fprintf(out, "  %-28s %s\n", "--on-demand", "a recorded session, no live date");
    fprintf(out, "  %-28s %s\n", "--json", "print one JSON object instead of text");
    lc_config_print_help(out, tool_opts);
}

static void user_usage(FILE *out)
{
    fprintf(out, "Usage:\n"
                 "  lectern user add EMAIL [--json] [OPTIONS]     (password: one line on stdin)\n"
                 "  lectern user list [--json] [OPTIONS]\n"
                 "  lectern user delete EMAIL [--json] [OPTIONS]\n\n"
                 "Organiser accounts log in at /login. `add` reads the password (10 to 1024 bytes\n"
                 "of UTF-8) as one line from standard input, and asks for it on a terminal.\n"
                 "`delete` ends the account's logins at once.\n\nOptions:\n");
    fprintf(out, "  %-28s %s\n", "--json", "print one JSON object instead of text");
    lc_config_print_help(out, tool_opts);
}

/* ---- serve --------------------------------------------------------------------------------- */

static void print_banner(const lc_app_t *app, const char *self)
{
    const lc_config_t *c = &app->cfg;
    printf("lectern %s is running.\n\n", LECTERN_VERSION);
    printf("  Web:   %s/\n", c->public_url);
    printf("  RTMP:  %s   (data in %s)\n\n", c->rtmp_url, c->data_dir);
    if (c->demo)
        printf("Demo: a generated test picture is live at %s/watch/%s\n\n", c->public_url,
               LC_DEMO_SLUG);
    printf("To go live:\n"
           "  1. Create a webinar (in another terminal):\n"
           "       %s webinar create --title \"My first webinar\" --public --data-dir %s\n"
           "     It prints the watch URL and a stream key (without --public, attendees\n"
           "     register first).\n"
           "  2. In OBS Studio: Settings > Stream: Service \"Custom...\", Server %s,\n"
           "     Stream Key = the key. Settings > Output: Keyframe Interval 1 s (or 2 s).\n"
           "     Or with ffmpeg:\n"
           "       ffmpeg -re -i talk.mp4 -c:v libx264 -preset veryfast -g 50 -c:a aac \\\n"
           "              -f flv %s/STREAM_KEY\n"
           "  3. Open the watch URL. When you stop streaming it turns into the replay.\n\n",
           self, c->data_dir, c->rtmp_url, c->rtmp_url);
    if (app->setup_token[0]) {
        printf("No organiser account exists yet. Create the first one with this one-time link\n"
               "(valid for 24 hours, works once, not written to the log):\n"
               "  %s/setup/%s\n"
               "or on this machine: %s user add EMAIL --data-dir %s  (password on stdin)\n\n",
               c->public_url, app->setup_token, self, c->data_dir);
    }
    /* One line in a fixed form for scripts and tests. */
    printf("lectern: ready http=%s rtmp=%s\n", app->http_bound, app->rtmp_bound);
    fflush(stdout);
}

/* Thousands of viewers each hold a socket: take all the descriptors the system allows us. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            LC_WARN("main", "cannot raise the open-file limit: %s", strerror(errno));
    }
}

static int cmd_serve(const char *self, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            serve_usage(stdout);
            return 0;
        }
    lc_app_t *app = calloc(1, sizeof *app);
    if (!app)
        return 1;
    lc_config_default(&app->cfg);
    char err[512];
    const char *rest[1];
    int nrest;
    if (lc_config_parse_args(&app->cfg, argc, argv, serve_opts, rest, 0, &nrest, err,
                             sizeof err) < 0) {
        fprintf(stderr, "lectern serve: %s\n", err);
        free(app);
        return 2;
    }
    lc_log_set_level(app->cfg.log_level);

    /* Signals are taken by sigwait in this thread only; every thread started from here on
     * inherits the blocked mask. A broken client socket must not kill the server. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    raise_fd_limit();
    int rc = lc_app_start(app);
    if (rc < 0) {
        fprintf(stderr, "lectern serve: could not start: %s (see the log above)\n",
                lc_strerror(rc));
        free(app);
        return 1;
    }
    print_banner(app, self);
    /* The setup link is a secret: printed once, kept nowhere. */
    OPENSSL_cleanse(app->setup_token, sizeof app->setup_token);
    int sig = 0;
    sigwait(&set, &sig);
    /* A second Ctrl-C during shutdown ends the process at once. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    LC_INFO("main", "%s: shutting down (live streams end, recordings are finalized)",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    lc_app_stop(app);
    LC_INFO("main", "stopped cleanly");
    free(app);
    return 0;
}

/* ---- webinar commands ---------------------------------------------------------------------- */

typedef struct {
    const char *group; /* "webinar", "user", "purge" */
    char name[48];     /* for messages: "webinar create", "purge" */
    const char *const *opts; /* the shared options it takes; NULL: tool_opts */
    lc_app_t app;
    bool json;
    bool dry_run; /* purge */
    json_t *webinar; /* `webinar create`: the members its flags set, as the API takes them */
    const char *arg; /* ID, SLUG or EMAIL */
} tool_t;

/* The `webinar create` flags that take a value, and the API member each one sets. */
static const struct {
    const char *flag, *member;
} webinar_value_flags[] = {
    {"--title", "title"},
    {"--description", "description"},
    {"--starts-at", "starts_at"},
    {"--duration", "duration_s"},
};

/* Sets `member` from a flag's text: an integer for duration_s, else a string (NULL from
 * jansson: not UTF-8). Returns 0, or -EINVAL after printing why. */
static int webinar_flag(tool_t *t, const char *member, const char *value)
{
    json_t *v = NULL;
    int64_t n;
    if (strcmp(member, "duration_s") == 0)
        v = lc_parse_int64(value, INT32_MIN, INT32_MAX, &n) == 0 ? json_integer(n) : NULL;
    else
        v = json_string(value);
    if (!v) {
        fprintf(stderr, "lectern webinar create: %s: %s\n", member,
                strcmp(member, "duration_s") == 0 ? "must be a whole number of seconds"
                                                  : "not valid UTF-8");
        return -EINVAL;
    }
    return json_object_set_new(t->webinar, member, v) < 0 ? -ENOMEM : 0;
}

/* Takes the command-specific flag at argv[*i] (advancing past its value). 1 when taken, 0 when
 * not one, negative on error. */
static int take_flag(tool_t *t, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (strcmp(a, "--json") == 0) {
        t->json = true;
        return 1;
    }
    if (strcmp(t->group, "purge") == 0 && strcmp(a, "--dry-run") == 0) {
        t->dry_run = true;
        return 1;
    }
    if (strcmp(t->group, "webinar") != 0)
        return 0;
    if (strcmp(a, "--public") == 0)
        return json_object_set_new(t->webinar, "access", json_string("public")) < 0 ? -ENOMEM
                                                                                       : 1;
    if (strcmp(a, "--on-demand") == 0)
        return json_object_set_new(t->webinar, "on_demand", json_true()) < 0 ? -ENOMEM : 1;
    for (size_t k = 0; k < sizeof webinar_value_flags / sizeof webinar_value_flags[0]; k++) {
        size_t len = strlen(webinar_value_flags[k].flag);
        const char *value = NULL;
        if (strcmp(a, webinar_value_flags[k].flag) == 0 && *i + 1 < argc)
            value = argv[++*i];
        else if (strncmp(a, webinar_value_flags[k].flag, len) == 0 && a[len] == '=')
            value = a + len + 1;
        if (value) {
            int rc = webinar_flag(t, webinar_value_flags[k].member, value);
            return rc < 0 ? rc : 1;
        }
    }
    return 0;
}

/* Opens the database of the configured data directory for a command-line tool. `want_arg`:
 * the message when the command's one argument is missing, or NULL for a command without. */
static int tool_open(tool_t *t, int argc, char **argv, const char *want_arg, const char *cmd)
{
    lc_config_default(&t->app.cfg);
    /* Command-specific flags first; the rest are shared options. */
    char **rest_argv = calloc((size_t)argc + 1, sizeof *rest_argv);
    if (!rest_argv)
        return -ENOMEM;
    int n = 0;
    t->webinar = json_object();
    for (int i = 0; i < argc; i++) {
        int taken = t->webinar ? take_flag(t, argc, argv, &i) : -ENOMEM;
        if (taken < 0) {
            free(rest_argv);
            return taken == -ENOMEM ? taken : -EINVAL;
        }
        if (!taken)
            rest_argv[n++] = argv[i];
    }
    if (json_object_size(t->webinar) && strcmp(cmd, "create") != 0) {
        fprintf(stderr, "lectern %s: the webinar settings are for `create`\n", t->name);
        free(rest_argv);
        return -EINVAL;
    }
    char err[512];
    const char *rest[1];
    int nrest = 0;
    int rc = lc_config_parse_args(&t->app.cfg, n, rest_argv, t->opts ? t->opts : tool_opts, rest,
                                  want_arg ? 1 : 0, &nrest, err, sizeof err);
    free(rest_argv);
    if (rc < 0) {
        fprintf(stderr, "lectern %s: %s\n", t->name, err);
        return -EINVAL;
    }
    if (want_arg && nrest != 1) {
        fprintf(stderr, "lectern %s: %s\n", t->name, want_arg);
        return -EINVAL;
    }
    t->arg = nrest ? rest[0] : NULL;
    /* URLs: given on the command line, else what the server wrote into the data directory,
     * else derived from the listen settings. */
    char urls[PATH_MAX + 16];
    lc_config_t written;
    lc_config_default(&written);
    if (lc_fmt(urls, sizeof urls, "%s/" LC_URLS_FILE, t->app.cfg.data_dir) == 0 &&
        access(urls, R_OK) == 0 && lc_config_load_file(&written, urls, err, sizeof err) == 0) {
        if (!t->app.cfg.public_url[0])
            memcpy(t->app.cfg.public_url, written.public_url, sizeof written.public_url);
        if (!t->app.cfg.rtmp_url[0])
            memcpy(t->app.cfg.rtmp_url, written.rtmp_url, sizeof written.rtmp_url);
    }
    lc_config_finish(&t->app.cfg, NULL, NULL);
    /* Tools print results on stdout; keep the log for real problems. */
    lc_log_set_level(t->app.cfg.log_level < LC_LOG_WARN ? t->app.cfg.log_level : LC_LOG_WARN);
    if ((rc = lc_app_paths(&t->app)) < 0 || (rc = lc_db_open(t->app.db_path, &t->app.db)) < 0) {
        fprintf(stderr, "lectern %s: cannot open the database in %s: %s\n", t->name,
                t->app.cfg.data_dir, lc_strerror(rc));
        return rc;
    }
    return 0;
}

static int find_webinar(tool_t *t, lc_webinar_t *w)
{
    int64_t id;
    int rc = lc_parse_int64(t->arg, 1, INT64_MAX, &id) == 0
                 ? lc_db_webinar_get(t->app.db, id, w)
                 : lc_db_webinar_by_slug(t->app.db, t->arg, w);
    if (rc == LC_ENOTFOUND)
        fprintf(stderr, "lectern webinar: no webinar with id or slug '%s'\n", t->arg);
    else if (rc < 0)
        fprintf(stderr, "lectern webinar: %s\n", lc_strerror(rc));
    return rc;
}

static int print_json(json_t *j)
{
    if (!j)
        return 1;
    char *s = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (!s)
        return 1;
    puts(s);
    free(s);
    return 0;
}

/* Prints a webinar and (when given) its new stream key, as text or JSON. */
static int print_webinar(tool_t *t, const lc_webinar_t *w, const char *key)
{
    json_t *j = lc_api_webinar_json(&t->app, w, t->app.cfg.public_url, NULL, true);
    if (!j) {
        fprintf(stderr, "lectern webinar: out of memory or database error\n");
        return 1;
    }
    if (key)
        json_object_set_new(j, "stream_key", json_string(key));
    if (t->json)
        return print_json(j);
    printf("Webinar %lld: %s\n", (long long)w->id, w->title);
    printf("  slug:         %s\n", w->slug);
    printf("  state:        %s\n", lc_webinar_state_name(w->state));
    printf("  watch URL:    %s\n", json_string_value(json_object_get(j, "watch_url")));
    printf("  HLS (live):   %s\n", json_string_value(json_object_get(j, "hls_url")));
    printf("  RTMP URL:     %s\n", t->app.cfg.rtmp_url);
    if (key) {
        printf("  stream key:   %s\n", key);
        printf("\n  Shown only now; it is stored as a hash. OBS: Server %s, Stream Key above.\n"
               "  ffmpeg: ... -f flv %s/%s\n",
               t->app.cfg.rtmp_url, t->app.cfg.rtmp_url, key);
    }
    json_t *sessions = json_object_get(j, "sessions");
    size_t i;
    json_t *s;
    if (json_array_size(sessions))
        printf("  sessions:\n");
    json_array_foreach(sessions, i, s)
    {
        json_t *dur = json_object_get(s, "duration_s");
        printf("    #%lld %s, started %s", (long long)json_integer_value(json_object_get(s, "id")),
               json_string_value(json_object_get(s, "state")),
               json_string_value(json_object_get(s, "started_at")));
        if (json_is_real(dur))
            printf(", %.1f s", json_real_value(dur));
        printf("\n");
        const char *replay = json_string_value(json_object_get(s, "replay_page_url"));
        const char *mp4 = json_string_value(json_object_get(s, "download_url"));
        if (replay)
            printf("       replay:   %s\n", replay);
        if (mp4)
            printf("       download: %s\n", mp4);
    }
    json_decref(j);
    return 0;
}

static int cmd_webinar_create(tool_t *t)
{
    if (!json_object_get(t->webinar, "title")) {
        fprintf(stderr, "lectern webinar create: --title is required (1 to %d characters)\n",
                LC_WEBINAR_TITLE_CHARS);
        return 2;
    }
    /* The same rules as POST /api/admin/webinars. */
    lc_webinar_input_t in;
    lc_body_error_t err;
    lc_webinar_input_defaults(&in);
    int rc = lc_webinar_input_apply(&in, t->webinar, &err);
    if (rc == -EINVAL) {
        fprintf(stderr, "lectern webinar create: %s\n", err.message);
        lc_webinar_input_clear(&in);
        return 2;
    }
    int64_t id;
    char key[LC_STREAM_KEY_SIZE];
    lc_webinar_row_t row = lc_webinar_input_row(&in, NULL);
    if (rc == 0)
        rc = lc_app_create_webinar(t->app.db, &row, NULL, 0, &id, key);
    lc_webinar_input_clear(&in);
    lc_webinar_t w;
    if (rc == 0)
        rc = lc_db_webinar_get(t->app.db, id, &w);
    if (rc < 0) {
        fprintf(stderr, "lectern webinar create: %s\n", lc_strerror(rc));
        return 1;
    }
    return print_webinar(t, &w, key);
}

static int cmd_webinar_show(tool_t *t)
{
    lc_webinar_t w;
    return find_webinar(t, &w) < 0 ? 1 : print_webinar(t, &w, NULL);
}

static int cmd_webinar_rotate(tool_t *t)
{
    lc_webinar_t w;
    char key[LC_STREAM_KEY_SIZE];
    if (find_webinar(t, &w) < 0)
        return 1;
    int rc = lc_app_rotate_key(t->app.db, w.id, key);
    if (rc < 0) {
        fprintf(stderr, "lectern webinar rotate-key: %s\n", lc_strerror(rc));
        return 1;
    }
    return print_webinar(t, &w, key);
}

static int cmd_webinar_list(tool_t *t)
{
    lc_webinar_t *items = NULL;
    size_t n = 0;
    bool failed = false;
    int rc = lc_api_webinars_collect(t->app.db, &items, &n);
    json_t *list = t->json ? json_array() : NULL;
    for (size_t i = 0; rc == 0 && !failed && i < n; i++) {
        const lc_webinar_t *w = &items[i];
        if (!t->json) {
            printf("%6lld  %-9s  %-40s  %s\n", (long long)w->id, lc_webinar_state_name(w->state),
                   w->slug, w->title);
            continue;
        }
        json_t *j = lc_api_webinar_json(&t->app, w, t->app.cfg.public_url, NULL, true);
        if (!j || json_array_append_new(list, j) < 0)
            failed = true;
    }
    free(items);
    if (rc < 0 || failed || (t->json && !list)) {
        json_decref(list);
        fprintf(stderr, "lectern webinar list: out of memory or database error\n");
        return 1;
    }
    return t->json ? print_json(json_pack("{s:o}", "webinars", list)) : 0;
}

/* ---- user commands ------------------------------------------------------------------------- */

/* Reads the password: one line from stdin (the newline is not part of it). On a terminal it
 * asks, without echo. Returns its length, or -1 (a message was printed). */
static ssize_t read_password(const char *cmd, char *buf, size_t size)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        fprintf(stderr, "Password (%d to %d bytes): ", LC_PASSWORD_MIN, LC_PASSWORD_MAX);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    } else {
        tty = false;
    }
    char *line = fgets(buf, (int)size, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    size_t n = line ? strlen(buf) : 0;
    bool whole = n > 0 && buf[n - 1] == '\n';
    if (line && !whole && !feof(stdin)) {
        OPENSSL_cleanse(buf, size);
        fprintf(stderr, "lectern user %s: the password is longer than %d bytes\n", cmd,
                LC_PASSWORD_MAX);
        return -1;
    }
    if (whole)
        buf[--n] = 0;
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = 0;
    return (ssize_t)n;
}

static int cmd_user_add(tool_t *t)
{
    if (!lc_email_valid(t->arg)) {
        fprintf(stderr, "lectern user add: '%s' is not a valid email address\n", t->arg);
        return 2;
    }
    char pw[LC_PASSWORD_MAX + 3], hash[LC_PASSWORD_HASH_MAX];
    ssize_t n = read_password("add", pw, sizeof pw);
    const char *why = n < 0 ? "" : lc_password_rule_broken(pw, (size_t)n);
    if (why && *why)
        fprintf(stderr, "lectern user add: the password (one line on standard input) %s\n", why);
    int rc = why ? -EINVAL : lc_password_hash(pw, (size_t)n, &LC_SCRYPT_DEFAULT, hash);
    OPENSSL_cleanse(pw, sizeof pw);
    if (why)
        return 2;
    int64_t id = 0;
    if (rc == 0)
        rc = lc_db_user_insert(t->app.db, t->arg, hash, lc_now_real_ms(), &id);
    if (rc == LC_ECONFLICT) {
        fprintf(stderr, "lectern user add: an account with this email exists already\n");
        return 1;
    }
    /* An account exists now: a setup link printed earlier must not create another. */
    if (rc == 0)
        rc = lc_db_setup_token_clear(t->app.db);
    if (rc < 0) {
        fprintf(stderr, "lectern user add: %s\n", lc_strerror(rc));
        return 1;
    }
    if (t->json)
        return print_json(json_pack("{s:I,s:s}", "id", (json_int_t)id, "email", t->arg));
    printf("Organiser account %lld created for %s.\n", (long long)id, t->arg);
    return 0;
}

static int print_user(void *opaque, const lc_user_t *u)
{
    json_t *list = opaque;
    char when[25];
    lc_iso8601(u->created_at_ms, when);
    if (!list)
        printf("%6lld  %-40s  %s\n", (long long)u->id, u->email, when);
    else
        json_array_append_new(list, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)u->id,
                                              "email", u->email, "created_at", when));
    return 0;
}

static int cmd_user_list(tool_t *t)
{
    json_t *list = t->json ? json_array() : NULL;
    int rc = t->json && !list ? -ENOMEM : lc_db_user_list(t->app.db, print_user, list);
    if (rc < 0) {
        json_decref(list);
        fprintf(stderr, "lectern user list: %s\n", lc_strerror(rc));
        return 1;
    }
    return t->json ? print_json(json_pack("{s:o}", "users", list)) : 0;
}

static int cmd_user_delete(tool_t *t)
{
    lc_user_t u;
    int rc = lc_db_user_by_email(t->app.db, t->arg, &u, NULL);
    if (rc == 0)
        rc = lc_db_user_delete(t->app.db, u.id);
    if (rc == LC_ENOTFOUND) {
        fprintf(stderr, "lectern user delete: no account with email '%s'\n", t->arg);
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "lectern user delete: %s\n", lc_strerror(rc));
        return 1;
    }
    if (t->json)
        return print_json(json_pack("{s:I}", "deleted", (json_int_t)u.id));
    printf("Organiser account %lld deleted; its logins ended.\n", (long long)u.id);
    return 0;
}

/* ---- command groups ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *want_arg; /* what the one argument names (for the error without it), or NULL */
    int (*fn)(tool_t *);
} tool_cmd_t;

typedef struct {
    const char *group;
    const tool_cmd_t *cmds;
    size_t ncmds;
    void (*usage)(FILE *out);
} tool_group_t;

static bool wants_help(int argc, char **argv)
{
    for (int k = 0; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0)
            return true;
    return false;
}

/* Opens the database for a tool whose name, group and options are set in *t, runs `fn`, and
 * closes it. Returns the exit code. */
static int run_tool(tool_t *t, int argc, char **argv, const tool_cmd_t *c)
{
    int rc = tool_open(t, argc, argv, c->want_arg, c->name);
    if (rc == 0)
        rc = c->fn(t);
    else
        rc = rc == -EINVAL ? 2 : 1;
    lc_db_close(&t->app.db);
    json_decref(t->webinar);
    return rc;
}

static int run_group(const tool_group_t *g, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        g->usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    for (size_t i = 0; i < g->ncmds; i++) {
        const tool_cmd_t *c = &g->cmds[i];
        if (strcmp(argv[0], c->name) != 0)
            continue;
        if (wants_help(argc - 1, argv + 1)) {
            g->usage(stdout);
            return 0;
        }
        tool_t t = {.group = g->group};
        snprintf(t.name, sizeof t.name, "%s %s", g->group, c->name);
        return run_tool(&t, argc - 1, argv + 1, c);
    }
    fprintf(stderr, "lectern %s: unknown command '%s'\n", g->group, argv[0]);
    g->usage(stderr);
    return 2;
}

static int cmd_webinar(int argc, char **argv)
{
    static const char which[] = "which webinar? give its ID or slug";
    static const tool_cmd_t cmds[] = {{"create", NULL, cmd_webinar_create},
                                      {"show", which, cmd_webinar_show},
                                      {"list", NULL, cmd_webinar_list},
                                      {"rotate-key", which, cmd_webinar_rotate}};
    static const tool_group_t g = {"webinar", cmds, sizeof cmds / sizeof cmds[0], webinar_usage};
    return run_group(&g, argc, argv);
}

static int cmd_user(int argc, char **argv)
{
    static const char which[] = "which account? give its email";
    static const tool_cmd_t cmds[] = {{"add", which, cmd_user_add},
                                      {"list", NULL, cmd_user_list},
                                      {"delete", which, cmd_user_delete}};
    static const tool_group_t g = {"user", cmds, sizeof cmds / sizeof cmds[0], user_usage};
    return run_group(&g, argc, argv);
}

/* ---- purge --------------------------------------------------------------------------------- */

static const char *const purge_opts[] = {"config", "data-dir", "log-level", "session-idle", NULL};

static void purge_usage(FILE *out)
{
    fprintf(out, "Usage: lectern purge [--dry-run] [--json] [OPTIONS]\n\n"
                 "Deletes what has expired: registrations past their webinar's retention period\n"
                 "(their counts are kept), ended organiser logins, and recordings past their\n"
                 "webinar's recording retention. The server does the same at start and every\n"
                 "--retention-interval; this is for cron. Prints counts only.\n\nOptions:\n");
    fprintf(out, "  %-28s %s\n", "--dry-run", "count what would be deleted; delete nothing");
    fprintf(out, "  %-28s %s\n", "--json", "print one JSON object instead of text");
    lc_config_print_help(out, purge_opts);
}

static int cmd_purge_run(tool_t *t)
{
    lc_retention_config_t cfg;
    lc_purge_counts_t n;
    /* No exporter in this process: recordings are deleted at once (docs/architecture.md). */
    lc_app_retention_config(&t->app, &cfg);
    int rc = lc_retention_purge(t->app.db, &cfg, lc_now_real_ms(), t->dry_run, &n);
    if (rc < 0) {
        fprintf(stderr, "lectern purge: %s\n", lc_strerror(rc));
        return 1;
    }
    if (t->json)
        return print_json(json_pack("{s:b,s:I,s:I,s:I,s:I}", "dry_run", t->dry_run,
                                    "registrations", (json_int_t)n.registrations, "webinars",
                                    (json_int_t)n.webinars, "login_sessions",
                                    (json_int_t)n.login_sessions, "recordings",
                                    (json_int_t)n.recordings));
    printf("%s %lld registrations (of %lld webinars), %lld ended logins, %lld recordings.\n",
           t->dry_run ? "Would delete" : "Deleted", (long long)n.registrations,
           (long long)n.webinars, (long long)n.login_sessions, (long long)n.recordings);
    return 0;
}

static int cmd_purge(int argc, char **argv)
{
    static const tool_cmd_t cmd = {"purge", NULL, cmd_purge_run};
    if (wants_help(argc, argv)) {
        purge_usage(stdout);
        return 0;
    }
    tool_t t = {.group = "purge", .name = "purge", .opts = purge_opts};
    return run_tool(&t, argc, argv, &cmd);
}

int main(int argc, char **argv)
{
    lc_log_hook_libav();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("lectern %s\n", LECTERN_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argv[0], argc - 2, argv + 2);
    if (strcmp(argv[1], "webinar") == 0)
        return cmd_webinar(argc - 2, argv + 2);
    if (strcmp(argv[1], "user") == 0)
        return cmd_user(argc - 2, argv + 2);
    if (strcmp(argv[1], "purge") == 0)
        return cmd_purge(argc - 2, argv + 2);
    fprintf(stderr, "lectern: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
