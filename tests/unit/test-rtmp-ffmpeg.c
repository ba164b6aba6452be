/* The real ffmpeg CLI publishing to a socket this test listens on; the bytes drive an
 * lc_rtmp_conn answering as the server. Audio+video, audio-only and video-only pushes. Skipped
 * when ffmpeg is not on PATH. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
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

#include "core/util.h"
#include "test-rtmp-client.h"

static bool ffmpeg_on_path(void)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char dir[4096];
    while (*path) {
        size_t n = strcspn(path, ":");
        char exe[4200];
        if (n < sizeof dir) {
            memcpy(dir, path, n);
            dir[n] = 0;
            snprintf(exe, sizeof exe, "%s/ffmpeg", n ? dir : ".");
            if (access(exe, X_OK) == 0)
                return true;
        }
        path += n + (path[n] == ':');
    }
    return false;
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

typedef struct {
    lc_rtmp_state_t state_at_eof;
    int feed_rc;
    size_t bytes;
} run_t;

/* Runs `ffmpeg <inputs> -f flv rtmp://127.0.0.1:PORT/live/<key>` and serves it with a conn. */
static void run_ffmpeg(const char *inputs, const char *key, tc_sink_t *s, run_t *out)
{
    int port;
    int lfd = listen_loopback(&port);
    char url[128], cmd[1024];
    snprintf(url, sizeof url, "rtmp://127.0.0.1:%d/live/%s", port, key);
    snprintf(cmd, sizeof cmd, "exec ffmpeg -nostdin -hide_banner -loglevel error -re %s -t 3 "
             "-f flv '%s' >/dev/null 2>%s/ffmpeg-%d.log", inputs, url, "/tmp", port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    struct pollfd pl = {.fd = lfd, .events = POLLIN};
    assert_int_equal(poll(&pl, 1, 20000), 1);
    int fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    close(lfd);

    lc_rtmp_sink_t sink = {.publish = tc_sink_publish,
                           .start = tc_sink_start,
                           .write = tc_sink_write,
                           .finish = tc_sink_finish,
                           .opaque = s};
    lc_rtmp_conn_t *c = lc_rtmp_conn_new(&sink, 1);
    assert_non_null(c);
    memset(out, 0, sizeof *out);
    uint8_t buf[65536];
    int64_t deadline = lc_now_mono_ms() + 60000;
    for (;;) {
        size_t pending;
        const uint8_t *p = lc_rtmp_conn_output(c, &pending);
        while (p) {
            ssize_t w = send(fd, p, pending, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            lc_rtmp_conn_output_sent(c, (size_t)w);
            p = lc_rtmp_conn_output(c, &pending);
        }
        assert_true(lc_now_mono_ms() < deadline);
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 1000) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        out->bytes += (size_t)r;
        out->feed_rc = lc_rtmp_conn_feed(c, buf, (size_t)r);
        if (out->feed_rc < 0 || lc_rtmp_conn_state(c) == LC_RTMP_CLOSING)
            break;
    }
    out->state_at_eof = lc_rtmp_conn_state(c);
    lc_rtmp_conn_free(&c);
    close(fd);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char log[256];
        snprintf(log, sizeof log, "cat /tmp/ffmpeg-%d.log >&2", port);
        if (system(log) < 0)
            fprintf(stderr, "(no ffmpeg log)\n");
        fail_msg("ffmpeg exited with status %d", status);
    }
    char logfile[64];
    snprintf(logfile, sizeof logfile, "/tmp/ffmpeg-%d.log", port);
    unlink(logfile);
}

static void stream_stats(const tc_sink_t *s, int index, int *n, int *keys, int64_t *first,
                         int64_t *last)
{
    *n = *keys = 0;
    *first = *last = -1;
    int64_t prev = INT64_MIN;
    for (int i = 0; i < s->npackets; i++) {
        const tc_packet_t *p = &s->packets[i];
        if (p->stream_index != index)
            continue;
        assert_true(p->dts > prev); /* strictly monotonic */
        assert_true(p->pts >= p->dts);
        assert_true(p->size > 0);
        prev = p->dts;
        if (*first < 0)
            *first = p->dts;
        *last = p->dts;
        (*n)++;
        *keys += (p->flags & AV_PKT_FLAG_KEY) != 0;
    }
}

static void check_video(const tc_sink_t *s)
{
    assert_non_null(s->video);
    assert_int_equal(s->video->codec_id, AV_CODEC_ID_H264);
    assert_int_equal(s->video->width, 320);
    assert_int_equal(s->video->height, 240);
    assert_true(s->video->extradata_size > 10);
    assert_int_equal(s->video->extradata[0], 1); /* an AVCDecoderConfigurationRecord */
    int n, keys;
    int64_t first, last;
    stream_stats(s, LC_RTMP_STREAM_VIDEO, &n, &keys, &first, &last);
    assert_in_range(n, 70, 76); /* 3 s at 25 fps */
    assert_int_equal(keys, 2);  /* -g 50 */
    assert_int_equal(s->packets[0].flags & AV_PKT_FLAG_KEY, AV_PKT_FLAG_KEY);
    assert_in_range(last - first, 2700, 3100);
    /* a key frame's AVCC starts with a NAL length; x264 puts SEI/SPS/IDR NAL units there */
    for (int i = 0; i < s->npackets; i++)
        if (s->packets[i].stream_index == LC_RTMP_STREAM_VIDEO) {
            assert_int_equal(s->packets[i].first_byte, 0);
            break;
        }
}

static void check_audio(const tc_sink_t *s)
{
    assert_non_null(s->audio);
    assert_int_equal(s->audio->codec_id, AV_CODEC_ID_AAC);
    assert_int_equal(s->audio->sample_rate, 44100);
    assert_int_equal(s->audio->ch_layout.nb_channels, 1);
    assert_int_equal(s->audio->profile, FF_PROFILE_AAC_LOW);
    int n, keys;
    int64_t first, last;
    stream_stats(s, LC_RTMP_STREAM_AUDIO, &n, &keys, &first, &last);
    assert_in_range(n, 120, 132); /* 3 s of 1024-sample frames at 44.1 kHz: ~129 */
    assert_int_equal(keys, n);
    assert_in_range(last - first, 2700, 3100);
}

static void check_clean_end(const tc_sink_t *s, const run_t *r)
{
    assert_int_equal(r->feed_rc, 0);
    assert_true(r->bytes > 10000);
    assert_int_equal(s->publish_calls, 1);
    assert_string_equal(s->app, "live");
    assert_int_equal(s->start_calls, 1);
    /* ffmpeg ends with FCUnpublish + deleteStream: a clean stop, before the socket closes */
    assert_int_equal(s->finish_calls, 1);
    assert_true(s->stopped);
    assert_int_equal(r->state_at_eof, LC_RTMP_CONNECTED);
}

static void test_ffmpeg_audio_video(void **state)
{
    (void)state;
    if (!ffmpeg_on_path())
        skip();
    tc_sink_t *s = tc_sink_new();
    run_t r;
    run_ffmpeg("-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -c:v libx264 -g 50 "
               "-c:a aac",
               "Ab3_xY-9", s, &r);
    assert_string_equal(s->key, "Ab3_xY-9");
    check_clean_end(s, &r);
    check_video(s);
    check_audio(s);
    /* audio and video share one clock: they start within 100 ms of each other */
    int64_t vfirst = -1, afirst = -1;
    for (int i = 0; i < s->npackets; i++) {
        if (s->packets[i].stream_index == 0 && vfirst < 0)
            vfirst = s->packets[i].dts;
        if (s->packets[i].stream_index == 1 && afirst < 0)
            afirst = s->packets[i].dts;
    }
    assert_in_range(vfirst - afirst + 100, 0, 200);
    tc_sink_free(s);
}

static void test_ffmpeg_audio_only(void **state)
{
    (void)state;
    if (!ffmpeg_on_path())
        skip();
    tc_sink_t *s = tc_sink_new();
    run_t r;
    run_ffmpeg("-f lavfi -i sine -c:a aac", "audioonly", s, &r);
    assert_string_equal(s->key, "audioonly");
    check_clean_end(s, &r);
    assert_null(s->video);
    check_audio(s);
    assert_int_equal(tc_count(s, LC_RTMP_STREAM_VIDEO, false), 0);
    tc_sink_free(s);
}

static void test_ffmpeg_video_only(void **state)
{
    (void)state;
    if (!ffmpeg_on_path())
        skip();
    tc_sink_t *s = tc_sink_new();
    run_t r;
    run_ffmpeg("-f lavfi -i testsrc2=size=320x240:rate=25 -c:v libx264 -g 50", "videoonly", s, &r);
    check_clean_end(s, &r);
    assert_null(s->audio);
    check_video(s);
    assert_int_equal(tc_count(s, LC_RTMP_STREAM_AUDIO, false), 0);
    tc_sink_free(s);
}

/* An unknown key: ffmpeg is told NetStream.Publish.BadName and gives up (exit status != 0). */
static void test_ffmpeg_bad_key(void **state)
{
    (void)state;
    if (!ffmpeg_on_path())
        skip();
    int port;
    int lfd = listen_loopback(&port);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "exec ffmpeg -nostdin -loglevel error -f lavfi -i sine -c:a aac "
             "-t 1 -f flv rtmp://127.0.0.1:%d/live/nope >/dev/null 2>&1", port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    struct pollfd pl = {.fd = lfd, .events = POLLIN};
    assert_int_equal(poll(&pl, 1, 20000), 1);
    int fd = accept(lfd, NULL, NULL);
    close(lfd);
    tc_sink_t *s = tc_sink_new();
    s->publish_rc = LC_EDENIED;
    lc_rtmp_conn_t *c = tc_conn_new(s);
    uint8_t buf[65536];
    int64_t deadline = lc_now_mono_ms() + 20000;
    while (lc_now_mono_ms() < deadline) {
        size_t pending;
        const uint8_t *p;
        while ((p = lc_rtmp_conn_output(c, &pending)) != NULL) {
            ssize_t w = send(fd, p, pending, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            lc_rtmp_conn_output_sent(c, (size_t)w);
        }
        if (lc_rtmp_conn_state(c) == LC_RTMP_CLOSING)
            break; /* refusal delivered: close, as the listener does */
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 500) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        assert_int_equal(lc_rtmp_conn_feed(c, buf, (size_t)r), 0);
    }
    assert_int_equal(lc_rtmp_conn_state(c), LC_RTMP_CLOSING);
    close(fd);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    assert_int_equal(s->publish_calls, 1);
    assert_string_equal(s->key, "nope");
    assert_int_equal(s->start_calls, 0);
    lc_rtmp_conn_free(&c);
    assert_int_equal(s->finish_calls, 0);
    tc_sink_free(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ffmpeg_audio_video),
        cmocka_unit_test(test_ffmpeg_audio_only),
        cmocka_unit_test(test_ffmpeg_video_only),
        cmocka_unit_test(test_ffmpeg_bad_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
