/*
 * store-token.c - web view tokens in table pm_token (hash, msisdn, n,
 * created, expires).
 *
 * Exports: store_token_* (see store-token.h).
 *
 * Only SHA-256(token) in lower-case hex reaches the database; the token
 * itself lives in the WAP push and in the phone's browser.  A token's
 * row is written in a transaction that holds the binding row (the
 * store's lock order), so it cannot be stored for a binding that an
 * unbind is deleting at the same moment.
 *
 * Limits: tokens are exactly STORE_TOKEN_LEN base64url characters;
 * anything else is "unknown" without a query.  Lifetimes are capped at
 * ten years so expiry times cannot overflow.
 * Logs: error() for store failures (number and operation only).
 */
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "store-private.h"
#include "store-token.h"

#define TOKEN_LIFETIME_MAX (10L * 366 * 86400)

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url of exactly STORE_TOKEN_BYTES bytes (a multiple of 3: no
 * padding). */
static Octstr *token_encode(const unsigned char *b)
{
    Octstr *t = octstr_create("");
    long i;

    for (i = 0; i + 2 < STORE_TOKEN_BYTES; i += 3) {
        unsigned long v = ((unsigned long) b[i] << 16) |
                          ((unsigned long) b[i + 1] << 8) | b[i + 2];

        octstr_append_char(t, b64url[(v >> 18) & 63]);
        octstr_append_char(t, b64url[(v >> 12) & 63]);
        octstr_append_char(t, b64url[(v >> 6) & 63]);
        octstr_append_char(t, b64url[v & 63]);
    }
    return t;
}

int store_token_valid_form(const Octstr *token)
{
    long i;

    if (token == NULL || octstr_len(token) != STORE_TOKEN_LEN)
        return 0;
    for (i = 0; i < STORE_TOKEN_LEN; i++) {
        int c = octstr_get_char(token, i);

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* SHA-256 of the token, 64 lower-case hex digits (a new Octstr). */
static Octstr *token_hash(const Octstr *token)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    Octstr *h;

    SHA256((const unsigned char *) octstr_get_cstr(token),
           octstr_len(token), md);
    h = octstr_create_from_data((char *) md, sizeof(md));
    octstr_binary_to_hex(h, 0);
    return h;
}

Octstr *store_token_new(Store *s, const Octstr *msisdn, long n,
                        long lifetime)
{
    const char *op = "token new";
    unsigned char b[STORE_TOKEN_BYTES];
    Octstr *token, *hash;
    DBPoolConn *c;
    long now = (long) time(NULL);
    int found, ok = 0;

    if (s == NULL || store_bad_msisdn(msisdn, op))
        return NULL;
    if (n < 1 || lifetime < 1) {
        error(0, "store: %s for %s: bad mail number or lifetime", op,
              octstr_get_cstr(msisdn));
        return NULL;
    }
    if (lifetime > TOKEN_LIFETIME_MAX)
        lifetime = TOKEN_LIFETIME_MAX;
    if (RAND_bytes(b, sizeof(b)) != 1) {
        error(0, "store: %s for %s: OpenSSL RAND_bytes failed", op,
              octstr_get_cstr(msisdn));
        return NULL;
    }
    token = token_encode(b);
    memset(b, 0, sizeof(b));
    hash = token_hash(token);

    c = store_tx_begin(s, op);
    if (c == NULL)
        goto out;
    found = store_lock_binding(s, c, msisdn, op, NULL, NULL);
    if (found == 0)
        error(0, "store: %s: no binding for %s", op,
              octstr_get_cstr(msisdn));
    if (found > 0 &&
        store_run(s, c, op, store_sqlf(s, "INSERT INTO pm_token (hash, "
                  "msisdn, n, created, expires) VALUES (?, ?, %ld, %ld, "
                  "%ld)", n, now, now + lifetime),
                  store_binds(2, hash, msisdn)) == 1)
        ok = 1;
    if (store_tx_end(s, c, ok, op) < 0)
        ok = 0;
out:
    octstr_destroy(hash);
    if (!ok) {
        error(0, "store: %s for %s failed", op, octstr_get_cstr(msisdn));
        octstr_destroy(token);
        return NULL;
    }
    return token;
}

int store_token_lookup(Store *s, const Octstr *token, long now,
                       Octstr **msisdn_r, long *n_r)
{
    const char *op = "token lookup";
    Octstr *hash, *msisdn;
    List *rows, *row;
    long n, expires;

    if (s == NULL)
        return -1;
    if (!store_token_valid_form(token))
        return 0;
    hash = token_hash(token);
    rows = store_query(s, op, store_sqlf(s, "SELECT msisdn, n, expires "
                       "FROM pm_token WHERE hash = ?"),
                       store_binds(1, hash));
    octstr_destroy(hash);
    if (rows == NULL)
        return -1;
    if (gwlist_len(rows) == 0) {
        store_rows_destroy(rows);
        return 0;
    }
    row = gwlist_get(rows, 0);
    msisdn = store_col_str(row, 0);
    if (!store_msisdn_ok(msisdn) || store_col_long(row, 1, &n) < 0 ||
        store_col_long(row, 2, &expires) < 0 || n < 1) {
        error(0, "store: malformed row in table pm_token");
        octstr_destroy(msisdn);
        store_rows_destroy(rows);
        return -1;
    }
    store_rows_destroy(rows);
    if (expires <= now) {
        octstr_destroy(msisdn);
        return 0;
    }
    *msisdn_r = msisdn;
    *n_r = n;
    return 1;
}

long store_token_revoke(Store *s, const Octstr *msisdn)
{
    long r;

    if (s == NULL || store_bad_msisdn(msisdn, "token revoke"))
        return -1;
    r = store_exec(s, "token revoke", store_sqlf(s, "DELETE FROM pm_token "
                   "WHERE msisdn = ?"), store_binds(1, msisdn));
    if (r < 0)
        error(0, "store: token revoke for %s failed",
              octstr_get_cstr(msisdn));
    return r;
}

long store_token_purge(Store *s, long now)
{
    if (s == NULL)
        return -1;
    return store_exec(s, "token purge", store_sqlf(s, "DELETE FROM "
                      "pm_token WHERE expires <= %ld", now), NULL);
}
