/*
 * pm-secret.c - AES-256-GCM sealing of mailbox secrets (OpenSSL EVP).
 *
 * Exports: pm_secret_key_load(), pm_secret_key_destroy(),
 * pm_secret_encrypt(), pm_secret_decrypt(), pm_secret_wipe().
 *
 * Sealed form: "v1:" base64(nonce[12] || ciphertext || tag[16]); the
 * prefix "v1:" is bound as additional authenticated data.  Every
 * temporary buffer that held key or plaintext is cleansed before free.
 *
 * Limits: key file exactly 32 bytes, mode without group/other bits;
 * plaintext at most 64 KB; sealed text at most about 88 KB.
 * Logs: error() only when OpenSSL itself fails while sealing; never key,
 * plaintext or sealed text.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pm-secret.h"

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define PLAIN_MAX 65536
#define PREFIX "v1:"
#define PREFIX_LEN 3

struct PmSecretKey {
    unsigned char key[KEY_LEN];
};

static void set_err(Octstr **err_r, Octstr *msg)
{
    if (err_r != NULL)
        *err_r = msg;
    else
        octstr_destroy(msg);
}

PmSecretKey *pm_secret_key_load(const Octstr *path, Octstr **err_r)
{
    PmSecretKey *k;
    struct stat st;
    unsigned char extra;
    ssize_t n;
    long got = 0;
    int fd;
    const char *p;

    if (err_r != NULL)
        *err_r = NULL;
    if (path == NULL || octstr_len(path) == 0) {
        set_err(err_r, octstr_create("no secret key file is configured"));
        return NULL;
    }
    p = octstr_get_cstr(path);
    fd = open(p, O_RDONLY | O_NOCTTY);
    if (fd < 0) {
        set_err(err_r, octstr_format("secret key file \"%s\": cannot open: "
                                     "%s", p, strerror(errno)));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        set_err(err_r, octstr_format("secret key file \"%s\": cannot stat: "
                                     "%s", p, strerror(errno)));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err_r, octstr_format("secret key file \"%s\" is not a "
                                     "regular file", p));
        close(fd);
        return NULL;
    }
    if (st.st_mode & 077) {
        set_err(err_r, octstr_format("secret key file \"%s\" is readable or "
                "writable by group or others (mode %04o); run chmod 600 "
                "on it", p, (unsigned) (st.st_mode & 07777)));
        close(fd);
        return NULL;
    }
    if (st.st_size != KEY_LEN) {
        set_err(err_r, octstr_format("secret key file \"%s\" holds %ld "
                "bytes; it must hold exactly %d random bytes (for example "
                "from head -c 32 /dev/urandom)", p, (long) st.st_size,
                KEY_LEN));
        close(fd);
        return NULL;
    }

    k = gw_malloc(sizeof(*k));
    while (got < KEY_LEN) {
        n = read(fd, k->key + got, KEY_LEN - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += n;
    }
    if (got != KEY_LEN || read(fd, &extra, 1) != 0) {
        set_err(err_r, octstr_format("secret key file \"%s\": could not "
                "read exactly %d bytes (file changed or read error)", p,
                KEY_LEN));
        close(fd);
        pm_secret_key_destroy(k);
        return NULL;
    }
    close(fd);
    return k;
}

void pm_secret_key_destroy(PmSecretKey *k)
{
    if (k == NULL)
        return;
    OPENSSL_cleanse(k, sizeof(*k));
    gw_free(k);
}

Octstr *pm_secret_encrypt(const PmSecretKey *k, const Octstr *plain)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *buf = NULL, *b64 = NULL;
    long plen, blen = 0, b64len;
    int outl = 0, finl = 0;
    Octstr *res = NULL;

    if (k == NULL || plain == NULL)
        return NULL;
    plen = octstr_len(plain);
    if (plen > PLAIN_MAX) {
        error(0, "pm-secret: cannot seal a secret of %ld bytes (at most "
              "%d)", plen, PLAIN_MAX);
        return NULL;
    }
    blen = NONCE_LEN + plen + TAG_LEN;
    buf = gw_malloc(blen);
    if (RAND_bytes(buf, NONCE_LEN) != 1) {
        error(0, "pm-secret: RAND_bytes failed; cannot seal a secret");
        goto out;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN,
                            NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, k->key, buf) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &outl,
                          (const unsigned char *) PREFIX, PREFIX_LEN) != 1 ||
        EVP_EncryptUpdate(ctx, buf + NONCE_LEN, &outl,
                          (const unsigned char *) octstr_get_cstr(plain),
                          (int) plen) != 1 ||
        EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + outl, &finl) != 1 ||
        outl + finl != plen ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
                            buf + NONCE_LEN + plen) != 1) {
        error(0, "pm-secret: AES-256-GCM encryption failed in OpenSSL");
        goto out;
    }
    b64len = 4 * ((blen + 2) / 3);
    b64 = gw_malloc(b64len + 1);
    if (EVP_EncodeBlock(b64, buf, (int) blen) != b64len) {
        error(0, "pm-secret: base64 encoding failed in OpenSSL");
        goto out;
    }
    res = octstr_create(PREFIX);
    octstr_append_data(res, (char *) b64, b64len);

out:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(buf, blen);
    gw_free(buf);
    gw_free(b64);
    return res;
}

static int b64_char_ok(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Strictly decode standard base64 with padding; -1 on any flaw. */
static long b64_decode(const Octstr *s, long from, unsigned char **out_r)
{
    long len = octstr_len(s) - from, i, pad = 0, n;
    const unsigned char *src =
        (const unsigned char *) octstr_get_cstr(s) + from;
    unsigned char *out;

    *out_r = NULL;
    if (len <= 0 || len % 4 != 0)
        return -1;
    if (src[len - 1] == '=')
        pad++;
    if (src[len - 2] == '=')
        pad++;
    for (i = 0; i < len - pad; i++)
        if (!b64_char_ok(src[i]))
            return -1;
    out = gw_malloc(len / 4 * 3 + 1);
    n = EVP_DecodeBlock(out, src, (int) len);
    if (n < 0 || n != len / 4 * 3) {
        gw_free(out);
        return -1;
    }
    *out_r = out;
    return n - pad;
}

Octstr *pm_secret_decrypt(const PmSecretKey *k, const Octstr *sealed,
                          Octstr **err_r)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *buf = NULL, *plain = NULL;
    long blen, clen = 0;
    int outl = 0, finl = 0;
    Octstr *res = NULL;

    if (err_r != NULL)
        *err_r = NULL;
    if (k == NULL || sealed == NULL ||
        octstr_len(sealed) > 4 * (PLAIN_MAX + NONCE_LEN + TAG_LEN) / 3 + 8 ||
        octstr_ncompare(sealed, octstr_imm(PREFIX), PREFIX_LEN) != 0) {
        set_err(err_r, octstr_create("the stored secret is not in the v1 "
                                     "sealed format"));
        return NULL;
    }
    blen = b64_decode(sealed, PREFIX_LEN, &buf);
    if (blen < NONCE_LEN + TAG_LEN) {
        set_err(err_r, octstr_create("the stored secret is malformed"));
        gw_free(buf);
        return NULL;
    }
    clen = blen - NONCE_LEN - TAG_LEN;
    plain = gw_malloc(clen + 1);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL ||
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN,
                            NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, buf) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &outl,
                          (const unsigned char *) PREFIX, PREFIX_LEN) != 1 ||
        EVP_DecryptUpdate(ctx, plain, &outl, buf + NONCE_LEN,
                          (int) clen) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                            buf + NONCE_LEN + clen) != 1 ||
        EVP_DecryptFinal_ex(ctx, plain + outl, &finl) != 1 ||
        outl + finl != clen) {
        set_err(err_r, octstr_create("the stored secret failed "
                "authentication (tampered with, or sealed under another "
                "key)"));
        goto out;
    }
    res = octstr_create_from_data((char *) plain, clen);

out:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(plain, clen + 1);
    gw_free(plain);
    OPENSSL_cleanse(buf, blen);
    gw_free(buf);
    return res;
}

void pm_secret_wipe(Octstr *s)
{
    if (s == NULL)
        return;
    if (octstr_len(s) > 0)
        OPENSSL_cleanse(octstr_get_cstr(s), octstr_len(s));
    octstr_destroy(s);
}
