/*
 * store-mail.c - the store's per-phone message index (GET n, LIST,
 * prompts) and the MORE paging position.
 *
 * Exports: store_mail_add(), store_mail_get(), store_mail_latest(),
 * store_mail_pending(), store_mail_pending_msisdns(),
 * store_mail_set_prompt_state(), store_mail_destroy(),
 * store_mail_destroy_item(), store_page_set(), store_page_get() (see
 * store.h).
 *
 * Numbers n are per binding, 1, 2, 3 ..., taken from pm_binding.mail_seq
 * inside the transaction that holds the binding row, so two threads (or
 * two instances on one MySQL) never hand out the same n, and an n is
 * never reused, not even after the mailbox URL changes.
 *
 * Limits: sender 512 and subject 1024 bytes (cut at a UTF-8 boundary,
 * control characters become spaces); UIDLs 1..255 printable bytes;
 * store_mail_pending() returns at most 1000 mails, store_mail_latest()
 * at most 1000.
 * Logs: error() for every failed operation, naming it and the MSISDN.
 */
#include <string.h>

#include "store-private.h"

#define STORE_PENDING_MAX 1000      /* rows per store_mail_pending() */
#define STORE_LIST_MAX 1000         /* rows per store_mail_latest() */

#define MAIL_COLS "n, uidvalidity, uid, uidl, sender, subject, mdate, " \
                  "msize, prompt_state"

/* --- message index ----------------------------------------------------- */

/* The dedupe key: "u:UIDVALIDITY:UID" or "l:UIDL"; NULL if neither. */
static Octstr *mail_dkey(const StoreMail *m)
{
    long i;

    if (m->uid > 0 && m->uidvalidity >= 0)
        return octstr_format("u:%ld:%ld", m->uidvalidity, m->uid);
    if (m->uid != 0 || m->uidl == NULL || octstr_len(m->uidl) == 0 ||
        octstr_len(m->uidl) > STORE_UIDL_MAX)
        return NULL;
    for (i = 0; i < octstr_len(m->uidl); i++) {
        int c = octstr_get_char(m->uidl, i);
        if (c <= 0x20 || c >= 0x7f)
            return NULL;
    }
    return octstr_format("l:%S", m->uidl);
}

/* In the transaction: add uidl to the binding's uidls unless there. */
static int append_uidl(Store *s, DBPoolConn *c, const Octstr *msisdn,
                       const Octstr *uidl, const char *op)
{
    List *rows;
    Octstr *list, *needle;
    int r = 0;

    rows = store_rows(s, c, op, store_sqlf(s, "SELECT uidls FROM pm_watch "
                      "WHERE msisdn = ?{LOCK}"), store_binds(1, msisdn));
    if (rows == NULL)
        return -1;
    if (gwlist_len(rows) == 0) {
        store_rows_destroy(rows);
        return 0;
    }
    list = octstr_format("\n%S\n", gwlist_get(gwlist_get(rows, 0), 0));
    needle = octstr_format("\n%S\n", uidl);
    store_rows_destroy(rows);
    if (octstr_search(list, needle, 0) < 0) {
        /* list is "\n" old "\n": drop the framing, append */
        octstr_delete(list, 0, 1);
        if (octstr_len(list) == 1)
            octstr_truncate(list, 0);
        octstr_append(list, uidl);
        if (octstr_len(list) > STORE_UIDLS_MAX) {
            error(0, "store: %s for %s: the UIDL list is full", op,
                  octstr_get_cstr(msisdn));
            r = -1;
        } else if (store_run(s, c, op, store_sqlf(s, "UPDATE pm_watch SET "
                             "uidls = ? WHERE msisdn = ?"),
                             store_binds(2, list, msisdn)) < 0) {
            r = -1;
        }
    }
    octstr_destroy(list);
    octstr_destroy(needle);
    return r;
}

int store_mail_add(Store *s, const Octstr *msisdn, StoreMail *m)
{
    const char *op = "mail add";
    Octstr *dkey, *sender, *subject;
    DBPoolConn *c;
    List *rows;
    long seq = 0, n = 0;
    int found, ok = 0, added = 0;

    if (s == NULL || m == NULL || store_bad_msisdn(msisdn, op))
        return -1;
    dkey = mail_dkey(m);
    if (dkey == NULL || m->prompt_state < STORE_PROMPT_PENDING ||
        m->prompt_state > STORE_PROMPT_SKIPPED) {
        error(0, "store: %s for %s: the mail has no valid UID or UIDL, or "
              "a bad prompt state", op, octstr_get_cstr(msisdn));
        octstr_destroy(dkey);
        return -1;
    }
    c = store_tx_begin(s, op);
    if (c == NULL) {
        octstr_destroy(dkey);
        return -1;
    }
    found = store_lock_binding(s, c, msisdn, op, &seq, NULL);
    if (found <= 0) {
        if (found == 0)
            error(0, "store: %s: no binding for %s", op,
                  octstr_get_cstr(msisdn));
        goto end;
    }
    rows = store_rows(s, c, op, store_sqlf(s, "SELECT n FROM pm_mail WHERE "
                      "msisdn = ? AND dkey = ?"), store_binds(2, msisdn,
                                                              dkey));
    if (rows == NULL)
        goto end;
    if (gwlist_len(rows) > 0) {
        ok = store_col_long(gwlist_get(rows, 0), 0, &n) == 0;
        store_rows_destroy(rows);
        goto end;
    }
    store_rows_destroy(rows);

    n = seq + 1;
    sender = store_clean_text(m->sender, STORE_SENDER_MAX);
    subject = store_clean_text(m->subject, STORE_SUBJECT_MAX);
    ok = store_run(s, c, op, store_sqlf(s, "INSERT INTO pm_mail (msisdn, n, "
                   "dkey, uidvalidity, uid, uidl, sender, subject, mdate, "
                   "msize, prompt_state) VALUES (?, %ld, ?, %ld, %ld, ?, ?, "
                   "?, %ld, %ld, %d)", n, m->uidvalidity, m->uid, m->date,
                   m->size, m->prompt_state),
                   store_binds(5, msisdn, dkey, m->uid > 0 ? NULL : m->uidl,
                               sender, subject)) == 1 &&
         store_run(s, c, op, store_sqlf(s, "UPDATE pm_binding SET mail_seq "
                   "= %ld WHERE msisdn = ?", n), store_binds(1, msisdn)) == 1;
    octstr_destroy(sender);
    octstr_destroy(subject);
    if (ok && m->uid > 0)
        ok = store_run(s, c, op, store_sqlf(s, "UPDATE pm_watch SET "
                       "last_uid = %ld WHERE msisdn = ? AND last_uid < %ld",
                       m->uid, m->uid), store_binds(1, msisdn)) >= 0;
    else if (ok)
        ok = append_uidl(s, c, msisdn, m->uidl, op) == 0;
    added = ok;
end:
    octstr_destroy(dkey);
    if (store_tx_end(s, c, ok, op) < 0 || !ok) {
        error(0, "store: %s for %s failed", op, octstr_get_cstr(msisdn));
        return -1;
    }
    m->n = n;
    return added ? 1 : 0;
}

static StoreMail *mail_from_row(List *row)
{
    StoreMail *m = gw_malloc(sizeof(*m));
    long ps;

    memset(m, 0, sizeof(*m));
    if (store_col_long(row, 0, &m->n) < 0 ||
        store_col_long(row, 1, &m->uidvalidity) < 0 ||
        store_col_long(row, 2, &m->uid) < 0 ||
        store_col_long(row, 6, &m->date) < 0 ||
        store_col_long(row, 7, &m->size) < 0 ||
        store_col_long(row, 8, &ps) < 0 || ps < 0 || ps > 2) {
        error(0, "store: malformed row in table pm_mail");
        gw_free(m);
        return NULL;
    }
    m->prompt_state = (int) ps;
    m->uidl = store_col_str(row, 3);
    m->sender = store_col_str(row, 4);
    m->subject = store_col_str(row, 5);
    return m;
}

/* Rows to a List of StoreMail*; NULL if any row is malformed. */
static void *mail_row(List *row)
{
    return mail_from_row(row);
}

static List *mails_from_rows(List *rows)
{
    return store_rows_to(rows, mail_row, store_mail_destroy_item);
}

StoreMail *store_mail_get(Store *s, const Octstr *msisdn, long n)
{
    List *l;
    StoreMail *m;

    if (s == NULL || !store_msisdn_ok(msisdn) || n <= 0)
        return NULL;
    l = mails_from_rows(store_query(s, "mail get", store_sqlf(s, "SELECT "
                        MAIL_COLS " FROM pm_mail WHERE msisdn = ? AND "
                        "n = %ld", n), store_binds(1, msisdn)));
    m = l != NULL ? gwlist_extract_first(l) : NULL;
    gwlist_destroy(l, store_mail_destroy_item);
    return m;
}

List *store_mail_latest(Store *s, const Octstr *msisdn, long count)
{
    if (s == NULL || store_bad_msisdn(msisdn, "mail latest"))
        return NULL;
    if (count <= 0)
        return gwlist_create();
    if (count > STORE_LIST_MAX)
        count = STORE_LIST_MAX;
    return mails_from_rows(store_query(s, "mail latest", store_sqlf(s,
                           "SELECT " MAIL_COLS " FROM pm_mail WHERE msisdn "
                           "= ? ORDER BY n DESC LIMIT %ld", count),
                           store_binds(1, msisdn)));
}

List *store_mail_pending(Store *s, const Octstr *msisdn)
{
    if (s == NULL || store_bad_msisdn(msisdn, "mail pending"))
        return NULL;
    return mails_from_rows(store_query(s, "mail pending", store_sqlf(s,
                           "SELECT " MAIL_COLS " FROM pm_mail WHERE "
                           "prompt_state = 0 AND msisdn = ? ORDER BY n "
                           "LIMIT %d", STORE_PENDING_MAX),
                           store_binds(1, msisdn)));
}

List *store_mail_pending_msisdns(Store *s)
{
    List *rows, *res;
    long i;

    if (s == NULL)
        return NULL;
    rows = store_query(s, "mail pending msisdns", store_sqlf(s, "SELECT "
                       "DISTINCT msisdn FROM pm_mail WHERE prompt_state = 0 "
                       "ORDER BY msisdn"), NULL);
    if (rows == NULL)
        return NULL;
    res = gwlist_create();
    for (i = 0; i < gwlist_len(rows); i++) {
        Octstr *m = store_col_str(gwlist_get(rows, i), 0);
        if (m != NULL)
            gwlist_append(res, m);
    }
    store_rows_destroy(rows);
    return res;
}

int store_mail_set_prompt_state(Store *s, const Octstr *msisdn,
                                long n_from, long n_to, int state)
{
    const char *op = "mail set prompt state";

    if (s == NULL || store_bad_msisdn(msisdn, op))
        return -1;
    if (state != STORE_PROMPT_SENT && state != STORE_PROMPT_SKIPPED) {
        if (state == STORE_PROMPT_PENDING)
            return 0;
        error(0, "store: %s for %s: bad state %d", op,
              octstr_get_cstr(msisdn), state);
        return -1;
    }
    return (int) store_exec(s, op, store_sqlf(s, "UPDATE pm_mail SET "
                            "prompt_state = %d WHERE msisdn = ? AND n >= %ld "
                            "AND n <= %ld AND prompt_state = 0", state,
                            n_from, n_to), store_binds(1, msisdn));
}

void store_mail_destroy(StoreMail *m)
{
    if (m == NULL)
        return;
    octstr_destroy(m->uidl);
    octstr_destroy(m->sender);
    octstr_destroy(m->subject);
    gw_free(m);
}

void store_mail_destroy_item(void *m)
{
    store_mail_destroy(m);
}

/* --- paging ------------------------------------------------------------ */

int store_page_set(Store *s, const Octstr *msisdn, long n, long next_page)
{
    const char *op = "page set";

    if (s == NULL || store_bad_msisdn(msisdn, op))
        return -1;
    /* insert only for a bound number, then update: same in both dialects */
    if (store_exec(s, op, store_sqlf(s, "INSERT {IGNORE} INTO pm_page "
                   "(msisdn, n, next_page) SELECT msisdn, %ld, %ld FROM "
                   "pm_binding WHERE msisdn = ?", n, next_page),
                   store_binds(1, msisdn)) < 0 ||
        store_exec(s, op, store_sqlf(s, "UPDATE pm_page SET n = %ld, "
                   "next_page = %ld WHERE msisdn = ?", n, next_page),
                   store_binds(1, msisdn)) < 0)
        return -1;
    return 0;
}

int store_page_get(Store *s, const Octstr *msisdn, long *n_r,
                   long *next_page_r)
{
    List *rows;
    long n, p;
    int r = 1;

    if (s == NULL || store_bad_msisdn(msisdn, "page get"))
        return -1;
    rows = store_query(s, "page get", store_sqlf(s, "SELECT n, next_page "
                       "FROM pm_page WHERE msisdn = ?"),
                       store_binds(1, msisdn));
    if (rows == NULL)
        return -1;
    if (gwlist_len(rows) > 0) {
        if (store_col_long(gwlist_get(rows, 0), 0, &n) < 0 ||
            store_col_long(gwlist_get(rows, 0), 1, &p) < 0) {
            error(0, "store: page get for %s: malformed row",
                  octstr_get_cstr(msisdn));
            r = -1;
        } else {
            if (n_r != NULL)
                *n_r = n;
            if (next_page_r != NULL)
                *next_page_r = p;
            r = 0;
        }
    }
    store_rows_destroy(rows);
    return r;
}
