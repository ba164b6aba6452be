/* Clocks, randomness, secrets, strict parsing and file helpers. */
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lc_now_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
int64_t lc_now_real_ms(void) { return clock_ms(CLOCK_REALTIME); }

int lc_cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cond, &ca);
    pthread_condattr_destroy(&ca);
    return rc;
}

struct timespec lc_mono_timespec(int64_t mono_ms)
{
    return (struct timespec){.tv_sec = mono_ms / 1000, .tv_nsec = (mono_ms % 1000) * 1000000};
}

int64_t lc_now_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *lc_iso8601(int64_t real_ms, char out[static 25])
{
    time_t secs = (time_t)(real_ms / 1000);
    int ms = (int)(real_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* Each field is range-limited by struct tm, so the text always fits 24 characters; the
     * casts tell the compiler so. */
    snprintf(out, 25, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
             (unsigned)ms % 1000u);
    return out;
}

/* Reads exactly `n` digits at *p into *out and advances *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int lc_parse_iso8601(const char *s, int64_t *ms)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec = 0, frac = 0;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || *p++ != 'T' || !digits(&p, 2, &h) || *p++ != ':' ||
        !digits(&p, 2, &mi))
        return -EINVAL;
    if (*p == ':') {
        p++;
        if (!digits(&p, 2, &sec))
            return -EINVAL;
        if (*p == '.') {
            p++;
            int n = 0;
            for (; *p >= '0' && *p <= '9' && n < 9; p++, n++)
                if (n < 3)
                    frac = frac * 10 + (*p - '0');
            if (n == 0 || (*p >= '0' && *p <= '9'))
                return -EINVAL;
            for (; n < 3; n++)
                frac *= 10;
        }
    }
    int off_min = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return -EINVAL;
        off_min = sign * (oh * 60 + om);
    } else {
        return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && leap ? 1 : 0) || h > 23 || mi > 59 || sec > 59)
        return -EINVAL;
    int64_t t = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi - off_min) * 60 + sec;
    if (t < 0)
        return -EINVAL;
    *ms = t * 1000 + frac;
    return 0;
}

int lc_random_bytes(void *out, size_t len)
{
    if (len > INT_MAX || RAND_bytes(out, (int)len) != 1)
        return -EIO;
    return 0;
}

int lc_random_hex(char *out, size_t size)
{
    uint8_t raw[64];
    if (size < 3 || size > 129 || size % 2 == 0)
        return -EINVAL;
    size_t n = (size - 1) / 2;
    if (lc_random_bytes(raw, n) < 0)
        return -EIO;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[raw[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[raw[i] & 15];
    }
    out[size - 1] = 0;
    return 0;
}

size_t lc_base64url(const void *in, size_t len, char *out, size_t out_size)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const uint8_t *p = in;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        size_t n = len - i >= 3 ? 4 : len - i + 1;
        for (size_t k = 0; k < n && o + 1 < out_size; k++)
            out[o++] = tab[(v >> (18 - 6 * k)) & 63];
    }
    if (out_size)
        out[o] = 0;
    return o;
}

int lc_base64url_decode(const char *in, uint8_t *out, size_t out_size, size_t *out_len)
{
    size_t n = strlen(in), o = 0;
    if (n % 4 == 1)
        return -EINVAL;
    if (out_size < n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0))
        return -ENOSPC;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-')
            v = 62;
        else if (c == '_')
            v = 63;
        else
            return -EINVAL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return -EINVAL; /* unused low bits must be zero: one encoding per byte string */
    *out_len = o;
    return 0;
}

int lc_secret_new(size_t nbytes, char *out, size_t out_size, uint8_t hash[32])
{
    uint8_t raw[64];
    if (nbytes > sizeof raw || out_size < (nbytes * 4 + 2) / 3 + 1)
        return -EINVAL;
    int rc = lc_random_bytes(raw, nbytes);
    if (rc < 0)
        return rc;
    lc_base64url(raw, nbytes, out, out_size);
    OPENSSL_cleanse(raw, sizeof raw);
    lc_sha256(out, strlen(out), hash);
    return 0;
}

size_t lc_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

size_t lc_utf8_invalid_at(const void *s, size_t len)
{
    const uint8_t *p = s;
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i; /* a continuation byte, an overlong lead (C0, C1) or F5..FF */
        }
        if (len - i <= need)
            return i;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += need + 1;
    }
    return len;
}

void lc_sha256(const void *in, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    EVP_Digest(in, len, out, &n, EVP_sha256(), NULL);
}

bool lc_ct_equal(const void *a, const void *b, size_t len) { return CRYPTO_memcmp(a, b, len) == 0; }

int lc_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    const char *p = s;
    bool neg = false;
    if (*p == '-') {
        if (min >= 0)
            return -EINVAL;
        neg = true;
        p++;
    }
    if (*p < '0' || *p > '9')
        return -EINVAL;
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (neg)
        v = -v;
    if (v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int lc_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s || *s == ' ' || *s == '\t')
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !end || *end || !isfinite(v))
        return -EINVAL;
    if (v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int lc_mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    if (lc_fmt(tmp, sizeof tmp, "%s", path) < 0)
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int lc_write_file_atomic(const char *path, const void *data, size_t len, bool durable)
{
    char tmp[PATH_MAX];
    if (lc_fmt(tmp, sizeof tmp, "%s.tmp", path) < 0)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, data, len);
    if (rc == 0 && durable && fdatasync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int lc_read_file(const char *path, size_t max, char **out, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    char *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        rc = -EFBIG;
        goto out;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = malloc(size + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = 0;
    *out = buf;
    buf = NULL;
    if (out_len)
        *out_len = got;
out:
    free(buf);
    close(fd);
    return rc;
}

int lc_fmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    return 0;
}

int lc_vec_push(void **items, size_t *n, size_t *cap, const void *item, size_t size)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        void *p = c <= SIZE_MAX / size ? realloc(*items, c * size) : NULL;
        if (!p)
            return -ENOMEM;
        *items = p;
        *cap = c;
    }
    memcpy((char *)*items + *n * size, item, size);
    (*n)++;
    return 0;
}
