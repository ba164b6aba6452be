/* scrypt password hashes: the KDF call, the stored string format, the password rules. */
#include "auth/password.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "core/error.h"
#include "core/util.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define STORED_MIN 16 /* shortest digest accepted from a stored hash */
#define STORED_MAX 64

static bool params_sane(const lc_scrypt_params_t *p)
{
    return p->n > 1 && p->n <= (1u << 20) && (p->n & (p->n - 1)) == 0 && p->r >= 1 &&
           p->r <= 32 && p->p >= 1 && p->p <= 16;
}

int lc_scrypt(const void *password, size_t password_len, const void *salt, size_t salt_len,
              const lc_scrypt_params_t *params, uint8_t *out, size_t out_len)
{
    if (!params_sane(params))
        return -EINVAL;
    /* What OpenSSL's scrypt allocates: B (p * 128 * r) and V (128 * r * (N + 2)), plus slack. */
    uint64_t n = params->n, maxmem = (uint64_t)params->p * 128u * params->r +
                                     128u * (uint64_t)params->r * (n + 2) + (1u << 20);
    uint32_t r = params->r, p = params->p;
    /* OpenSSL reads the octet strings; a zero-length one still needs a valid pointer. */
    static const char empty[1];
    OSSL_PARAM op[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                          (void *)(password_len ? password : empty), password_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                          (void *)(salt_len ? salt : empty), salt_len),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    int rc = -EIO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (!ctx)
        rc = -ENOMEM;
    else if (EVP_KDF_derive(ctx, out, out_len, op) == 1)
        rc = 0;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

static int encode(const lc_scrypt_params_t *p, const uint8_t *salt, size_t salt_len,
                  const uint8_t *hash, size_t hash_len, char out[LC_PASSWORD_HASH_MAX])
{
    char s64[2 * STORED_MAX], h64[2 * STORED_MAX];
    lc_base64url(salt, salt_len, s64, sizeof s64);
    lc_base64url(hash, hash_len, h64, sizeof h64);
    return lc_fmt(out, LC_PASSWORD_HASH_MAX, "scrypt$%llu$%u$%u$%s$%s", (unsigned long long)p->n,
                  p->r, p->p, s64, h64);
}

typedef struct {
    lc_scrypt_params_t params;
    uint8_t salt[STORED_MAX], hash[STORED_MAX];
    size_t salt_len, hash_len;
} parsed_t;

/* Reads "scrypt$N$r$p$SALT$HASH"; every part must be there and well-formed. */
static int parse(const char *encoded, parsed_t *out)
{
    char buf[LC_PASSWORD_HASH_MAX];
    if (lc_fmt(buf, sizeof buf, "%s", encoded) < 0)
        return -EINVAL;
    char *part[6];
    int n = 0;
    for (char *s = buf; n < 6; n++) {
        part[n] = s;
        char *d = strchr(s, '$');
        if (!d) {
            n++;
            break;
        }
        *d = 0;
        s = d + 1;
        if (n == 5)
            return -EINVAL; /* a sixth '$' */
    }
    int64_t N, r, p;
    if (n != 6 || strcmp(part[0], "scrypt") != 0 ||
        lc_parse_int64(part[1], 2, 1 << 20, &N) < 0 || lc_parse_int64(part[2], 1, 32, &r) < 0 ||
        lc_parse_int64(part[3], 1, 16, &p) < 0 ||
        lc_base64url_decode(part[4], out->salt, sizeof out->salt, &out->salt_len) < 0 ||
        lc_base64url_decode(part[5], out->hash, sizeof out->hash, &out->hash_len) < 0 ||
        out->hash_len < STORED_MIN)
        return -EINVAL;
    out->params = (lc_scrypt_params_t){.n = (uint64_t)N, .r = (uint32_t)r, .p = (uint32_t)p};
    return params_sane(&out->params) ? 0 : -EINVAL;
}

int lc_password_hash(const char *password, size_t len, const lc_scrypt_params_t *params,
                     char out[LC_PASSWORD_HASH_MAX])
{
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    int rc = lc_random_bytes(salt, sizeof salt);
    if (rc == 0)
        rc = lc_scrypt(password, len, salt, sizeof salt, params, hash, sizeof hash);
    if (rc == 0)
        rc = encode(params, salt, sizeof salt, hash, sizeof hash, out);
    OPENSSL_cleanse(hash, sizeof hash);
    return rc;
}

int lc_password_verify(const char *password, size_t len, const char *encoded)
{
    parsed_t p;
    uint8_t got[STORED_MAX];
    int rc = parse(encoded, &p);
    if (rc == 0)
        rc = lc_scrypt(password, len, p.salt, p.salt_len, &p.params, got, p.hash_len);
    if (rc == 0)
        rc = lc_ct_equal(got, p.hash, p.hash_len) ? 0 : LC_EDENIED;
    OPENSSL_cleanse(got, sizeof got);
    return rc;
}

bool lc_password_needs_rehash(const char *encoded, const lc_scrypt_params_t *params)
{
    parsed_t p;
    return parse(encoded, &p) < 0 || p.params.n != params->n || p.params.r != params->r ||
           p.params.p != params->p || p.hash_len != HASH_LEN || p.salt_len != SALT_LEN;
}

int lc_password_dummy(const lc_scrypt_params_t *params, char out[LC_PASSWORD_HASH_MAX])
{
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    int rc = lc_random_bytes(salt, sizeof salt);
    if (rc == 0)
        rc = lc_random_bytes(hash, sizeof hash);
    return rc < 0 ? rc : encode(params, salt, sizeof salt, hash, sizeof hash, out);
}

const char *lc_password_rule_broken(const char *password, size_t len)
{
    if (len < LC_PASSWORD_MIN)
        return "must be at least 10 bytes long";
    if (len > LC_PASSWORD_MAX)
        return "must be at most 1024 bytes long";
    if (memchr(password, 0, len))
        return "must not contain a NUL character";
    if (lc_utf8_invalid_at(password, len) != len)
        return "must be valid UTF-8";
    return NULL;
}
