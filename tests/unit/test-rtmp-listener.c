/* The RTMP listener (ingest.h) with the real lc_live behind it: listen addresses, the real ffmpeg
 * publishing end to end into an HLS window, refusals, a hostile connection next to a good one,
 * timeouts (a silent publisher is lost, its reconnect goes through), the connection limits
 * (eviction, per address), and how publishers finish (socket lost → grace, server stop → ended). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"
#include "ingest/ingest.h"
#include "ingest/peer_key.h"
#include "live/live.h"
#include "log_capture.h"
#include "test-rtmp-client.h"

#define WEBINAR 7
#define GOOD_KEY "good-key-123"

typedef struct {
    pthread_mutex_t mu;
    int authorize_calls;
    int64_t next_session;
    int ended;
} app_t;

static app_t g_app = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int authorize(void *opaque, const char *app, const char *key, int64_t *webinar_id,
                     char media_name[LC_MEDIA_NAME_MAX])
{
    app_t *a = opaque;
    pthread_mutex_lock(&a->mu);
    a->authorize_calls++;
    pthread_mutex_unlock(&a->mu);
    if (strcmp(app, "live") != 0 || strlen(key) != strlen(GOOD_KEY) ||
        !lc_ct_equal(key, GOOD_KEY, strlen(GOOD_KEY)))
        return LC_EDENIED;
    *webinar_id = WEBINAR;
    snprintf(media_name, LC_MEDIA_NAME_MAX, "demo");
    return 0;
}

static int session_begin(void *opaque, int64_t webinar_id, int64_t started_real_ms,
                         int64_t *session_id)
{
    app_t *a = opaque;
    pthread_mutex_lock(&a->mu);
    *session_id = ++a->next_session;
    pthread_mutex_unlock(&a->mu);
    return 0;
}

static void session_end(void *opaque, int64_t webinar_id, int64_t session_id, int64_t ended_ms,
                        double duration_s, bool recording_ok)
{
    app_t *a = opaque;
    pthread_mutex_lock(&a->mu);
    a->ended++;
    pthread_mutex_unlock(&a->mu);
}

static int app_get(int *field)
{
    pthread_mutex_lock(&g_app.mu);
    int v = *field;
    pthread_mutex_unlock(&g_app.mu);
    return v;
}

typedef struct {
    lc_live_t *live;
    lc_ingest_t *ing;
    int port;
} fixture_t;

static void start(fixture_t *f, const lc_ingest_config_t *cfg_or_null)
{
    lc_live_config_t lcfg;
    lc_live_config_default(&lcfg);
    lcfg.ended_linger_ms = 60000;
    lc_live_hooks_t lh = {.session_begin = session_begin, .session_end = session_end,
                          .opaque = &g_app};
    f->live = lc_live_new(&lcfg, &lh);
    assert_non_null(f->live);
    lc_ingest_config_t cfg;
    if (cfg_or_null) {
        cfg = *cfg_or_null;
    } else {
        lc_ingest_config_default(&cfg);
        cfg.listen = "127.0.0.1:0";
    }
    lc_ingest_hooks_t hooks = {.authorize = authorize, .opaque = &g_app};
    int err = 0;
    f->ing = lc_ingest_start(&cfg, f->live, &hooks, &err);
    assert_non_null(f->ing);
    f->port = lc_ingest_port(f->ing);
    assert_true(f->port > 0);
}

static void stop(fixture_t *f)
{
    lc_ingest_stop(&f->ing);
    assert_null(f->ing);
    lc_live_free(&f->live);
}

/* Waits up to `ms` for the webinar's live state. */
static bool wait_state(fixture_t *f, lc_live_state_t want, int ms)
{
    int64_t until = lc_now_mono_ms() + ms;
    while (lc_now_mono_ms() < until) {
        if (lc_live_state(f->live, WEBINAR, NULL) == want)
            return true;
        usleep(20000);
    }
    return false;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const lc_bytes_t *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = send(fd, b->data + off, b->len - off, MSG_NOSIGNAL);
        assert_true(w > 0);
        off += (size_t)w;
    }
}

/* True if the server closes `fd` within `ms` (reading and discarding whatever it sends). */
static bool closed_within(int fd, int ms)
{
    int64_t until = lc_now_mono_ms() + ms;
    uint8_t buf[8192];
    while (lc_now_mono_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return true;
    }
    return false;
}

/* Reads what the server sends for `ms` and returns the message types seen after the handshake. */
static int read_replies(int fd, int ms, uint8_t *types, int max)
{
    lc_chunk_reader_t *rd = lc_chunk_reader_new();
    size_t skip = 1 + 2 * 1536;
    int n = 0;
    int64_t until = lc_now_mono_ms() + ms;
    uint8_t buf[8192];
    while (lc_now_mono_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        size_t off = 0;
        if (skip) {
            size_t k = (size_t)r < skip ? (size_t)r : skip;
            skip -= k;
            off = k;
        }
        while (off < (size_t)r) {
            lc_rtmp_msg_t m;
            size_t used;
            int rc = lc_chunk_reader_feed(rd, buf + off, (size_t)r - off, &used, &m, NULL);
            assert_true(rc >= 0);
            off += used;
            if (rc == 0)
                break;
            if (n < max)
                types[n++] = m.type;
        }
    }
    lc_chunk_reader_free(&rd);
    return n;
}

/* A connection from a chosen loopback address (all of 127/8 is loopback on Linux), so that the
 * listener sees several "remote addresses". */
static int dial_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in s = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, src, &s.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof s), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Reads until the server sends an onStatus (its code is copied to `code`), closes the
 * connection, or `ms` pass (then `code` is ""). */
static void read_status(int fd, int ms, char *code, size_t size)
{
    lc_chunk_reader_t *rd = lc_chunk_reader_new();
    size_t skip = 1 + 2 * 1536;
    int64_t until = lc_now_mono_ms() + ms;
    uint8_t buf[8192];
    code[0] = 0;
    while (!code[0] && lc_now_mono_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        size_t off = 0;
        if (skip) {
            size_t k = (size_t)r < skip ? (size_t)r : skip;
            skip -= k;
            off = k;
        }
        while (off < (size_t)r && !code[0]) {
            lc_rtmp_msg_t m;
            size_t used;
            int rc = lc_chunk_reader_feed(rd, buf + off, (size_t)r - off, &used, &m, NULL);
            assert_true(rc >= 0);
            off += used;
            if (rc == 0)
                break;
            lc_amf_t *v = NULL;
            if (m.type != LC_RTMP_MSG_COMMAND_AMF0 ||
                lc_amf0_decode_all(m.data, m.len, &v, NULL) < 0)
                continue;
            const char *name = lc_amf_str(lc_amf_item(v, 0), NULL);
            const char *c = lc_amf_str(lc_amf_get(lc_amf_item(v, 3), "code"), NULL);
            if (name && c && strcmp(name, "onStatus") == 0)
                snprintf(code, size, "%s", c);
            lc_amf_free(&v);
        }
    }
    lc_chunk_reader_free(&rd);
}

/* Captures the log (log_capture.h) at debug level, so that even debug lines can be checked. */
static void capture_debug_log(void)
{
    assert_int_equal(log_capture_start(), 0);
    lc_log_set_level(LC_LOG_DEBUG);
}

static char *end_debug_log(void)
{
    lc_log_set_level(LC_LOG_INFO);
    return log_capture_stop();
}

static int debug_log_teardown(void **state)
{
    free(end_debug_log());
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_listen_addresses(void **state)
{
    (void)state;
    lc_ingest_config_t cfg;
    lc_ingest_config_default(&cfg);
    assert_string_equal(cfg.listen, "0.0.0.0:1935");
    assert_int_equal(cfg.max_connections, 256);
    lc_ingest_hooks_t hooks = {.authorize = authorize, .opaque = &g_app};
    int err = 0;

    cfg.listen = "127.0.0.1:0";
    lc_ingest_t *a = lc_ingest_start(&cfg, NULL, &hooks, &err);
    assert_non_null(a);
    int port = lc_ingest_port(a);
    assert_true(port > 0);
    /* the same port again: in use */
    char busy[32];
    snprintf(busy, sizeof busy, "127.0.0.1:%d", port);
    cfg.listen = busy;
    err = 0;
    assert_null(lc_ingest_start(&cfg, NULL, &hooks, &err));
    assert_int_equal(err, -EADDRINUSE);
    lc_ingest_stop(&a);
    assert_null(a);
    lc_ingest_stop(&a); /* NULL-safe */
    lc_ingest_stop(NULL);

    cfg.listen = ":0"; /* all IPv4 interfaces */
    a = lc_ingest_start(&cfg, NULL, &hooks, &err);
    assert_non_null(a);
    assert_true(lc_ingest_port(a) > 0);
    lc_ingest_stop(&a);

    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    if (probe >= 0) {
        close(probe);
        cfg.listen = "[::1]:0";
        a = lc_ingest_start(&cfg, NULL, &hooks, &err);
        if (a) { /* (a host without IPv6 loopback refuses with EADDRNOTAVAIL) */
            int p6 = lc_ingest_port(a);
            assert_true(p6 > 0);
            int fd = socket(AF_INET6, SOCK_STREAM, 0);
            struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)p6),
                                      .sin6_addr = IN6ADDR_LOOPBACK_INIT};
            assert_int_equal(connect(fd, (struct sockaddr *)&s6, sizeof s6), 0);
            close(fd);
            lc_ingest_stop(&a);
        } else {
            assert_int_equal(err, -EADDRNOTAVAIL);
        }
    }

    const char *bad[] = {"nonsense", "1.2.3.4", "127.0.0.1:99999", "[::1:80", "::1:0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.listen = bad[i];
        err = 0;
        assert_null(lc_ingest_start(&cfg, NULL, &hooks, &err));
        assert_int_equal(err, -EINVAL);
    }
}

static bool ffmpeg_on_path(void)
{
    return system("command -v ffmpeg >/dev/null 2>&1") == 0;
}

static pid_t spawn_ffmpeg(int port, const char *key, const char *inputs)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "exec ffmpeg -nostdin -loglevel error -re %s -t 3 -f flv "
             "rtmp://127.0.0.1:%d/live/%s >/dev/null 2>&1", inputs, port, key);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* ffmpeg → listener → conn → lc_live → packager → window: the stream runs, then ends cleanly
 * (FCUnpublish/deleteStream) and the window holds a finished playlist. */
static void test_ffmpeg_end_to_end(void **state)
{
    (void)state;
    if (!ffmpeg_on_path())
        skip();
    fixture_t f;
    start(&f, NULL);
    int ended_before = app_get(&g_app.ended);
    pid_t pid = spawn_ffmpeg(f.port, GOOD_KEY,
                             "-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine "
                             "-c:v libx264 -g 50 -c:a aac");
    assert_true(wait_state(&f, LC_LIVE_RUNNING, 10000));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(wait_state(&f, LC_LIVE_OFFLINE, 10000)); /* a clean stop ends the session */
    int64_t until = lc_now_mono_ms() + 10000;
    while (app_get(&g_app.ended) == ended_before && lc_now_mono_ms() < until)
        usleep(20000);
    assert_int_equal(app_get(&g_app.ended), ended_before + 1);
    lc_window_t *w = lc_live_window(f.live, "demo");
    assert_non_null(w);
    lc_buf_t *pl = lc_window_media_playlist(w);
    assert_non_null(pl);
    const char *text = (const char *)lc_buf_cdata(pl);
    assert_non_null(strstr(text, "#EXTINF:"));
    assert_non_null(strstr(text, "#EXT-X-ENDLIST"));
    lc_buf_unref(pl);
    lc_buf_t *master = lc_window_master_playlist(w);
    assert_non_null(master);
    assert_non_null(strcasestr((const char *)lc_buf_cdata(master), "avc1.64000d"));
    assert_non_null(strstr((const char *)lc_buf_cdata(master), "mp4a.40.2"));
    lc_buf_unref(master);
    lc_window_unref(w);
    stop(&f);
}

static void test_ffmpeg_bad_key(void **state)
{
    (void)state;
    if (!ffmpeg_on_path())
        skip();
    fixture_t f;
    start(&f, NULL);
    int calls = app_get(&g_app.authorize_calls);
    pid_t pid = spawn_ffmpeg(f.port, "wrong-key", "-f lavfi -i sine -c:a aac");
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    assert_int_equal(app_get(&g_app.authorize_calls), calls + 1);
    assert_int_equal(lc_live_state(f.live, WEBINAR, NULL), LC_LIVE_OFFLINE);
    stop(&f);
}

/* A raw client that publishes audio: handshake, connect, publish, metadata, AAC header, frames. */
static void publisher_bytes(lc_bytes_t *b, const char *key, int frames)
{
    tc_handshake(b);
    tc_set_chunk_size(b, 128, 4096);
    tc_connect(b, 4096, "live");
    tc_publish_sequence(b, 4096, key);
    tc_metadata(b, 4096, false, true);
    lc_bytes_t body;
    lc_bytes_init(&body);
    tc_aac_body(&body, 0, tc_asc_48k_stereo, 2);
    tc_chunk(b, 4096, 0, 4, 0, LC_RTMP_MSG_AUDIO, 1, body.data, (uint32_t)body.len, true);
    for (int i = 0; i < frames; i++) {
        lc_bytes_reset(&body);
        tc_aac_body(&body, 1, "\x21\x00\x49\x90\x02\x19\x00\x23\x80", 9);
        tc_chunk(b, 4096, 0, 4, (uint32_t)(i * 21), LC_RTMP_MSG_AUDIO, 1, body.data,
                 (uint32_t)body.len, true);
    }
    lc_bytes_free(&body);
}

/* A dropped socket leaves the stream in grace; a server stop ends it. */
static void test_drop_then_stop(void **state)
{
    (void)state;
    fixture_t f;
    start(&f, NULL);
    lc_bytes_t b;
    lc_bytes_init(&b);
    publisher_bytes(&b, GOOD_KEY, 50);
    int fd = dial(f.port);
    send_all(fd, &b);
    assert_true(wait_state(&f, LC_LIVE_RUNNING, 5000));
    close(fd); /* no FCUnpublish: a network failure */
    assert_true(wait_state(&f, LC_LIVE_GRACE, 5000));

    fd = dial(f.port); /* the presenter comes back */
    send_all(fd, &b);
    assert_true(wait_state(&f, LC_LIVE_RUNNING, 5000));
    int ended = app_get(&g_app.ended);
    lc_ingest_stop(&f.ing); /* server shutdown: the publisher finishes as stopped */
    assert_true(wait_state(&f, LC_LIVE_OFFLINE, 5000));
    int64_t until = lc_now_mono_ms() + 5000;
    while (app_get(&g_app.ended) == ended && lc_now_mono_ms() < until)
        usleep(20000);
    assert_int_equal(app_get(&g_app.ended), ended + 1);
    assert_true(closed_within(fd, 2000));
    close(fd);
    lc_bytes_free(&b);
    stop(&f);
}

/* Garbage on one connection closes that one; a good connection next to it carries on. */
static void test_hostile_next_to_good(void **state)
{
    (void)state;
    fixture_t f;
    start(&f, NULL);
    int good = dial(f.port);
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_handshake(&b);
    tc_connect(&b, 128, "live");
    send_all(good, &b);

    int bad = dial(f.port);
    lc_bytes_t g;
    lc_bytes_init(&g);
    tc_handshake(&g);
    for (int i = 0; i < 100; i++)
        tc_u8(&g, (uint8_t)(0x47 + i * 13));
    send_all(bad, &g);
    assert_true(closed_within(bad, 2000));
    close(bad);

    int wrong_version = dial(f.port);
    lc_bytes_reset(&g);
    tc_put(&g, "GET / HTTP/1.1\r\n\r\n", 18);
    send_all(wrong_version, &g);
    assert_true(closed_within(wrong_version, 2000));
    close(wrong_version);

    lc_bytes_reset(&b);
    tc_chunk(&b, 128, 0, 2, 0, LC_RTMP_MSG_USER_CONTROL, 0, "\x00\x06\x00\x00\x00\x2a", 6, true);
    send_all(good, &b);
    uint8_t types[32];
    int n = read_replies(good, 500, types, 32);
    bool pong = false, result = false;
    for (int i = 0; i < n; i++) {
        pong |= types[i] == LC_RTMP_MSG_USER_CONTROL;
        result |= types[i] == LC_RTMP_MSG_COMMAND_AMF0;
    }
    assert_true(result); /* connect was answered */
    assert_true(pong);   /* and the ping, after the other connection was thrown out */
    close(good);
    lc_bytes_free(&b);
    lc_bytes_free(&g);
    stop(&f);
}

static void test_timeouts(void **state)
{
    (void)state;
    lc_ingest_config_t cfg;
    lc_ingest_config_default(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.handshake_timeout_ms = 300;
    cfg.idle_timeout_ms = 600;
    cfg.publish_idle_timeout_ms = 1500;
    fixture_t f;
    start(&f, &cfg);
    int64_t t0 = lc_now_mono_ms();
    int silent = dial(f.port);
    assert_true(closed_within(silent, 3000));
    int64_t took = lc_now_mono_ms() - t0;
    assert_in_range(took, 250, 1500);
    close(silent);

    /* a publisher that goes quiet is closed by the publish idle timeout (not the shorter idle
     * timeout) as lost: the stream waits in grace */
    lc_bytes_t b;
    lc_bytes_init(&b);
    publisher_bytes(&b, GOOD_KEY, 5);
    int fd = dial(f.port);
    send_all(fd, &b);
    assert_true(wait_state(&f, LC_LIVE_RUNNING, 3000));
    t0 = lc_now_mono_ms();
    assert_true(closed_within(fd, 4000));
    assert_in_range(lc_now_mono_ms() - t0, 1200, 2500);
    assert_true(wait_state(&f, LC_LIVE_GRACE, 3000));
    close(fd);

    /* one that stopped publishing (and stays connected) falls under the idle timeout */
    fd = dial(f.port);
    send_all(fd, &b);
    assert_true(wait_state(&f, LC_LIVE_RUNNING, 3000));
    lc_bytes_reset(&b);
    tc_command(&b, 4096, 1, "FCUnpublish", 6, GOOD_KEY);
    tc_command(&b, 4096, 1, "deleteStream", 7, NULL);
    send_all(fd, &b);
    assert_true(wait_state(&f, LC_LIVE_OFFLINE, 3000));
    t0 = lc_now_mono_ms();
    assert_true(closed_within(fd, 3000));
    assert_in_range(lc_now_mono_ms() - t0, 300, 1200);
    close(fd);
    lc_bytes_free(&b);
    stop(&f);
}

/* Remote addresses reduced to what is counted: IPv4 addresses, IPv6 /64 networks. */
static void test_peer_key(void **state)
{
    (void)state;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1)};
    struct sockaddr_in b = {.sin_family = AF_INET, .sin_port = htons(2)};
    inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
    inet_pton(AF_INET, "192.0.2.1", &b.sin_addr);
    lc_peer_key_t ka, kb;
    assert_int_equal(lc_peer_key((struct sockaddr *)&a, sizeof a, &ka), 0);
    assert_int_equal(lc_peer_key((struct sockaddr *)&b, sizeof b, &kb), 0);
    assert_true(lc_peer_key_equal(&ka, &kb)); /* the port does not matter */
    inet_pton(AF_INET, "192.0.2.2", &b.sin_addr);
    assert_int_equal(lc_peer_key((struct sockaddr *)&b, sizeof b, &kb), 0);
    assert_false(lc_peer_key_equal(&ka, &kb));

    /* one /64 is one peer; the next /64 is another; a v4-mapped address is its IPv4 address */
    struct sockaddr_in6 x = {.sin6_family = AF_INET6}, y = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "2001:db8:1:2:aaaa::1", &x.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:2:ffff:1:2:3", &y.sin6_addr);
    lc_peer_key_t kx, ky;
    assert_int_equal(lc_peer_key((struct sockaddr *)&x, sizeof x, &kx), 0);
    assert_int_equal(lc_peer_key((struct sockaddr *)&y, sizeof y, &ky), 0);
    assert_true(lc_peer_key_equal(&kx, &ky));
    inet_pton(AF_INET6, "2001:db8:1:3::1", &y.sin6_addr);
    assert_int_equal(lc_peer_key((struct sockaddr *)&y, sizeof y, &ky), 0);
    assert_false(lc_peer_key_equal(&kx, &ky));
    inet_pton(AF_INET6, "::ffff:192.0.2.1", &y.sin6_addr);
    assert_int_equal(lc_peer_key((struct sockaddr *)&y, sizeof y, &ky), 0);
    assert_true(lc_peer_key_equal(&ka, &ky));
    inet_pton(AF_INET6, "::ffff:192.0.2.2", &y.sin6_addr);
    assert_int_equal(lc_peer_key((struct sockaddr *)&y, sizeof y, &ky), 0);
    assert_false(lc_peer_key_equal(&ka, &ky));
    inet_pton(AF_INET6, "::1", &y.sin6_addr); /* not confused with an IPv4 address */
    assert_int_equal(lc_peer_key((struct sockaddr *)&y, sizeof y, &ky), 0);
    assert_false(lc_peer_key_equal(&ka, &ky));
    assert_false(lc_peer_key_equal(&kx, &ky));

    /* errors: short lengths, other families */
    assert_int_equal(lc_peer_key((struct sockaddr *)&a, sizeof a - 1, &ka), -EINVAL);
    assert_int_equal(lc_peer_key((struct sockaddr *)&x, sizeof x - 1, &kx), -EINVAL);
    assert_int_equal(lc_peer_key(NULL, 0, &kx), -EINVAL);
    struct sockaddr_storage u = {.ss_family = AF_UNIX};
    assert_int_equal(lc_peer_key((struct sockaddr *)&u, sizeof u, &kx), -EAFNOSUPPORT);
    lc_peer_key_t zero = {{0}};
    assert_true(lc_peer_key_equal(&kx, &zero));
}

/* At the connection limit, the oldest connection that has not published yet makes room for the
 * new one (a flood of idle connections cannot lock a presenter out); publishers are never
 * evicted. Nothing about the peers' addresses is logged. */
static void test_max_connections(void **state)
{
    (void)state;
    lc_ingest_config_t cfg;
    lc_ingest_config_default(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.max_connections = 2;
    fixture_t f;
    start(&f, &cfg);
    capture_debug_log();
    int a = dial(f.port);
    usleep(50000);
    int b = dial(f.port);
    usleep(100000);
    int c = dial(f.port);
    assert_true(closed_within(a, 2000)); /* the oldest made room */
    assert_false(closed_within(b, 300));
    assert_false(closed_within(c, 300));
    close(a);

    /* b publishes: from now on the pending one (c) is evicted, never b */
    lc_bytes_t pub;
    lc_bytes_init(&pub);
    publisher_bytes(&pub, GOOD_KEY, 50);
    send_all(b, &pub);
    assert_true(wait_state(&f, LC_LIVE_RUNNING, 3000));
    int d = dial(f.port);
    assert_true(closed_within(c, 2000));
    assert_false(closed_within(d, 300));
    assert_false(closed_within(b, 300));
    assert_int_equal(lc_live_state(f.live, WEBINAR, NULL), LC_LIVE_RUNNING);
    close(c);
    close(d);
    close(b);
    char *log = end_debug_log();
    assert_non_null(log);
    assert_null(strstr(log, "127.0.0."));
    free(log);
    stop(&f);

    /* every slot publishing: the new connection is the one refused */
    cfg.max_connections = 1;
    start(&f, &cfg);
    int p = dial(f.port);
    send_all(p, &pub);
    assert_true(wait_state(&f, LC_LIVE_RUNNING, 3000));
    int e = dial(f.port);
    assert_true(closed_within(e, 2000));
    assert_false(closed_within(p, 300));
    assert_int_equal(lc_live_state(f.live, WEBINAR, NULL), LC_LIVE_RUNNING);
    close(e);
    close(p);
    lc_bytes_free(&pub);
    stop(&f);
}

/* At most 8 (the default) not-yet-publishing connections per remote address: the 9th is refused,
 * another address is not affected, and a connection that publishes no longer counts. */
static void test_per_address_limit(void **state)
{
    (void)state;
    fixture_t f;
    start(&f, NULL);
    capture_debug_log();
    int fds[8];
    for (int i = 0; i < 8; i++)
        fds[i] = dial_from("127.0.0.1", f.port);
    usleep(100000);
    int extra = dial_from("127.0.0.1", f.port);
    assert_true(closed_within(extra, 2000));
    close(extra);
    int other = dial_from("127.0.0.2", f.port);
    assert_false(closed_within(other, 300));
    for (int i = 0; i < 8; i++)
        assert_false(closed_within(fds[i], 20));

    lc_bytes_t pub;
    lc_bytes_init(&pub);
    publisher_bytes(&pub, GOOD_KEY, 50);
    send_all(fds[0], &pub);
    assert_true(wait_state(&f, LC_LIVE_RUNNING, 3000));
    int again = dial_from("127.0.0.1", f.port);
    assert_false(closed_within(again, 300));
    close(again);
    close(other);
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    char *log = end_debug_log();
    assert_non_null(log);
    assert_null(strstr(log, "127.0.0."));
    free(log);
    lc_bytes_free(&pub);
    stop(&f);
}

/* Defaults that bound what an unauthenticated peer can hold. */
static void test_config_defaults(void **state)
{
    (void)state;
    lc_ingest_config_t cfg;
    lc_ingest_config_default(&cfg);
    assert_int_equal(cfg.max_connections, 256);
    assert_int_equal(cfg.handshake_timeout_ms, 5000);
    assert_int_equal(cfg.idle_timeout_ms, 30000);
    assert_int_equal(cfg.publish_idle_timeout_ms, 10000);
    assert_int_equal(cfg.max_pending_per_address, 8);
}

/* A presenter's network changes under a live push: the old connection stays half-open (no RST,
 * no more bytes). A second publisher is refused while the webinar is live, but the silent
 * publisher is closed as lost after 10 s (by default), and the presenter's retry goes through. */
static void test_half_open_publisher(void **state)
{
    (void)state;
    fixture_t f;
    start(&f, NULL);
    lc_bytes_t b;
    lc_bytes_init(&b);
    publisher_bytes(&b, GOOD_KEY, 50);
    int old = dial(f.port);
    send_all(old, &b);
    assert_true(wait_state(&f, LC_LIVE_RUNNING, 3000));
    int64_t t0 = lc_now_mono_ms();
    char code[64];

    int c = dial(f.port);
    send_all(c, &b);
    read_status(c, 3000, code, sizeof code);
    assert_string_equal(code, "NetStream.Publish.BadName"); /* still live: refused */
    close(c);

    int64_t ok_at = 0;
    while (!ok_at && lc_now_mono_ms() - t0 < 15000) {
        usleep(500000); /* the presenter's retries */
        c = dial(f.port);
        send_all(c, &b);
        read_status(c, 3000, code, sizeof code);
        if (strcmp(code, "NetStream.Publish.Start") == 0)
            ok_at = lc_now_mono_ms();
        else
            close(c);
    }
    assert_true(ok_at > 0);
    assert_in_range(ok_at - t0, 9000, 12000);
    assert_true(closed_within(old, 1000)); /* the half-open one was closed by the server */
    assert_int_equal(lc_live_state(f.live, WEBINAR, NULL), LC_LIVE_RUNNING);
    close(old);
    close(c);
    lc_bytes_free(&b);
    stop(&f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_addresses),
        cmocka_unit_test(test_ffmpeg_end_to_end),
        cmocka_unit_test(test_ffmpeg_bad_key),
        cmocka_unit_test(test_drop_then_stop),
        cmocka_unit_test(test_hostile_next_to_good),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_peer_key),
        cmocka_unit_test_teardown(test_max_connections, debug_log_teardown),
        cmocka_unit_test_teardown(test_per_address_limit, debug_log_teardown),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_half_open_publisher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
