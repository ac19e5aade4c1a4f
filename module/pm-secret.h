/*
 * pm-secret.h - encrypt mailbox secrets at rest with AES-256-GCM.
 *
 * Exports: PmSecretKey, pm_secret_key_load(), pm_secret_key_destroy(),
 * pm_secret_encrypt(), pm_secret_decrypt(), pm_secret_wipe().
 *
 * Sealed form: "v1:" + base64(12-byte random nonce || ciphertext ||
 * 16-byte GCM tag), no line breaks.  The "v1:" prefix is the additional
 * authenticated data too, so a version change cannot be spliced.
 *
 * Limits: the key file is exactly 32 raw bytes, a regular file, not
 * readable or writable by group or others; plaintext <= 64 KB.
 * Logs: nothing (errors come back as text; never key or plaintext).
 */
#ifndef PM_SECRET_H
#define PM_SECRET_H

#include "gwlib/gwlib.h"

typedef struct PmSecretKey PmSecretKey;

/*
 * Load the key from `path`.  Returns a new key owned by the caller, or
 * NULL with *err_r (if not NULL) set to a new Octstr naming the path and
 * the problem (never the content).  Thread-safe.
 */
PmSecretKey *pm_secret_key_load(const Octstr *path, Octstr **err_r);

/* Wipe and free the key; NULL is fine. */
void pm_secret_key_destroy(PmSecretKey *k);

/*
 * Seal `plain` with a fresh random nonce.  Returns a new Octstr owned by
 * the caller, or NULL if OpenSSL fails (error() logged).  Thread-safe; k
 * may be shared between threads.
 */
Octstr *pm_secret_encrypt(const PmSecretKey *k, const Octstr *plain);

/*
 * Open a sealed value.  Returns a new Octstr owned by the caller (wipe it
 * with pm_secret_wipe()), or NULL with *err_r (if not NULL) set when the
 * value is malformed, was tampered with or sealed under another key.
 * Thread-safe.
 */
Octstr *pm_secret_decrypt(const PmSecretKey *k, const Octstr *sealed,
                          Octstr **err_r);

/* Zero the bytes of `s`, then destroy it; NULL is fine. */
void pm_secret_wipe(Octstr *s);

#endif
