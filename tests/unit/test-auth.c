/* Organiser authentication: the scrypt wrapper (RFC 7914 vectors), the stored hash format, the
 * password and email rules, the rate limiter, the KDF worker, and login, sessions and setup
 * against a real database. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "auth/kdf.h"
#include "auth/password.h"
#include "auth/ratelimit.h"
#include "core/error.h"
#include "core/util.h"
#include "temp_db.h"

/* Small parameters: the tests check behaviour, not cost. */
#define FAST ((lc_scrypt_params_t){.n = 1024, .r = 8, .p = 1})

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    size_t k = 0;
    for (const char *p = hex; *p && k < n;) {
        if (*p == ' ' || *p == '\n') {
            p++;
            continue;
        }
        unsigned v;
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        out[k++] = (uint8_t)v;
        p += 2;
    }
    assert_int_equal(k, n);
}

static const char RFC_1[] = "77 d6 57 62 38 65 7b 20 3b 19 ca 42 c1 8a 04 97"
                            "f1 6b 48 44 e3 07 4a e8 df df fa 3f ed e2 14 42"
                            "fc d0 06 9d ed 09 48 f8 32 6a 75 3a 0f c8 1f 17"
                            "e8 d3 e0 fb 2e 0d 36 28 cf 35 e2 0c 38 d1 89 06";
static const char RFC_2[] = "fd ba be 1c 9d 34 72 00 78 56 e7 19 0d 01 e9 fe"
                            "7c 6a d7 cb c8 23 78 30 e7 73 76 63 4b 37 31 62"
                            "2e af 30 d9 2e 22 a3 88 6f f1 09 27 9d 98 30 da"
                            "c7 27 af b9 4a 83 ee 6d 83 60 cb df a2 cc 06 40";

/* RFC 7914 section 12, through our wrapper and through the stored-hash format. */
static void test_scrypt_known_answers(void **state)
{
    (void)state;
    uint8_t want[64], got[64];
    unhex(RFC_1, want, 64);
    assert_int_equal(lc_scrypt("", 0, "", 0, &(lc_scrypt_params_t){16, 1, 1}, got, 64), 0);
    assert_memory_equal(got, want, 64);
    unhex(RFC_2, want, 64);
    lc_scrypt_params_t p2 = {1024, 8, 16};
    assert_int_equal(lc_scrypt("password", 8, "NaCl", 4, &p2, got, 64), 0);
    assert_memory_equal(got, want, 64);

    char salt[16], hash[100], encoded[LC_PASSWORD_HASH_MAX];
    lc_base64url("NaCl", 4, salt, sizeof salt);
    lc_base64url(want, 64, hash, sizeof hash);
    snprintf(encoded, sizeof encoded, "scrypt$1024$8$16$%s$%s", salt, hash);
    assert_int_equal(lc_password_verify("password", 8, encoded), 0);
    assert_int_equal(lc_password_verify("passwore", 8, encoded), LC_EDENIED);
    assert_int_equal(lc_password_verify("password", 7, encoded), LC_EDENIED);
    /* Parameters are read from the string: the same digest under N=2048 does not match. */
    snprintf(encoded, sizeof encoded, "scrypt$2048$8$16$%s$%s", salt, hash);
    assert_int_equal(lc_password_verify("password", 8, encoded), LC_EDENIED);
}

static void test_hash_format_and_rehash(void **state)
{
    (void)state;
    char h1[LC_PASSWORD_HASH_MAX], h2[LC_PASSWORD_HASH_MAX];
    const char pw[] = "correct horse battery";
    assert_int_equal(lc_password_hash(pw, strlen(pw), &FAST, h1), 0);
    assert_int_equal(lc_password_hash(pw, strlen(pw), &FAST, h2), 0);
    assert_true(strncmp(h1, "scrypt$1024$8$1$", 16) == 0);
    assert_string_not_equal(h1, h2); /* a fresh salt each time */
    assert_int_equal(lc_password_verify(pw, strlen(pw), h1), 0);
    assert_int_equal(lc_password_verify(pw, strlen(pw), h2), 0);
    assert_int_equal(lc_password_verify("correct horse battery!", 22, h1), LC_EDENIED);
    assert_false(lc_password_needs_rehash(h1, &FAST));
    assert_true(lc_password_needs_rehash(h1, &(lc_scrypt_params_t){2048, 8, 1}));
    assert_true(lc_password_needs_rehash("garbage", &FAST));

    char dummy[LC_PASSWORD_HASH_MAX];
    assert_int_equal(lc_password_dummy(&FAST, dummy), 0);
    assert_false(lc_password_needs_rehash(dummy, &FAST));
    assert_int_equal(lc_password_verify(pw, strlen(pw), dummy), LC_EDENIED);

    /* Malformed or dangerous stored hashes are refused before any KDF work. */
    const char *bad[] = {
        "",
        "scrypt",
        "bcrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$2097152$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$1024$64$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$1024$8$0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
        "scrypt$1024$8$1$AAAA=AAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$x",
        "scrypt$-1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lc_password_verify(pw, strlen(pw), bad[i]), -EINVAL);
    uint8_t out[32];
    assert_int_equal(lc_scrypt(pw, 3, "s", 1, &(lc_scrypt_params_t){1000, 8, 1}, out, 32),
                     -EINVAL);
    assert_int_equal(lc_scrypt(pw, 3, "s", 1, &(lc_scrypt_params_t){1u << 21, 8, 1}, out, 32),
                     -EINVAL);
}

/* The default really is OWASP's, and OpenSSL accepts it (maxmem raised to what it needs). */
static void test_default_parameters_run(void **state)
{
    (void)state;
    lc_scrypt_params_t d = LC_SCRYPT_DEFAULT;
    assert_int_equal(d.n, 131072);
    assert_int_equal(d.r, 8);
    assert_int_equal(d.p, 1);
    char h[LC_PASSWORD_HASH_MAX];
    assert_int_equal(lc_password_hash("0123456789", 10, &d, h), 0);
    assert_true(strncmp(h, "scrypt$131072$8$1$", 18) == 0);
    assert_int_equal(lc_password_verify("0123456789", 10, h), 0);
}

static void test_password_rules(void **state)
{
    (void)state;
    char big[LC_PASSWORD_MAX + 2];
    memset(big, 'x', sizeof big);
    assert_non_null(lc_password_rule_broken("123456789", 9));
    assert_null(lc_password_rule_broken("1234567890", 10));
    assert_null(lc_password_rule_broken(big, LC_PASSWORD_MAX));
    assert_non_null(lc_password_rule_broken(big, LC_PASSWORD_MAX + 1));
    assert_null(lc_password_rule_broken("pässwörd—ok", strlen("pässwörd—ok")));
    assert_non_null(lc_password_rule_broken("abcdefghij\xff", 11));
    assert_non_null(lc_password_rule_broken("abcde\0fghij", 11));
    /* A multibyte character cut at the end is not UTF-8. */
    assert_non_null(lc_password_rule_broken("abcdefghij\xc3", 11));
}

static void test_utf8_and_base64(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t len, bad;
    } cases[] = {
        {"plain", 5, 5},
        {"\xc3\xa4", 2, 2},                 /* ä */
        {"\xf0\x9f\x8e\xa4", 4, 4},         /* U+1F3A4 */
        {"a\xc0\x80", 3, 1},                /* overlong NUL */
        {"ab\xe0\x80\xaf", 5, 2},           /* overlong '/' */
        {"\xed\xa0\x80", 3, 0},             /* a surrogate */
        {"\xf4\x90\x80\x80", 4, 0},         /* above U+10FFFF */
        {"abc\xe2\x82", 5, 3},              /* cut short */
        {"\x80", 1, 0},                     /* a lone continuation byte */
        {"ok\xc3\x28", 4, 2},               /* a bad continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(lc_utf8_invalid_at(cases[i].s, cases[i].len), cases[i].bad);

    uint8_t raw[40], back[40];
    for (size_t n = 0; n < sizeof raw; n++) {
        for (size_t i = 0; i < n; i++)
            raw[i] = (uint8_t)(i * 37 + n);
        char text[64];
        size_t got = 0;
        lc_base64url(raw, n, text, sizeof text);
        assert_int_equal(lc_base64url_decode(text, back, sizeof back, &got), 0);
        assert_int_equal(got, n);
        assert_memory_equal(back, raw, n);
    }
    size_t got;
    assert_int_equal(lc_base64url_decode("TmFDbA", back, sizeof back, &got), 0);
    assert_int_equal(got, 4);
    assert_memory_equal(back, "NaCl", 4);
    assert_int_equal(lc_base64url_decode("TmFDbB", back, sizeof back, &got), -EINVAL); /* bits */
    assert_int_equal(lc_base64url_decode("TmFDbA==", back, sizeof back, &got), -EINVAL);
    assert_int_equal(lc_base64url_decode("Tm+D", back, sizeof back, &got), -EINVAL);
    assert_int_equal(lc_base64url_decode("T", back, sizeof back, &got), -EINVAL);
    assert_int_equal(lc_base64url_decode("TmFDbA", back, 3, &got), -ENOSPC);
}

static void test_email_rules(void **state)
{
    (void)state;
    const char *good[] = {"a@b.co", "first.last@example.org", "o'brien+tag@mail.example.com",
                          "x_y-z@sub-domain.example", "UPPER@EXAMPLE.COM", "1@2.3"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(lc_email_valid(good[i]));
    const char *bad[] = {"", "plain", "@example.com", "a@", "a@b", "a@@b.com", "a@b@c.com",
                         ".a@b.com", "a.@b.com", "a..b@c.com", "a b@c.com", "a@b..com",
                         "a@-b.com", "a@b-.com", "a@.b.com", "a@b.com.", "<script>@x.com",
                         "a@b.com<script>", "j\xc3\xb6rg@example.com", "a\"b@c.com",
                         "x' OR '1'='1@example.com", "a@b_c.com", "a@b.com\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (lc_email_valid(bad[i]))
            fail_msg("accepted '%s'", bad[i]);
    }
    char local[80], domain[300];
    memset(local, 'a', 65);
    strcpy(local + 65, "@example.com");
    assert_false(lc_email_valid(local)); /* a 65-byte local part */
    memset(local, 'a', 64);
    strcpy(local + 64, "@example.com");
    assert_true(lc_email_valid(local));
    memset(domain, 0, sizeof domain);
    strcpy(domain, "a@");
    for (int i = 0; i < 7; i++)
        strcat(domain, "abcdefghijabcdefghijabcdefghijabcdefghij.");
    strcat(domain, "com");
    assert_false(lc_email_valid(domain)); /* 254+ bytes */
}

static void test_tokens(void **state)
{
    (void)state;
    char tok[LC_TOKEN_LEN + 1];
    uint8_t hash[32], again[32];
    assert_int_equal(lc_secret_new(32, tok, sizeof tok, hash), 0);
    assert_int_equal(strlen(tok), LC_TOKEN_LEN);
    assert_true(lc_token_wellformed(tok));
    lc_sha256(tok, strlen(tok), again);
    assert_memory_equal(hash, again, 32);
    assert_false(lc_token_wellformed(NULL));
    assert_false(lc_token_wellformed(""));
    tok[5] = '+';
    assert_false(lc_token_wellformed(tok));
    assert_int_equal(lc_secret_new(32, tok, 40, hash), -EINVAL); /* does not fit */
}

static void test_ratelimit(void **state)
{
    (void)state;
    lc_ratelimit_config_t cfg = {.account_max = 3, .account_window_ms = 1000, .global_max = 10,
                                 .global_window_ms = 100000, .slots = 4};
    lc_ratelimit_t *rl = lc_ratelimit_new(&cfg);
    assert_non_null(rl);
    uint8_t a[32] = {1}, b[32] = {2};
    int64_t t = 5000;
    for (int i = 0; i < 3; i++)
        assert_int_equal(lc_ratelimit_acquire(rl, a, t + i), 0);
    /* The fourth attempt waits until the window that began at t ends. */
    assert_int_equal(lc_ratelimit_acquire(rl, a, t + 100), 900);
    assert_int_equal(lc_ratelimit_acquire(rl, b, t + 100), 0); /* another account is not hit */
    assert_int_equal(lc_ratelimit_acquire(rl, a, t + 1000), 0); /* a new window */
    /* A refund (the server could not try) gives the attempt back; a success wipes the count. */
    assert_int_equal(lc_ratelimit_acquire(rl, a, t + 1001), 0);
    assert_int_equal(lc_ratelimit_acquire(rl, a, t + 1002), 0);
    assert_true(lc_ratelimit_acquire(rl, a, t + 1003) > 0);
    lc_ratelimit_refund(rl, a);
    assert_int_equal(lc_ratelimit_acquire(rl, a, t + 1004), 0);
    lc_ratelimit_success(rl, a);
    for (int i = 0; i < 3; i++)
        assert_int_equal(lc_ratelimit_acquire(rl, a, t + 1005), 0);
    assert_true(lc_ratelimit_acquire(rl, a, t + 1005) > 0);
    lc_ratelimit_free(&rl);
    assert_null(rl);
    lc_ratelimit_free(&rl);

    /* The global cap: many accounts, one attempt each. */
    cfg.global_max = 5;
    cfg.global_window_ms = 60000;
    cfg.slots = 3; /* fewer slots than accounts: the oldest make room */
    rl = lc_ratelimit_new(&cfg);
    uint8_t k[32] = {0};
    for (int i = 0; i < 5; i++) {
        k[0] = (uint8_t)(10 + i);
        assert_int_equal(lc_ratelimit_acquire(rl, k, 1000 + i), 0);
    }
    k[0] = 99;
    int64_t wait = lc_ratelimit_acquire(rl, k, 2000);
    assert_true(wait > 0 && wait <= 60000);
    assert_int_equal(lc_ratelimit_acquire(rl, k, 1000 + 60000), 0); /* the next minute */
    lc_ratelimit_free(&rl);
}

/* ---- the KDF worker and the auth module over a database --------------------------------------- */

/* Completion callbacks of the KDF worker: counted, and posted to the semaphore. */
static sem_t done_sem;
static int op_calls;

static void on_done(void *opaque)
{
    (*(int *)opaque)++;
    sem_post(&done_sem);
}

static void wait_done(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 20;
    assert_int_equal(sem_timedwait(&done_sem, &ts), 0);
}

static void test_kdf_worker(void **state)
{
    (void)state;
    sem_init(&done_sem, 0, 0);
    int err = 0;
    op_calls = 0;
    lc_kdf_t *k = lc_kdf_start(&FAST, 1, &err);
    assert_non_null(k);
    lc_kdf_job_t *h = lc_kdf_hash(k, "0123456789", 10, on_done, &op_calls, &err);
    assert_non_null(h);
    wait_done();
    assert_int_equal(lc_kdf_job_result(h), 0);
    char stored[LC_PASSWORD_HASH_MAX];
    snprintf(stored, sizeof stored, "%s", lc_kdf_job_hash(h));
    lc_kdf_job_release(&h);
    assert_null(h);

    /* Submitted right after the callback: the finished job no longer takes the only slot. */
    lc_kdf_job_t *v = lc_kdf_verify(k, "0123456789", 10, stored, on_done, &op_calls, &err);
    assert_non_null(v);
    wait_done();
    assert_int_equal(lc_kdf_job_result(v), 0);
    assert_null(lc_kdf_job_hash(v)); /* same parameters: no rehash */
    lc_kdf_job_release(&v);
    v = lc_kdf_verify(k, "0123456788", 10, stored, on_done, &op_calls, &err);
    assert_non_null(v);
    wait_done();
    assert_int_equal(lc_kdf_job_result(v), LC_EDENIED);
    lc_kdf_job_release(&v);
    assert_int_equal(op_calls, 3);
    lc_kdf_stop(&k);

    /* A bounded queue: one job at a time here, so the second is refused while the first runs
     * (at N = 2^16 it takes tens of milliseconds). A cancelled job never calls back. */
    k = lc_kdf_start(&(lc_scrypt_params_t){1u << 16, 8, 1}, 1, &err);
    op_calls = 0;
    lc_kdf_job_t *slow = lc_kdf_hash(k, "0123456789", 10, on_done, &op_calls, &err);
    assert_non_null(slow);
    assert_null(lc_kdf_hash(k, "0123456789", 10, on_done, &op_calls, &err));
    assert_int_equal(err, LC_ELIMIT);
    lc_kdf_job_cancel(slow);
    lc_kdf_stop(&k); /* waits for the running job */
    assert_int_equal(op_calls, 0);
    assert_int_not_equal(lc_kdf_job_result(slow), -EINPROGRESS);
    lc_kdf_job_release(&slow);
    lc_kdf_stop(&k); /* NULL-safe */
    sem_destroy(&done_sem);
}

static lc_auth_t *new_auth(lc_db_t *db, lc_scrypt_params_t kdf)
{
    lc_auth_config_t cfg;
    lc_auth_config_default(&cfg);
    cfg.kdf = kdf;
    cfg.session_idle_ms = 1000;
    cfg.session_lifetime_ms = 5000;
    cfg.limits.account_max = 3;
    int err = 0;
    lc_auth_t *a = lc_auth_new(db, &cfg, &err);
    assert_non_null(a);
    return a;
}

/* Waits for a started operation and finishes it: 0 and *uid, or the refusal. */
static int finish_op(lc_auth_t *a, lc_auth_op_t *op, int64_t now, int64_t *uid)
{
    wait_done();
    int rc = lc_auth_op_finish(a, op, now, uid);
    lc_auth_op_free(&op);
    return rc;
}

/* Runs a login to its end; -EAGAIN when it was rate-limited. */
static int login(lc_auth_t *a, const char *email, const char *pw, int64_t now, int64_t *uid)
{
    int err = 0;
    int64_t retry = 0;
    lc_auth_op_t *op = lc_auth_login_start(a, email, pw, strlen(pw), now, on_done, &op_calls,
                                           &retry, &err);
    return op ? finish_op(a, op, now, uid) : retry > 0 ? -EAGAIN : err;
}

static void test_login_sessions_and_rehash(void **state)
{
    (void)state;
    sem_init(&done_sem, 0, 0);
    lc_db_t *db = NULL;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    char old_hash[LC_PASSWORD_HASH_MAX];
    assert_int_equal(lc_password_hash("first password", 14, &FAST, old_hash), 0);
    int64_t uid = 0, got = 0;
    assert_int_equal(lc_db_user_insert(db, "Org@Example.com", old_hash, 1, &uid), 0);
    assert_int_equal(lc_db_user_insert(db, "org@example.COM", old_hash, 1, &got), LC_ECONFLICT);

    /* The server now hashes with stronger parameters: a login upgrades the stored hash. */
    lc_scrypt_params_t stronger = {2048, 8, 1};
    lc_auth_t *a = new_auth(db, stronger);
    assert_int_equal(login(a, "org@example.com", "first password", 10, &got), 0);
    assert_int_equal(got, uid);
    lc_user_t u;
    char now_hash[LC_DB_HASH_MAX];
    assert_int_equal(lc_db_user_by_email(db, "ORG@example.com", &u, now_hash), 0);
    assert_string_equal(u.email, "Org@Example.com");
    assert_false(lc_password_needs_rehash(now_hash, &stronger));
    assert_int_equal(lc_password_verify("first password", 14, now_hash), 0);

    /* Wrong password and unknown account: the same refusal. */
    assert_int_equal(login(a, "org@example.com", "wrong password", 20, &got), LC_EDENIED);
    assert_int_equal(login(a, "nobody@example.com", "first password", 20, &got), LC_EDENIED);
    assert_int_equal(login(a, "not an email", "first password", 20, &got), LC_EDENIED);
    /* Three attempts per account here: two more failures, then even the right password waits. */
    assert_int_equal(login(a, "org@example.com", "wrong password", 21, &got), LC_EDENIED);
    assert_int_equal(login(a, "ORG@EXAMPLE.COM", "wrong password", 22, &got), LC_EDENIED);
    assert_int_equal(login(a, "org@example.com", "first password", 23, &got), -EAGAIN);

    /* Sessions: idle limit 1 s, lifetime 5 s. */
    char tok[LC_TOKEN_LEN + 1], csrf[LC_TOKEN_LEN + 1];
    lc_auth_session_t s;
    assert_int_equal(lc_auth_session_new(a, uid, 100000, tok, csrf), 0);
    assert_true(lc_token_wellformed(tok) && lc_token_wellformed(csrf));
    assert_string_not_equal(tok, csrf);
    assert_int_equal(lc_auth_session_get(a, tok, 100500, &s), 0);
    assert_int_equal(s.user_id, uid);
    assert_string_equal(s.email, "Org@Example.com");
    assert_string_equal(s.csrf_token, csrf);
    assert_true(lc_auth_csrf_ok(&s, csrf));
    assert_false(lc_auth_csrf_ok(&s, NULL));
    assert_false(lc_auth_csrf_ok(&s, ""));
    char wrong[LC_TOKEN_LEN + 1];
    memcpy(wrong, csrf, sizeof wrong);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    assert_false(lc_auth_csrf_ok(&s, wrong));
    /* Used every 0.9 s it lives on, until its absolute end. */
    for (int64_t t = 101400; t < 105000; t += 900)
        assert_int_equal(lc_auth_session_get(a, tok, t, &s), 0);
    assert_int_equal(lc_auth_session_get(a, tok, 105000, &s), LC_ENOTFOUND);
    /* Idle for a second: gone. */
    assert_int_equal(lc_auth_session_new(a, uid, 200000, tok, csrf), 0);
    assert_int_equal(lc_auth_session_get(a, tok, 201000, &s), LC_ENOTFOUND);
    /* The token is the key: a wrong or malformed one finds nothing; logout ends it. */
    assert_int_equal(lc_auth_session_new(a, uid, 300000, tok, csrf), 0);
    assert_int_equal(lc_auth_session_get(a, csrf, 300001, &s), LC_ENOTFOUND);
    assert_int_equal(lc_auth_session_get(a, "short", 300001, &s), LC_ENOTFOUND);
    assert_int_equal(lc_auth_session_end(a, tok), 0);
    assert_int_equal(lc_auth_session_get(a, tok, 300002, &s), LC_ENOTFOUND);
    assert_int_equal(lc_auth_session_end(a, tok), LC_ENOTFOUND);
    /* Deleting the account ends its sessions. */
    assert_int_equal(lc_auth_session_new(a, uid, 400000, tok, csrf), 0);
    assert_int_equal(lc_db_user_delete(db, uid), 0);
    assert_int_equal(lc_auth_session_get(a, tok, 400001, &s), LC_ENOTFOUND);

    lc_auth_free(&a);
    lc_db_close(&db);
    sem_destroy(&done_sem);
}

static int setup_account(lc_auth_t *a, const char *token, const char *email, int64_t now,
                         int64_t *uid)
{
    int err = 0;
    lc_auth_op_t *op = lc_auth_setup_start(a, token, email, "a new password", 14, now, on_done,
                                           &op_calls, &err);
    return op ? finish_op(a, op, now, uid) : err;
}

static void test_setup_link(void **state)
{
    (void)state;
    sem_init(&done_sem, 0, 0);
    lc_db_t *db = NULL;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    lc_auth_t *a = new_auth(db, FAST);
    char t1[LC_TOKEN_LEN + 1], t2[LC_TOKEN_LEN + 1];
    int64_t uid = 0;
    assert_int_equal(lc_auth_setup_issue(a, 1000, t1), 1);
    assert_int_equal(lc_auth_setup_issue(a, 2000, t2), 1);
    assert_true(lc_token_wellformed(t2));
    /* Only the newest link works, only before it expires (24 h), only once. */
    assert_int_equal(setup_account(a, t1, "first@example.com", 3000, &uid), LC_ENOTFOUND);
    assert_int_equal(setup_account(a, t2, "first@example.com", 2000 + 24 * 3600 * 1000LL, &uid),
                     LC_ENOTFOUND);
    assert_int_equal(setup_account(a, "not-a-token", "first@example.com", 3000, &uid),
                     LC_ENOTFOUND);
    assert_int_equal(setup_account(a, t2, "first@example.com", 3000, &uid), 0);
    lc_user_t u;
    assert_int_equal(lc_db_user_get(db, uid, &u), 0);
    assert_string_equal(u.email, "first@example.com");
    assert_int_equal(setup_account(a, t2, "second@example.com", 3001, &uid), LC_ENOTFOUND);
    int64_t n = 0;
    assert_int_equal(lc_db_user_count(db, &n), 0);
    assert_int_equal(n, 1);
    /* With an account, no link is issued and old ones are gone. */
    assert_int_equal(lc_auth_setup_issue(a, 4000, t1), 0);
    /* A link issued before an account was made elsewhere (the CLI) cannot make a second one. */
    assert_int_equal(lc_db_user_delete(db, uid), 0);
    assert_int_equal(lc_auth_setup_issue(a, 5000, t1), 1);
    char h[LC_PASSWORD_HASH_MAX];
    assert_int_equal(lc_password_hash("0123456789", 10, &FAST, h), 0);
    assert_int_equal(lc_db_user_insert(db, "cli@example.com", h, 5001, &uid), 0);
    assert_int_equal(setup_account(a, t1, "web@example.com", 5002, &uid), LC_ECONFLICT);
    lc_auth_free(&a);
    lc_db_close(&db);
    sem_destroy(&done_sem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scrypt_known_answers),
        cmocka_unit_test(test_hash_format_and_rehash),
        cmocka_unit_test(test_default_parameters_run),
        cmocka_unit_test(test_password_rules),
        cmocka_unit_test(test_utf8_and_base64),
        cmocka_unit_test(test_email_rules),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_kdf_worker),
        TEMP_DB_TEST(test_login_sessions_and_rehash),
        TEMP_DB_TEST(test_setup_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
