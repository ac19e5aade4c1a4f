/*
 * store-mms.c - the MM outbound queue and delivery reports (table pm_mms).
 *
 * Exports: store_mms_*() (see store-mms.h).
 *
 * Bodies are hex in a {BIG} column, like pm_mt's texts (binary-safe in
 * both dialects).  Limits and logs: see store-mms.h; never logs content.
 */
#include <string.h>
#include <time.h>

#include "store-private.h"
#include "store-mms.h"

#define MMS_COLS "id, msisdn, n, mmsc, ctype, %s, subject, created, " \
                 "attempts, next_try, state, message_id, status_code, " \
                 "status_text, report, report_time"
#define MMS_LIST_MAX 1000
#define MMS_MSGID_MAX 255
#define MMS_REPORT_MAX 32

int store_mms_add(Store *s, const StoreMms *m)
{
    const char *op = "mms add";
    Octstr *body, *subject;
    long now = (long) time(NULL);
    long r;

    if (s == NULL || m == NULL)
        return -1;
    if (!store_id_ok(m->id) || !store_msisdn_ok(m->msisdn) ||
        m->mmsc == NULL || !store_len_ok(m->mmsc, STORE_PEER_MAX) ||
        m->content_type == NULL ||
        !store_len_ok(m->content_type, STORE_ERROR_MAX) ||
        m->body == NULL || !store_len_ok(m->body, STORE_MMS_BODY_MAX) ||
        m->n < 0) {
        error(0, "store: %s: bad id, number, MMSC, content type or size",
              op);
        return -1;
    }
    body = store_hex(m->body);
    subject = store_clean_text(m->subject, STORE_SUBJECT_MAX);
    r = store_exec(s, op, store_sqlf(s, "INSERT INTO pm_mms (id, msisdn, "
                   "n, mmsc, ctype, body, subject, created, attempts, "
                   "next_try, state, message_id, status_code, status_text, "
                   "report, report_time) VALUES (?, ?, %ld, ?, ?, ?, ?, "
                   "%ld, 0, %ld, %d, '', 0, '', '', 0)", m->n, now, now,
                   STORE_MMS_QUEUED),
                   store_binds(6, m->id, m->msisdn, m->mmsc,
                               m->content_type, body, subject));
    octstr_destroy(body);
    octstr_destroy(subject);
    return r == 1 ? 0 : -1;
}

static Octstr *col_or_empty(List *row, long i)
{
    Octstr *v = store_col_str(row, i);

    return v != NULL ? v : octstr_create("");
}

/* with_body 0: column 5 is a placeholder (a literal 0: Kannel's mysql
 * driver cannot fetch a zero-length literal such as ''). */
static StoreMms *mms_parse(List *row, int with_body)
{
    StoreMms *m = gw_malloc(sizeof(*m));
    long state;

    memset(m, 0, sizeof(*m));
    m->id = store_col_str(row, 0);
    m->msisdn = store_col_str(row, 1);
    m->mmsc = store_col_str(row, 3);
    m->content_type = col_or_empty(row, 4);
    m->subject = col_or_empty(row, 6);
    m->message_id = col_or_empty(row, 11);
    m->status_text = col_or_empty(row, 13);
    m->report = col_or_empty(row, 14);
    if (m->id == NULL || m->msisdn == NULL || m->mmsc == NULL ||
        store_col_long(row, 2, &m->n) < 0 ||
        (with_body && store_col_hex(row, 5, &m->body) < 0) ||
        store_col_long(row, 7, &m->created) < 0 ||
        store_col_long(row, 8, &m->attempts) < 0 ||
        store_col_long(row, 9, &m->next_try) < 0 ||
        store_col_long(row, 10, &state) < 0 ||
        store_col_long(row, 12, &m->status_code) < 0 ||
        store_col_long(row, 15, &m->report_time) < 0 ||
        state < STORE_MMS_QUEUED || state > STORE_MMS_FAILED) {
        error(0, "store: malformed row in table pm_mms");
        store_mms_destroy(m);
        return NULL;
    }
    if (m->body == NULL)
        m->body = octstr_create("");
    m->state = (int) state;
    return m;
}

static void *mms_row_body(List *row)
{
    return mms_parse(row, 1);
}

static void *mms_row_nobody(List *row)
{
    return mms_parse(row, 0);
}

static List *mms_rows(List *rows, int with_body)
{
    return store_rows_to(rows, with_body ? mms_row_body : mms_row_nobody,
                         store_mms_destroy_item);
}

List *store_mms_due(Store *s, long now, long max)
{
    if (s == NULL)
        return NULL;
    if (max <= 0)
        return gwlist_create();
    if (max > MMS_LIST_MAX)
        max = MMS_LIST_MAX;
    return mms_rows(store_query(s, "mms due", store_sqlf(s, "SELECT "
                    MMS_COLS " FROM pm_mms WHERE state = %d AND next_try "
                    "<= %ld ORDER BY seq LIMIT %ld", "body",
                    STORE_MMS_QUEUED, now, max), NULL), 1);
}

long store_mms_requeue(Store *s)
{
    if (s == NULL)
        return -1;
    return store_exec(s, "mms requeue", store_sqlf(s, "UPDATE pm_mms SET "
                      "state = %d WHERE state = %d", STORE_MMS_QUEUED,
                      STORE_MMS_SUBMITTING), NULL);
}

int store_mms_set_state(Store *s, const Octstr *id, int state,
                        long next_try, long status_code,
                        const Octstr *status_text,
                        const Octstr *message_id)
{
    const char *op = "mms set state";
    Octstr *sql, *text = NULL;
    List *binds = gwlist_create();
    int r;

    if (s == NULL || state < STORE_MMS_QUEUED || state > STORE_MMS_FAILED ||
        (message_id != NULL && !store_len_ok(message_id, MMS_MSGID_MAX))) {
        error(0, "store: %s: bad state %d or MessageID", op, state);
        gwlist_destroy(binds, NULL);
        return -1;
    }
    if (!store_id_ok(id)) {
        gwlist_destroy(binds, NULL);
        return 0;
    }
    sql = store_sqlf(s, "UPDATE pm_mms SET state = %d, next_try = %ld, "
                     "status_code = %ld%s%s%s%s WHERE id = ?", state,
                     next_try, status_code,
                     state == STORE_MMS_SUBMITTING ?
                         ", attempts = attempts + 1" : "",
                     state == STORE_MMS_ACCEPTED ||
                     state == STORE_MMS_FAILED ? ", body = ''" : "",
                     status_text != NULL ? ", status_text = ?" : "",
                     message_id != NULL ? ", message_id = ?" : "");
    if (status_text != NULL) {
        text = store_clean_text(status_text, STORE_ERROR_MAX);
        gwlist_append(binds, text);
    }
    if (message_id != NULL)
        gwlist_append(binds, octstr_duplicate(message_id));
    gwlist_append(binds, octstr_duplicate(id));
    r = store_update_found(s, op, sql, binds, store_sqlf(s, "SELECT "
                           "COUNT(*) FROM pm_mms WHERE id = ?"),
                           store_binds(1, id));
    return r;
}

int store_mms_report(Store *s, const Octstr *mmsc,
                     const Octstr *message_id, const Octstr *status,
                     long when)
{
    const char *op = "mms report";
    Octstr *st;
    int r;

    if (s == NULL || status == NULL || mmsc == NULL)
        return -1;
    if (message_id == NULL || octstr_len(message_id) == 0 ||
        !store_len_ok(message_id, MMS_MSGID_MAX))
        return 0;
    st = store_clean_text(status, MMS_REPORT_MAX);
    /* MessageIDs are the MMSC's: correlate on them only (Mbuni swaps
     * Sender and Recipient in reports), within the MMSC that sent the
     * report; the mmsbox dlr-url names our own id */
    r = store_update_found(s, op, store_sqlf(s, "UPDATE pm_mms SET report "
                           "= ?, report_time = %ld WHERE mmsc = ? AND "
                           "((message_id = ? AND message_id <> '') OR "
                           "id = ?)", when),
                           store_binds(4, st, mmsc, message_id, message_id),
                           store_sqlf(s, "SELECT COUNT(*) FROM pm_mms "
                           "WHERE mmsc = ? AND ((message_id = ? AND "
                           "message_id <> '') OR id = ?)"),
                           store_binds(3, mmsc, message_id, message_id));
    octstr_destroy(st);
    return r < 0 ? -1 : r > 0 ? 1 : 0;
}

StoreMms *store_mms_get(Store *s, const Octstr *id)
{
    List *l;
    StoreMms *m;

    if (s == NULL || !store_id_ok(id))
        return NULL;
    l = mms_rows(store_query(s, "mms get", store_sqlf(s, "SELECT " MMS_COLS
                 " FROM pm_mms WHERE id = ?", "0"), store_binds(1, id)), 0);
    m = l != NULL ? gwlist_extract_first(l) : NULL;
    gwlist_destroy(l, store_mms_destroy_item);
    return m;
}

List *store_mms_latest(Store *s, const Octstr *msisdn, long count)
{
    if (s == NULL || msisdn == NULL)
        return NULL;
    if (count <= 0)
        return gwlist_create();
    if (count > MMS_LIST_MAX)
        count = MMS_LIST_MAX;
    return mms_rows(store_query(s, "mms latest", store_sqlf(s, "SELECT "
                    MMS_COLS " FROM pm_mms WHERE msisdn = ? ORDER BY "
                    "created DESC, seq DESC LIMIT %ld", "0", count),
                    store_binds(1, msisdn)), 0);
}

long store_mms_count(Store *s, int state)
{
    long v = -1;

    if (s == NULL ||
        store_query_long(s, "mms count", store_sqlf(s, "SELECT COUNT(*) "
                         "FROM pm_mms WHERE state = %d", state), NULL,
                         &v) != 0)
        return -1;
    return v;
}

long store_mms_purge(Store *s, long before)
{
    if (s == NULL)
        return -1;
    return store_exec(s, "mms purge", store_sqlf(s, "DELETE FROM pm_mms "
                      "WHERE (state = %d OR state = %d) AND created < %ld",
                      STORE_MMS_ACCEPTED, STORE_MMS_FAILED, before), NULL);
}

void store_mms_destroy(StoreMms *m)
{
    if (m == NULL)
        return;
    octstr_destroy(m->id);
    octstr_destroy(m->msisdn);
    octstr_destroy(m->mmsc);
    octstr_destroy(m->content_type);
    octstr_destroy(m->body);
    octstr_destroy(m->subject);
    octstr_destroy(m->message_id);
    octstr_destroy(m->status_text);
    octstr_destroy(m->report);
    gw_free(m);
}

void store_mms_destroy_item(void *m)
{
    store_mms_destroy(m);
}
