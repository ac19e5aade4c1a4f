/*
 * store-queue.c - the store's persistent MT and MO queues and the notice
 * rate limits.
 *
 * Exports: store_mt_*, store_mo_*, store_notice_allow() (see store.h).
 *
 * MT and MO text and UDH are stored hex-encoded (binary-safe in both
 * dialects: Kannel's sqlite3 driver cuts column values at a NUL byte).
 * Queue order is the insertion order (a {SERIAL} column).
 *
 * Limits: ids of MTs are [0-9a-f]{32}; MO ids 1..64 printable bytes;
 * numbers and senders 64 bytes; text 16000 bytes; UDH 512 bytes;
 * store_mt_due()/store_mo_pending() return at most 10000 rows per call.
 * Logs: error() for every failed operation; never message text.
 */
#include <string.h>
#include <time.h>

#include "store-private.h"

#define STORE_BATCH_MAX 10000

#define MT_COLS "id, msisdn, sender, body, udh, coding, kind, created, " \
                "attempts, next_try, state, dlr_status, dlr_time"

/* 1..max printable non-space bytes. */
static int token_ok(const Octstr *s, long max)
{
    long i;

    if (s == NULL || octstr_len(s) == 0 || octstr_len(s) > max)
        return 0;
    for (i = 0; i < octstr_len(s); i++)
        if (octstr_get_char(s, i) <= 0x20 || octstr_get_char(s, i) >= 0x7f)
            return 0;
    return 1;
}

/* --- MT queue ---------------------------------------------------------- */

int store_mt_add(Store *s, const StoreMt *mt, const Octstr *mark_msisdn,
                 long mark_from, long mark_to)
{
    const char *op = "mt add";
    DBPoolConn *c;
    Octstr *body, *udh;
    long now = (long) time(NULL);
    long next_try;
    int ok = 0;

    if (s == NULL || mt == NULL)
        return -1;
    if (!store_id_ok(mt->id) || !token_ok(mt->msisdn, STORE_PEER_MAX) ||
        !store_len_ok(mt->sender, STORE_PEER_MAX) ||
        !store_len_ok(mt->text, STORE_BODY_MAX) ||
        !store_len_ok(mt->udh, STORE_UDH_MAX) ||
        mt->coding < 0 || mt->coding > 2 || mt->kind < 0 || mt->kind > 2 ||
        (mark_msisdn != NULL && !token_ok(mark_msisdn, STORE_MSISDN_MAX))) {
        error(0, "store: %s: bad id, number, sender, text, UDH, coding or "
              "kind", op);
        return -1;
    }
    next_try = mt->next_try > now ? mt->next_try : now;
    body = store_hex(mt->text);
    udh = store_hex(mt->udh);

    c = store_tx_begin(s, op);
    if (c == NULL)
        goto out;
    if (mark_msisdn != NULL) {
        /* lock order: the binding row first (see store.c) */
        List *rows = store_rows(s, c, op, store_sqlf(s, "SELECT msisdn "
                                "FROM pm_binding WHERE msisdn = ?{LOCK}"),
                                store_binds(1, mark_msisdn));
        if (rows == NULL)
            goto end;
        store_rows_destroy(rows);
    }
    if (store_run(s, c, op, store_sqlf(s, "INSERT INTO pm_mt (id, msisdn, "
                  "sender, body, udh, coding, kind, created, attempts, "
                  "next_try, state, dlr_status, dlr_time) VALUES (?, ?, ?, "
                  "?, ?, %d, %d, %ld, 0, %ld, %d, 0, 0)", mt->coding,
                  mt->kind, now, next_try, STORE_MT_QUEUED),
                  store_binds(5, mt->id, mt->msisdn, mt->sender, body,
                              udh)) != 1)
        goto end;
    if (mark_msisdn != NULL &&
        store_run(s, c, op, store_sqlf(s, "UPDATE pm_mail SET prompt_state "
                  "= %d WHERE msisdn = ? AND n >= %ld AND n <= %ld AND "
                  "prompt_state = %d", STORE_PROMPT_SENT, mark_from,
                  mark_to, STORE_PROMPT_PENDING),
                  store_binds(1, mark_msisdn)) < 0)
        goto end;
    ok = 1;
end:
    if (store_tx_end(s, c, ok, op) < 0)
        ok = 0;
out:
    if (!ok)
        error(0, "store: %s for %s failed", op,
              octstr_get_cstr(mt->msisdn));
    octstr_destroy(body);
    octstr_destroy(udh);
    return ok ? 0 : -1;
}

static StoreMt *mt_from_row(List *row)
{
    StoreMt *mt = gw_malloc(sizeof(*mt));
    long coding, kind, state, dlr;

    memset(mt, 0, sizeof(*mt));
    mt->id = store_col_str(row, 0);
    mt->msisdn = store_col_str(row, 1);
    mt->sender = store_col_str(row, 2);
    if (mt->id == NULL || mt->msisdn == NULL ||
        store_col_hex(row, 3, &mt->text) < 0 ||
        store_col_hex(row, 4, &mt->udh) < 0 ||
        store_col_long(row, 5, &coding) < 0 ||
        store_col_long(row, 6, &kind) < 0 ||
        store_col_long(row, 7, &mt->created) < 0 ||
        store_col_long(row, 8, &mt->attempts) < 0 ||
        store_col_long(row, 9, &mt->next_try) < 0 ||
        store_col_long(row, 10, &state) < 0 ||
        store_col_long(row, 11, &dlr) < 0 ||
        store_col_long(row, 12, &mt->dlr_time) < 0 ||
        coding < 0 || coding > 2 || kind < 0 || kind > 2 || state < 0 ||
        state > 3 || dlr < 0 || dlr > 255) {
        error(0, "store: malformed row in table pm_mt");
        store_mt_destroy(mt);
        return NULL;
    }
    if (mt->text == NULL)
        mt->text = octstr_create("");
    mt->coding = (int) coding;
    mt->kind = (int) kind;
    mt->state = (int) state;
    mt->dlr_status = (int) dlr;
    return mt;
}

static void *mt_row(List *row)
{
    return mt_from_row(row);
}

static List *mts_from_rows(List *rows)
{
    return store_rows_to(rows, mt_row, store_mt_destroy_item);
}

List *store_mt_due(Store *s, long now, long max)
{
    if (s == NULL)
        return NULL;
    if (max <= 0)
        return gwlist_create();
    if (max > STORE_BATCH_MAX)
        max = STORE_BATCH_MAX;
    return mts_from_rows(store_query(s, "mt due", store_sqlf(s, "SELECT "
                         MT_COLS " FROM pm_mt WHERE state = %d AND "
                         "next_try <= %ld ORDER BY seq LIMIT %ld",
                         STORE_MT_QUEUED, now, max), NULL));
}

int store_mt_requeue_sent(Store *s)
{
    if (s == NULL)
        return -1;
    return (int) store_exec(s, "mt requeue", store_sqlf(s, "UPDATE pm_mt "
                            "SET state = %d WHERE state = %d",
                            STORE_MT_QUEUED, STORE_MT_SENT), NULL);
}

int store_mt_set_state(Store *s, const Octstr *id, int state, long next_try)
{
    const char *op = "mt set state";

    if (s == NULL || state < STORE_MT_QUEUED || state > STORE_MT_FAILED) {
        error(0, "store: %s: bad state %d", op, state);
        return -1;
    }
    if (!store_id_ok(id))
        return 0;
    /* a finished MT keeps its record (state, DLR) but not its text: mail
     * text and web view links need not stay in the database */
    return store_update_found(s, op, store_sqlf(s, "UPDATE pm_mt SET "
                              "state = %d, next_try = %ld%s WHERE id = ?",
                              state, next_try, state == STORE_MT_SENT ?
                              ", attempts = attempts + 1" :
                              state == STORE_MT_ACCEPTED ||
                              state == STORE_MT_FAILED ? ", body = ''" : ""),
                              store_binds(1, id), store_sqlf(s, "SELECT "
                              "COUNT(*) FROM pm_mt WHERE id = ?"),
                              store_binds(1, id));
}

int store_mt_set_state_if(Store *s, const Octstr *id, int expect, int state,
                          long next_try)
{
    const char *op = "mt set state if";
    long r;

    if (s == NULL || state < STORE_MT_QUEUED || state > STORE_MT_FAILED ||
        expect < STORE_MT_QUEUED || expect > STORE_MT_FAILED) {
        error(0, "store: %s: bad state %d/%d", op, expect, state);
        return -1;
    }
    if (!store_id_ok(id))
        return 0;
    /* the state condition makes "changed" and "found" the same thing in
     * both dialects, except when nothing would change: count that too */
    r = store_exec(s, op, store_sqlf(s, "UPDATE pm_mt SET state = %d, "
                   "next_try = %ld%s WHERE id = ? AND state = %d", state,
                   next_try, state == STORE_MT_ACCEPTED ||
                   state == STORE_MT_FAILED ? ", body = ''" : "", expect),
                   store_binds(1, id));
    return r < 0 ? -1 : r > 0 ? 1 : 0;
}

int store_mt_dlr(Store *s, const Octstr *id, int dlr_type, long when)
{
    const char *op = "mt dlr";

    if (s == NULL || dlr_type < 0 || dlr_type > 255) {
        error(0, "store: %s: bad DLR type %d", op, dlr_type);
        return -1;
    }
    if (!store_id_ok(id))
        return 0;
    return store_update_found(s, op, store_sqlf(s, "UPDATE pm_mt SET "
                              "dlr_status = %d, dlr_time = %ld WHERE id = ?",
                              dlr_type, when), store_binds(1, id),
                              store_sqlf(s, "SELECT COUNT(*) FROM pm_mt "
                              "WHERE id = ?"), store_binds(1, id));
}

List *store_mt_latest(Store *s, const Octstr *msisdn, long count)
{
    if (s == NULL || msisdn == NULL)
        return NULL;
    if (count <= 0)
        return gwlist_create();
    if (count > STORE_BATCH_MAX)
        count = STORE_BATCH_MAX;
    return mts_from_rows(store_query(s, "mt latest", store_sqlf(s,
                         "SELECT " MT_COLS " FROM pm_mt WHERE msisdn = ? "
                         "ORDER BY created DESC, seq DESC LIMIT %ld",
                         count), store_binds(1, msisdn)));
}

StoreMt *store_mt_get(Store *s, const Octstr *id)
{
    List *l;
    StoreMt *mt;

    if (s == NULL || !store_id_ok(id))
        return NULL;
    l = mts_from_rows(store_query(s, "mt get", store_sqlf(s, "SELECT "
                      MT_COLS " FROM pm_mt WHERE id = ?"),
                      store_binds(1, id)));
    mt = l != NULL ? gwlist_extract_first(l) : NULL;
    gwlist_destroy(l, store_mt_destroy_item);
    return mt;
}

long store_mt_count(Store *s, int state)
{
    long v = -1;

    if (s == NULL ||
        store_query_long(s, "mt count", store_sqlf(s, "SELECT COUNT(*) "
                         "FROM pm_mt WHERE state = %d", state), NULL,
                         &v) != 0)
        return -1;
    return v;
}

long store_mt_count_since(Store *s, const Octstr *msisdn, long since)
{
    long v = -1;

    if (s == NULL || msisdn == NULL ||
        store_query_long(s, "mt count since", store_sqlf(s, "SELECT "
                         "COUNT(*) FROM pm_mt WHERE msisdn = ? AND created "
                         ">= %ld", since), store_binds(1, msisdn), &v) != 0)
        return -1;
    return v;
}

long store_mt_purge(Store *s, long before)
{
    if (s == NULL)
        return -1;
    return store_exec(s, "mt purge", store_sqlf(s, "DELETE FROM pm_mt "
                      "WHERE state IN (%d, %d) AND created < %ld",
                      STORE_MT_ACCEPTED, STORE_MT_FAILED, before), NULL);
}

void store_mt_destroy(StoreMt *mt)
{
    if (mt == NULL)
        return;
    octstr_destroy(mt->id);
    octstr_destroy(mt->msisdn);
    octstr_destroy(mt->sender);
    octstr_destroy(mt->text);
    octstr_destroy(mt->udh);
    gw_free(mt);
}

void store_mt_destroy_item(void *mt)
{
    store_mt_destroy(mt);
}

/* --- MO queue ---------------------------------------------------------- */

int store_mo_add(Store *s, const StoreMo *mo)
{
    const char *op = "mo add";
    Octstr *body;
    long r, when;

    if (s == NULL || mo == NULL)
        return -1;
    if (!token_ok(mo->id, STORE_PEER_MAX) ||
        !token_ok(mo->msisdn, STORE_PEER_MAX) ||
        !store_len_ok(mo->receiver, STORE_PEER_MAX) ||
        !store_len_ok(mo->text, STORE_BODY_MAX)) {
        error(0, "store: %s: bad id, sender, receiver or text length", op);
        return -1;
    }
    when = mo->received > 0 ? mo->received : (long) time(NULL);
    body = store_hex(mo->text);
    r = store_exec(s, op, store_sqlf(s, "INSERT {IGNORE} INTO pm_mo (id, "
                   "msisdn, receiver, body, received) VALUES (?, ?, ?, ?, "
                   "%ld)", when), store_binds(4, mo->id, mo->msisdn,
                                              mo->receiver, body));
    octstr_destroy(body);
    if (r < 0) {
        error(0, "store: %s from %s failed", op,
              octstr_get_cstr(mo->msisdn));
        return -1;
    }
    return r > 0 ? 1 : 0;
}

List *store_mo_pending(Store *s, long max)
{
    List *rows, *res;
    long i;

    if (s == NULL)
        return NULL;
    if (max <= 0)
        return gwlist_create();
    if (max > STORE_BATCH_MAX)
        max = STORE_BATCH_MAX;
    rows = store_query(s, "mo pending", store_sqlf(s, "SELECT id, msisdn, "
                       "receiver, body, received FROM pm_mo WHERE done = 0 "
                       "ORDER BY seq "
                       "LIMIT %ld", max), NULL);
    if (rows == NULL)
        return NULL;
    res = gwlist_create();
    for (i = 0; i < gwlist_len(rows); i++) {
        List *row = gwlist_get(rows, i);
        StoreMo *mo = gw_malloc(sizeof(*mo));

        memset(mo, 0, sizeof(*mo));
        mo->id = store_col_str(row, 0);
        mo->msisdn = store_col_str(row, 1);
        mo->receiver = store_col_str(row, 2);
        if (mo->id == NULL || mo->msisdn == NULL ||
            store_col_hex(row, 3, &mo->text) < 0 ||
            store_col_long(row, 4, &mo->received) < 0) {
            error(0, "store: malformed row in table pm_mo");
            store_mo_destroy(mo);
            gwlist_destroy(res, store_mo_destroy_item);
            res = NULL;
            break;
        }
        if (mo->text == NULL)
            mo->text = octstr_create("");
        gwlist_append(res, mo);
    }
    store_rows_destroy(rows);
    return res;
}

int store_mo_done(Store *s, const Octstr *id)
{
    if (s == NULL)
        return -1;
    if (!token_ok(id, STORE_PEER_MAX))
        return 0;
    /* kept (done) for a while: a copy bearerbox sends again after a lost
     * ack is recognised by its id and not answered twice */
    return (int) store_exec(s, "mo done", store_sqlf(s, "UPDATE pm_mo SET "
                            "done = 1 WHERE id = ? AND done = 0"),
                            store_binds(1, id));
}

long store_mo_purge(Store *s, long before)
{
    if (s == NULL)
        return -1;
    return store_exec(s, "mo purge", store_sqlf(s, "DELETE FROM pm_mo "
                      "WHERE done = 1 AND received < %ld", before), NULL);
}

void store_mo_destroy(StoreMo *mo)
{
    if (mo == NULL)
        return;
    octstr_destroy(mo->id);
    octstr_destroy(mo->msisdn);
    octstr_destroy(mo->receiver);
    octstr_destroy(mo->text);
    gw_free(mo);
}

void store_mo_destroy_item(void *mo)
{
    store_mo_destroy(mo);
}

/* --- notice rate limits ------------------------------------------------ */

int store_notice_allow(Store *s, const Octstr *msisdn, const char *kind,
                       long interval, long now)
{
    const char *op = "notice allow";
    Octstr *k;
    long r;

    if (s == NULL || kind == NULL || !token_ok(msisdn, STORE_PEER_MAX) ||
        strlen(kind) == 0 || strlen(kind) > STORE_KIND_MAX) {
        error(0, "store: %s: bad number or kind", op);
        return -1;
    }
    k = octstr_create(kind);
    /* the first notice creates the row; one concurrent caller wins */
    r = store_exec(s, op, store_sqlf(s, "INSERT {IGNORE} INTO pm_notice "
                   "(msisdn, kind, last_at) VALUES (?, ?, %ld)", now),
                   store_binds(2, msisdn, k));
    if (r == 0) {
        /* later ones win only if the last one is old enough (or in the
         * future: the clock went back) */
        r = store_exec(s, op, store_sqlf(s, "UPDATE pm_notice SET last_at "
                       "= %ld WHERE msisdn = ? AND kind = ? AND (last_at <= "
                       "%ld OR last_at > %ld)", now, now - interval, now),
                       store_binds(2, msisdn, k));
        if (r == 0 && interval <= 0)
            r = 1;      /* MySQL reports an unchanged row as 0 */
    }
    octstr_destroy(k);
    if (r < 0)
        return -1;
    return r > 0 ? 1 : 0;
}
