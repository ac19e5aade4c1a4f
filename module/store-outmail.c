/*
 * store-outmail.c - the persistent queue of mail that phones send, on
 * table pm_outmail (schema v2, store-schema.c).
 *
 * Exports: store_outmail_*() (see store-outmail.h).
 *
 * The message is stored hex-encoded (binary-safe in both dialects, like
 * pm_mt's bodies).  Queue order is the insertion order (seq).  A row is
 * added in a transaction that first locks the sender's binding row (the
 * store's lock order), so two copies of one DeliverReq arriving at the
 * same time serialise on it and the second sees the first's ref.
 *
 * Limits: see store-outmail.h.  Logs: error() for every failed
 * operation, naming it and the number; never content or addresses.
 */
#include <string.h>
#include <time.h>

#include "store-private.h"
#include "store-outmail.h"

#define OUTMAIL_DUE_MAX 1000
#define OUTMAIL_TEXT_MAX 1000

#define OUTMAIL_COLS "id, msisdn, origin, ref, rcpts, message, summary, " \
                     "created, attempts, next_try, state, copy_state, " \
                     "last_error"

/* NULL, or 0..max bytes of printable ASCII without spaces. */
static int ref_ok(const Octstr *ref)
{
    long i;

    if (ref == NULL)
        return 1;
    if (octstr_len(ref) > STORE_OUTMAIL_REF_MAX)
        return 0;
    for (i = 0; i < octstr_len(ref); i++)
        if (octstr_get_char(ref, i) <= 0x20 ||
            octstr_get_char(ref, i) >= 0x7f)
            return 0;
    return 1;
}

/* Envelope recipients: printable ASCII (no spaces), bounded. */
static int rcpts_ok(const Octstr *r)
{
    long i;

    if (r == NULL)
        return 1;
    if (octstr_len(r) > STORE_OUTMAIL_RCPTS_MAX)
        return 0;
    for (i = 0; i < octstr_len(r); i++)
        if (octstr_get_char(r, i) <= 0x20 || octstr_get_char(r, i) >= 0x7f)
            return 0;
    return 1;
}

static int states_ok(int state, int copy_state)
{
    return state >= STORE_OUTMAIL_QUEUED && state <= STORE_OUTMAIL_FAILED &&
           copy_state >= STORE_COPY_NONE && copy_state <= STORE_COPY_FAILED;
}

int store_outmail_add(Store *s, const StoreOutmail *m)
{
    const char *op = "outmail add";
    DBPoolConn *c;
    Octstr *hex = NULL, *summary = NULL, *lerr = NULL;
    long now = (long) time(NULL), created, next_try, dup = 0;
    int r = -1, ok = 0, found;

    if (s == NULL || m == NULL)
        return -1;
    if (!store_id_ok(m->id) || store_bad_msisdn(m->msisdn, op) ||
        !ref_ok(m->ref) || !rcpts_ok(m->rcpts) || m->message == NULL ||
        octstr_len(m->message) > STORE_OUTMAIL_MAX ||
        m->origin < STORE_OUTMAIL_SMS_SEND || m->origin > STORE_OUTMAIL_MMS ||
        !states_ok(STORE_OUTMAIL_QUEUED, m->copy_state)) {
        error(0, "store: %s: bad id, number, ref, recipients, message or "
              "origin", op);
        return -1;
    }
    created = m->created > 0 ? m->created : now;
    next_try = m->next_try > 0 ? m->next_try : created;
    hex = store_hex(m->message);
    summary = store_clean_text(m->summary, OUTMAIL_TEXT_MAX);
    lerr = store_clean_text(m->last_error, OUTMAIL_TEXT_MAX);

    c = store_tx_begin(s, op);
    if (c == NULL)
        goto out;
    found = store_lock_binding(s, c, m->msisdn, op, NULL, NULL);
    if (found <= 0) {
        if (found == 0)
            error(0, "store: %s: %s is not bound", op,
                  octstr_get_cstr(m->msisdn));
        goto end;
    }
    if (m->ref != NULL && octstr_len(m->ref) > 0) {
        List *rows = store_rows(s, c, op, store_sqlf(s, "SELECT COUNT(*) "
                                "FROM pm_outmail WHERE ref = ?"),
                                store_binds(1, m->ref));

        if (rows == NULL)
            goto end;
        if (gwlist_len(rows) != 1 ||
            store_col_long(gwlist_get(rows, 0), 0, &dup) < 0) {
            store_rows_destroy(rows);
            goto end;
        }
        store_rows_destroy(rows);
        if (dup > 0) {
            ok = 1;
            r = 0;
            goto end;
        }
    }
    if (store_run(s, c, op, store_sqlf(s, "INSERT INTO pm_outmail (id, "
                  "msisdn, origin, ref, rcpts, message, summary, created, "
                  "attempts, next_try, state, copy_state, last_error) "
                  "VALUES (?, ?, %d, ?, ?, ?, ?, %ld, 0, %ld, %d, %d, ?)",
                  m->origin, created, next_try, STORE_OUTMAIL_QUEUED,
                  m->copy_state),
                  store_binds(7, m->id, m->msisdn, m->ref, m->rcpts, hex,
                              summary, lerr)) != 1)
        goto end;
    ok = 1;
    r = 1;
end:
    if (store_tx_end(s, c, ok, op) < 0)
        ok = 0;
out:
    if (!ok) {
        error(0, "store: %s for %s failed", op, octstr_get_cstr(m->msisdn));
        r = -1;
    }
    octstr_destroy(hex);
    octstr_destroy(summary);
    octstr_destroy(lerr);
    return r;
}

static StoreOutmail *outmail_from_row(List *row)
{
    StoreOutmail *m = gw_malloc(sizeof(*m));
    long origin, state, copy;

    memset(m, 0, sizeof(*m));
    m->id = store_col_str(row, 0);
    m->msisdn = store_col_str(row, 1);
    m->ref = store_col_str(row, 3);
    m->rcpts = store_col_str(row, 4);
    m->summary = store_col_str(row, 6);
    m->last_error = store_col_str(row, 12);
    if (!store_id_ok(m->id) || !store_msisdn_ok(m->msisdn) ||
        store_col_long(row, 2, &origin) < 0 ||
        store_col_hex(row, 5, &m->message) < 0 ||
        store_col_long(row, 7, &m->created) < 0 ||
        store_col_long(row, 8, &m->attempts) < 0 ||
        store_col_long(row, 9, &m->next_try) < 0 ||
        store_col_long(row, 10, &state) < 0 ||
        store_col_long(row, 11, &copy) < 0 ||
        origin < STORE_OUTMAIL_SMS_SEND || origin > STORE_OUTMAIL_MMS ||
        !states_ok((int) state, (int) copy) || !rcpts_ok(m->rcpts)) {
        error(0, "store: malformed row in table pm_outmail");
        store_outmail_destroy(m);
        return NULL;
    }
    if (m->message == NULL)
        m->message = octstr_create("");
    if (m->rcpts == NULL)
        m->rcpts = octstr_create("");
    if (m->ref == NULL)
        m->ref = octstr_create("");
    if (m->summary == NULL)
        m->summary = octstr_create("");
    m->origin = (int) origin;
    m->state = (int) state;
    m->copy_state = (int) copy;
    return m;
}

static void *outmail_row(List *row)
{
    return outmail_from_row(row);
}

List *store_outmail_due(Store *s, long now, long max)
{
    if (s == NULL)
        return NULL;
    if (max <= 0)
        return gwlist_create();
    if (max > OUTMAIL_DUE_MAX)
        max = OUTMAIL_DUE_MAX;
    return store_rows_to(store_query(s, "outmail due", store_sqlf(s,
                         "SELECT " OUTMAIL_COLS " FROM pm_outmail WHERE "
                         "state IN (%d, %d) AND (state = %d OR copy_state "
                         "= %d) AND next_try <= %ld ORDER BY seq LIMIT %ld",
                         STORE_OUTMAIL_QUEUED, STORE_OUTMAIL_SENT,
                         STORE_OUTMAIL_QUEUED, STORE_COPY_PENDING, now,
                         max), NULL),
                         outmail_row, store_outmail_destroy_item);
}

StoreOutmail *store_outmail_get(Store *s, const Octstr *id)
{
    List *l;
    StoreOutmail *m;

    if (s == NULL || !store_id_ok(id))
        return NULL;
    l = store_rows_to(store_query(s, "outmail get", store_sqlf(s, "SELECT "
                      OUTMAIL_COLS " FROM pm_outmail WHERE id = ?"),
                      store_binds(1, id)), outmail_row,
                      store_outmail_destroy_item);
    m = l != NULL ? gwlist_extract_first(l) : NULL;
    gwlist_destroy(l, store_outmail_destroy_item);
    return m;
}

int store_outmail_set_state(Store *s, const Octstr *id, int state,
                            int copy_state, long attempts, long next_try,
                            const Octstr *last_error)
{
    const char *op = "outmail set state";
    Octstr *lerr;
    int r;

    if (s == NULL || !states_ok(state, copy_state) || attempts < 0) {
        error(0, "store: %s: bad state %d/%d", op, state, copy_state);
        return -1;
    }
    if (!store_id_ok(id))
        return 0;
    lerr = store_clean_text(last_error, OUTMAIL_TEXT_MAX);
    r = store_update_found(s, op, store_sqlf(s, "UPDATE pm_outmail SET "
                           "state = %d, copy_state = %d, attempts = %ld, "
                           "next_try = %ld, last_error = ? WHERE id = ?",
                           state, copy_state, attempts, next_try),
                           store_binds(2, lerr, id), store_sqlf(s, "SELECT "
                           "COUNT(*) FROM pm_outmail WHERE id = ?"),
                           store_binds(1, id));
    octstr_destroy(lerr);
    return r;
}

int store_outmail_set_message(Store *s, const Octstr *id,
                              const Octstr *rcpts, const Octstr *message,
                              const Octstr *summary)
{
    const char *op = "outmail set message";
    Octstr *hex, *sum;
    int r;

    if (s == NULL || message == NULL || !rcpts_ok(rcpts) ||
        octstr_len(message) > STORE_OUTMAIL_MAX) {
        error(0, "store: %s: bad recipients or message", op);
        return -1;
    }
    if (!store_id_ok(id))
        return 0;
    hex = store_hex(message);
    sum = store_clean_text(summary, OUTMAIL_TEXT_MAX);
    r = store_update_found(s, op, store_sqlf(s, "UPDATE pm_outmail SET "
                           "rcpts = ?, message = ?, summary = ? WHERE id = "
                           "?"), store_binds(4, rcpts, hex, sum, id),
                           store_sqlf(s, "SELECT COUNT(*) FROM pm_outmail "
                           "WHERE id = ?"), store_binds(1, id));
    octstr_destroy(hex);
    octstr_destroy(sum);
    return r;
}

long store_outmail_requeue(Store *s)
{
    if (s == NULL)
        return -1;
    return store_exec(s, "outmail requeue", store_sqlf(s, "UPDATE "
                      "pm_outmail SET state = %d WHERE state = %d",
                      STORE_OUTMAIL_QUEUED, STORE_OUTMAIL_SENDING), NULL);
}

long store_outmail_count_since(Store *s, const Octstr *msisdn, long since)
{
    long v = -1;

    if (s == NULL || msisdn == NULL ||
        store_query_long(s, "outmail count since", store_sqlf(s, "SELECT "
                         "COUNT(*) FROM pm_outmail WHERE msisdn = ? AND "
                         "created >= %ld", since), store_binds(1, msisdn),
                         &v) != 0)
        return -1;
    return v;
}

long store_outmail_count(Store *s, int state)
{
    long v = -1;

    if (s == NULL ||
        store_query_long(s, "outmail count", store_sqlf(s, "SELECT "
                         "COUNT(*) FROM pm_outmail WHERE state = %d",
                         state), NULL, &v) != 0)
        return -1;
    return v;
}

long store_outmail_purge(Store *s, long before)
{
    if (s == NULL)
        return -1;
    return store_exec(s, "outmail purge", store_sqlf(s, "DELETE FROM "
                      "pm_outmail WHERE created < %ld AND (state = %d OR "
                      "(state = %d AND copy_state <> %d))", before,
                      STORE_OUTMAIL_FAILED, STORE_OUTMAIL_SENT,
                      STORE_COPY_PENDING), NULL);
}

void store_outmail_destroy(StoreOutmail *m)
{
    if (m == NULL)
        return;
    octstr_destroy(m->id);
    octstr_destroy(m->msisdn);
    octstr_destroy(m->ref);
    octstr_destroy(m->rcpts);
    octstr_destroy(m->message);
    octstr_destroy(m->summary);
    octstr_destroy(m->last_error);
    gw_free(m);
}

void store_outmail_destroy_item(void *m)
{
    store_outmail_destroy(m);
}
