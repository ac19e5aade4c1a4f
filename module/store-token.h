/*
 * store-token.h - web view tokens: unguessable, expiring links from a
 * WAP push (or any prompt) to one mail of one binding.
 *
 * Exports: store_token_new(), store_token_lookup(), store_token_revoke(),
 * store_token_purge(), store_token_valid_form().
 *
 * A token is STORE_TOKEN_LEN characters of base64url (A-Z a-z 0-9 - _)
 * carrying STORE_TOKEN_BYTES * 8 = 192 bits from OpenSSL's RAND_bytes.
 * The store keeps only its SHA-256 (hex) in pm_token, so a copy of the
 * database does not open any mail, and a lookup costs one indexed
 * SELECT whatever the token.  store_binding_delete() and a change of
 * mailbox delete a binding's tokens; STOP revokes them
 * (store_token_revoke()).
 *
 * Threads: any thread (see store.h).
 * Logs: error() for store failures, naming the operation and the
 * number; never a token or its hash.
 */
#ifndef STORE_TOKEN_H
#define STORE_TOKEN_H

#include "store.h"

#define STORE_TOKEN_BYTES 24
#define STORE_TOKEN_LEN 32

/*
 * A new view token for mail n of msisdn, valid for `lifetime` seconds
 * from now.  The binding must exist (checked in the same transaction
 * that stores the token, so a token cannot outlive an unbind running at
 * the same time).  Returns a new Octstr owned by the caller, or NULL on
 * a store error, an unknown binding, n < 1 or lifetime < 1.
 */
Octstr *store_token_new(Store *s, const Octstr *msisdn, long n,
                        long lifetime);

/*
 * Look a token up at time `now`.  1 valid: *msisdn_r = a new Octstr
 * (caller destroys), *n_r = the mail number; 0 unknown, expired or
 * malformed (nothing set); -1 store error.
 */
int store_token_lookup(Store *s, const Octstr *token, long now,
                       Octstr **msisdn_r, long *n_r);

/* Delete every token of msisdn.  Count deleted, or -1. */
long store_token_revoke(Store *s, const Octstr *msisdn);

/* Delete tokens that expired at or before `now`.  Count, or -1. */
long store_token_purge(Store *s, long now);

/* 1 if `token` has the form of a token (length and alphabet), else 0.
 * Cheap; no store access. */
int store_token_valid_form(const Octstr *token);

#endif
