/* Small helpers used across modules: clocks, randomness, secrets, strict number parsing, paths. */
#ifndef LC_CORE_UTIL_H
#define LC_CORE_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds / microseconds of CLOCK_MONOTONIC (for deadlines) and CLOCK_REALTIME (for
 * timestamps that leave the process: EXT-X-PROGRAM-DATE-TIME, database rows). */
int64_t lc_now_mono_ms(void);
int64_t lc_now_mono_us(void);
int64_t lc_now_real_ms(void);

/* Initializes a condition variable whose timed waits count in CLOCK_MONOTONIC, immune to changes
 * of the wall clock. Returns pthread_cond_init's result. */
int lc_cond_init_monotonic(pthread_cond_t *cond);
/* A CLOCK_MONOTONIC instant in ms (lc_now_mono_ms() + a delay) as the absolute time
 * pthread_cond_timedwait takes for such a condition variable. */
struct timespec lc_mono_timespec(int64_t mono_ms);

/* Formats a realtime ms timestamp as ISO 8601 UTC with milliseconds,
 * "2026-11-27T08:00:00.123Z". `out` must hold 25 bytes; returns out. */
char *lc_iso8601(int64_t real_ms, char out[static 25]);

/* Parses an ISO 8601 date and time with its offset to UTC ms: "YYYY-MM-DDTHH:MM[:SS[.fff]]"
 * followed by "Z" or "+HH:MM" / "-HH:MM" (the offset is required: a time without one has no
 * defined instant). Up to 9 fraction digits, cut to milliseconds. Years 1970 to 9999, real
 * calendar days (leap years), no leap second; the instant must not be before 1970. Returns 0 and
 * *ms, or -EINVAL. */
int lc_parse_iso8601(const char *s, int64_t *ms);

/* Cryptographically strong random bytes (OpenSSL RAND_bytes). Returns 0 or -EIO. */
int lc_random_bytes(void *out, size_t len);
/* `size - 1` random lowercase hex digits (size odd, at most 129) and a NUL: names that must not
 * be guessed but appear in URLs where only [0-9a-f] is safe everywhere. 0, -EINVAL or -EIO. */
int lc_random_hex(char *out, size_t size);

/* Unpadded base64url of `len` bytes into `out` (size >= 4*ceil(len/3)+1). Returns length. */
size_t lc_base64url(const void *in, size_t len, char *out, size_t out_size);

/* Decodes unpadded base64url (the alphabet of lc_base64url, no '=', no whitespace) into `out`.
 * Refuses any other byte, a length of 4k+1 and non-zero unused bits, so one byte string has one
 * encoding. Returns 0 and *out_len, -EINVAL for bad input, -ENOSPC when out is too small. */
int lc_base64url_decode(const char *in, uint8_t *out, size_t out_size, size_t *out_len);

/* A new secret for a URL, cookie or stream key: `nbytes` (at most 64) random bytes as unpadded
 * base64url into `out` (size >= ceil(4*nbytes/3)+1, -EINVAL otherwise), and the SHA-256 of that
 * text, which is what gets stored. */
int lc_secret_new(size_t nbytes, char *out, size_t out_size, uint8_t hash[32]);

/* The offset of the first byte of `s` that is not part of well-formed UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF), or `len` when all of it is. */
size_t lc_utf8_invalid_at(const void *s, size_t len);

/* The number of characters (code points) in well-formed UTF-8 text: bytes that do not continue
 * a sequence. */
size_t lc_utf8_chars(const char *s, size_t len);

/* SHA-256 of `len` bytes. */
void lc_sha256(const void *in, size_t len, uint8_t out[32]);

/* Constant-time equality of two equal-length byte strings (CRYPTO_memcmp). */
bool lc_ct_equal(const void *a, const void *b, size_t len);

/* Parses a whole string as a base-10 integer within [min, max]; no sign for min >= 0, no
 * whitespace, no trailing bytes. Returns 0 or -EINVAL / -ERANGE. */
int lc_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parses a whole string as a finite double within [min, max]. */
int lc_parse_double(const char *s, double min, double max, double *out);

/* Creates a directory and its parents (mode 0750). Existing directories are fine. */
int lc_mkdir_p(const char *path);

/* Writes `len` bytes to a new file at `path` atomically: a temporary file in the same directory,
 * fsync if `durable`, rename over `path`. Returns 0 or -errno. */
int lc_write_file_atomic(const char *path, const void *data, size_t len, bool durable);

/* Reads a whole regular file of at most `max` bytes into a malloc'ed, NUL-terminated buffer. */
int lc_read_file(const char *path, size_t max, char **out, size_t *out_len);

/* Appends the `size`-byte `item` to a growable array (*items, *n used, *cap allocated; start
 * from NULL, 0, 0), doubling its room when full. Returns 0 or -ENOMEM (the array is kept). */
int lc_vec_push(void **items, size_t *n, size_t *cap, const void *item, size_t size);

/* snprintf that treats truncation as an error: returns 0, or -ENAMETOOLONG when it did not fit. */
int lc_fmt(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
