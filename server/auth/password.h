/* Password hashing with scrypt (OpenSSL's EVP_KDF "SCRYPT"), stored as a self-describing string
 * "scrypt$N$r$p$SALT$HASH" (SALT and HASH in unpadded base64url) so that the parameters can be
 * raised later: a hash made with weaker ones still verifies and is replaced at the next login.
 *
 * Cost: one hash or verification at the OWASP parameters (N = 2^17, r = 8, p = 1) takes about
 * 128 MiB of memory and a few hundred milliseconds of one core. Never call these on an HTTP
 * thread: the server runs them on the KDF worker (auth/kdf.h). All functions are thread-safe. */
#ifndef LC_AUTH_PASSWORD_H
#define LC_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t n; /* CPU/memory cost, a power of two > 1 */
    uint32_t r; /* block size */
    uint32_t p; /* parallelism */
} lc_scrypt_params_t;

/* OWASP Password Storage Cheat Sheet: N = 2^17, r = 8, p = 1. */
#define LC_SCRYPT_DEFAULT ((lc_scrypt_params_t){.n = 1u << 17, .r = 8, .p = 1})

#define LC_PASSWORD_MIN 10   /* bytes */
#define LC_PASSWORD_MAX 1024 /* bytes; bounds the work an attacker can ask for */
#define LC_PASSWORD_HASH_MAX 256 /* an encoded hash and its NUL always fit */

/* Raw scrypt (RFC 7914) through EVP_KDF, with maxmem set to what the parameters need. Refuses
 * parameters beyond N = 2^20, r = 32, p = 16 (-EINVAL) so a corrupt stored hash cannot make the
 * server allocate gigabytes. Returns 0 or -EINVAL / -ENOMEM / -EIO. */
int lc_scrypt(const void *password, size_t password_len, const void *salt, size_t salt_len,
              const lc_scrypt_params_t *params, uint8_t *out, size_t out_len);

/* Hashes a password with a fresh 16-byte random salt into `out` (LC_PASSWORD_HASH_MAX bytes). */
int lc_password_hash(const char *password, size_t len, const lc_scrypt_params_t *params,
                     char out[LC_PASSWORD_HASH_MAX]);

/* Checks a password against an encoded hash; the comparison is constant-time (CRYPTO_memcmp).
 * Returns 0 on a match, LC_EDENIED on a mismatch, -EINVAL for a malformed hash, or an error. */
int lc_password_verify(const char *password, size_t len, const char *encoded);

/* True when `encoded` was made with parameters other than `params` (or cannot be read). */
bool lc_password_needs_rehash(const char *encoded, const lc_scrypt_params_t *params);

/* A well-formed hash with the given parameters that no password matches (random salt and
 * digest, no KDF run): verifying against it costs what a real verification costs, which is what
 * a login for an unknown account does so that its answer takes as long as a wrong password's. */
int lc_password_dummy(const lc_scrypt_params_t *params, char out[LC_PASSWORD_HASH_MAX]);

/* The password rules: LC_PASSWORD_MIN to LC_PASSWORD_MAX bytes of well-formed UTF-8 without NUL.
 * Returns NULL when `password` follows them, else the rule it breaks, as text for the user. */
const char *lc_password_rule_broken(const char *password, size_t len);

#endif
