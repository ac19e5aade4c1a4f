/*
 * store-db.c - the store's dialect helper and query plumbing over
 * Kannel's dbpool: token mapping, binds, transactions, row readers.
 *
 * Exports: store_sqlf(), store_binds(), store_conn(), store_conn_done(),
 * store_run(), store_rows(), store_rows_destroy(), store_exec(),
 * store_query(), store_query_long(), store_tx_begin(), store_tx_end(),
 * store_update_found(), store_col_long(), store_col_str(),
 * store_col_hex(), store_hex(), store_len_ok(), store_clean_text(),
 * store_msisdn_ok(), store_bad_msisdn(), store_lock_binding() (see
 * store-private.h).
 *
 * Facts about Kannel 1.4.5's drivers that shaped this file (checked with
 * a probe program against Debian's libgwlib.a): both honour '?' binds,
 * binding every value as a string; both return SQL NULL as ""; the
 * sqlite3 driver returns columns as C strings (a NUL byte ends them), so
 * binary values are stored as hex; MySQL reports an UPDATE that changes
 * nothing as 0 rows; the MySQL driver's select needs a result set.
 *
 * Logs: error() naming the operation when a query fails (the driver logs
 * the database's own message before it).  Bound values are never logged.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* Map one {TOKEN} (without braces) to `out`; -1 if unknown. */
static int map_token(const Store *s, const char *tok, long len,
                     Octstr *out)
{
    int my = s->type == PM_DB_MYSQL;

#define IS(t) (len == (long) strlen(t) && memcmp(tok, t, len) == 0)
    if (len > 2 && memcmp(tok, "S:", 2) == 0) {
        if (my)
            octstr_format_append(out, "VARBINARY(%.*s)", (int) (len - 2),
                                 tok + 2);
        else
            octstr_append_cstr(out, "TEXT");
    } else if (IS("TEXT")) {
        octstr_append_cstr(out, my ? "BLOB" : "TEXT");
    } else if (IS("BIG")) {
        octstr_append_cstr(out, my ? "MEDIUMBLOB" : "TEXT");
    } else if (IS("INT")) {
        octstr_append_cstr(out, my ? "BIGINT" : "INTEGER");
    } else if (IS("SERIAL")) {
        octstr_append_cstr(out, my ? "BIGINT NOT NULL AUTO_INCREMENT "
                                     "PRIMARY KEY"
                                   : "INTEGER PRIMARY KEY AUTOINCREMENT");
    } else if (IS("OPTS")) {
        octstr_append_cstr(out, my ? " ENGINE=InnoDB" : "");
    } else if (IS("IGNORE")) {
        octstr_append_cstr(out, my ? "IGNORE" : "OR IGNORE");
    } else if (IS("LOCK")) {
        octstr_append_cstr(out, my ? " FOR UPDATE" : "");
    } else {
        return -1;
    }
#undef IS
    return 0;
}

Octstr *store_sqlf(const Store *s, const char *fmt, ...)
{
    va_list ap;
    Octstr *generic, *out;
    long i, len, end;
    const char *g;

    va_start(ap, fmt);
    generic = octstr_format_valist(fmt, ap);
    va_end(ap);

    out = octstr_create("");
    g = octstr_get_cstr(generic);
    len = octstr_len(generic);
    for (i = 0; i < len; i++) {
        if (g[i] != '{') {
            octstr_append_char(out, g[i]);
            continue;
        }
        end = octstr_search_char(generic, '}', i);
        if (end < 0 || map_token(s, g + i + 1, end - i - 1, out) < 0)
            panic(0, "store: unknown SQL token in \"%s\"", g);
        i = end;
    }
    octstr_destroy(generic);
    return out;
}

List *store_binds(int n, ...)
{
    va_list ap;
    List *l = gwlist_create();
    int i;

    va_start(ap, n);
    for (i = 0; i < n; i++) {
        const Octstr *v = va_arg(ap, const Octstr *);
        gwlist_append(l, v != NULL ? octstr_duplicate(v)
                                   : octstr_create(""));
    }
    va_end(ap);
    return l;
}

/*
 * Group commit: while a thread has a batch open (store_batch_begin), every
 * store call it makes runs on the batch's connection inside the batch's
 * transaction; inner transactions become part of it.  Thread-local by
 * design (the one exception to "no globals"): a batch belongs to the
 * thread that opened it, and store calls deep inside other modules join
 * it without every signature growing a transaction argument.
 */
static __thread Store *batch_store;
static __thread DBPoolConn *batch_conn;
static __thread int batch_failed;

/*
 * This thread's batch connection for s.  *in_r = 0 when no batch is open
 * (NULL returned).  Inside a batch that already failed: NULL, logged
 * (the engine may have aborted the transaction: run nothing more on it,
 * the batch rolls back at its end).
 */
static DBPoolConn *store_batch_use(Store *s, const char *op, int *in_r)
{
    *in_r = batch_store == s && batch_conn != NULL;
    if (!*in_r)
        return NULL;
    if (batch_failed) {
        error(0, "store: %s: skipped, the batch already failed", op);
        return NULL;
    }
    return batch_conn;
}

DBPoolConn *store_conn(Store *s, const char *op)
{
    int in_batch;
    DBPoolConn *c = store_batch_use(s, op, &in_batch);

    if (in_batch)
        return c;
    c = dbpool_conn_consume(s->pool);
    if (c == NULL)
        error(0, "store: %s: no database connection available", op);
    return c;
}

void store_conn_done(DBPoolConn *c)
{
    if (c != NULL && c != batch_conn)
        dbpool_conn_produce(c);
}

long store_run(Store *s, DBPoolConn *c, const char *op, Octstr *sql,
               List *binds)
{
    long r;

    r = dbpool_conn_update(c, sql, binds);
    if (r < 0) {
        error(0, "store: %s: database update failed", op);
        if (c == batch_conn)
            batch_failed = 1;
    }
    octstr_destroy(sql);
    gwlist_destroy(binds, octstr_destroy_item);
    return r < 0 ? -1 : r;
}

List *store_rows_to(List *rows, void *(*from_row)(List *row),
                    gwlist_item_destructor_t *destroy)
{
    List *res;
    void *item;
    long i;

    if (rows == NULL)
        return NULL;
    res = gwlist_create();
    for (i = 0; i < gwlist_len(rows); i++) {
        item = from_row(gwlist_get(rows, i));
        if (item == NULL) {
            gwlist_destroy(res, destroy);
            res = NULL;
            break;
        }
        gwlist_append(res, item);
    }
    store_rows_destroy(rows);
    return res;
}

void store_rows_destroy(List *rows)
{
    List *row;

    if (rows == NULL)
        return;
    while ((row = gwlist_extract_first(rows)) != NULL)
        gwlist_destroy(row, octstr_destroy_item);
    gwlist_destroy(rows, NULL);
}

List *store_rows(Store *s, DBPoolConn *c, const char *op, Octstr *sql,
                 List *binds)
{
    List *res = NULL;

    if (dbpool_conn_select(c, sql, binds, &res) != 0 || res == NULL) {
        error(0, "store: %s: database query failed", op);
        if (c == batch_conn)
            batch_failed = 1;
        store_rows_destroy(res);
        res = NULL;
    }
    octstr_destroy(sql);
    gwlist_destroy(binds, octstr_destroy_item);
    return res;
}

long store_exec(Store *s, const char *op, Octstr *sql, List *binds)
{
    DBPoolConn *c = store_conn(s, op);
    long r;

    if (c == NULL) {
        octstr_destroy(sql);
        gwlist_destroy(binds, octstr_destroy_item);
        return -1;
    }
    r = store_run(s, c, op, sql, binds);
    store_conn_done(c);
    return r;
}

List *store_query(Store *s, const char *op, Octstr *sql, List *binds)
{
    DBPoolConn *c = store_conn(s, op);
    List *r;

    if (c == NULL) {
        octstr_destroy(sql);
        gwlist_destroy(binds, octstr_destroy_item);
        return NULL;
    }
    r = store_rows(s, c, op, sql, binds);
    store_conn_done(c);
    return r;
}

int store_query_long(Store *s, const char *op, Octstr *sql, List *binds,
                     long *v_r)
{
    List *rows = store_query(s, op, sql, binds);
    int r;

    if (rows == NULL)
        return -1;
    if (gwlist_len(rows) == 0) {
        r = 1;
    } else if (store_col_long(gwlist_get(rows, 0), 0, v_r) < 0) {
        error(0, "store: %s: the database returned a malformed number",
              op);
        r = -1;
    } else {
        r = 0;
    }
    store_rows_destroy(rows);
    return r;
}

static DBPoolConn *store_tx_open(Store *s, const char *op)
{
    DBPoolConn *c = dbpool_conn_consume(s->pool);

    if (c == NULL) {
        error(0, "store: %s: no database connection available", op);
        return NULL;
    }
    if (s->type == PM_DB_MYSQL) {
        if (store_run(s, c, op, octstr_create("SET TRANSACTION ISOLATION "
                      "LEVEL READ COMMITTED"), NULL) < 0 ||
            store_run(s, c, op, octstr_create("START TRANSACTION"),
                      NULL) < 0) {
            store_conn_done(c);
            return NULL;
        }
    } else if (store_run(s, c, op, octstr_create("BEGIN IMMEDIATE"),
                         NULL) < 0) {
        store_conn_done(c);
        return NULL;
    }
    return c;
}

DBPoolConn *store_tx_begin(Store *s, const char *op)
{
    int in_batch;
    DBPoolConn *c = store_batch_use(s, op, &in_batch);

    return in_batch ? c : store_tx_open(s, op);
}

int store_tx_end(Store *s, DBPoolConn *c, int ok, const char *op)
{
    int r = 0;

    if (c == NULL)
        return -1;
    if (c == batch_conn) {
        /* part of the batch: it commits or rolls back at batch end */
        if (!ok)
            batch_failed = 1;
        return 0;
    }
    if (ok && store_run(s, c, op, octstr_create("COMMIT"), NULL) < 0) {
        r = -1;
        ok = 0;
    }
    if (!ok)
        store_run(s, c, op, octstr_create("ROLLBACK"), NULL);
    store_conn_done(c);
    return r;
}

int store_update_found(Store *s, const char *op, Octstr *sql, List *binds,
                       Octstr *exists_sql, List *exists_binds)
{
    long r, n = 0;

    r = store_exec(s, op, sql, binds);
    if (r != 0) {
        octstr_destroy(exists_sql);
        gwlist_destroy(exists_binds, octstr_destroy_item);
        return r < 0 ? -1 : 1;
    }
    if (store_query_long(s, op, exists_sql, exists_binds, &n) < 0)
        return -1;
    return n > 0 ? 1 : 0;
}

int store_col_long(List *row, long i, long *v_r)
{
    Octstr *v;
    char *end;
    long n;

    if (row == NULL || i >= gwlist_len(row))
        return -1;
    v = gwlist_get(row, i);
    if (octstr_len(v) == 0 || octstr_len(v) > 20)
        return -1;
    errno = 0;
    n = strtol(octstr_get_cstr(v), &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *v_r = n;
    return 0;
}

Octstr *store_col_str(List *row, long i)
{
    Octstr *v;

    if (row == NULL || i >= gwlist_len(row))
        return NULL;
    v = gwlist_get(row, i);
    return octstr_len(v) > 0 ? octstr_duplicate(v) : NULL;
}

int store_col_hex(List *row, long i, Octstr **v_r)
{
    Octstr *v;

    *v_r = NULL;
    if (row == NULL || i >= gwlist_len(row))
        return -1;
    v = gwlist_get(row, i);
    if (octstr_len(v) == 0)
        return 0;
    if (octstr_len(v) % 2 != 0)
        return -1;
    v = octstr_duplicate(v);
    if (octstr_hex_to_binary(v) < 0) {
        octstr_destroy(v);
        return -1;
    }
    *v_r = v;
    return 0;
}

Octstr *store_hex(const Octstr *bin)
{
    Octstr *h;

    if (bin == NULL)
        return octstr_create("");
    h = octstr_duplicate(bin);
    octstr_binary_to_hex(h, 0);
    return h;
}

int store_len_ok(const Octstr *s, long max)
{
    return s == NULL || octstr_len(s) <= max;
}

Octstr *store_clean_text(const Octstr *in, long max)
{
    Octstr *out;
    long i, len;

    if (in == NULL)
        return NULL;
    len = octstr_len(in);
    if (len > max) {
        len = max;
        /* back off over UTF-8 continuation bytes to a lead byte */
        while (len > 0 && (octstr_get_char(in, len) & 0xc0) == 0x80)
            len--;
    }
    out = octstr_copy(in, 0, len);
    for (i = 0; i < len; i++) {
        int c = octstr_get_char(out, i);
        if (c < 0x20 || c == 0x7f)
            octstr_set_char(out, i, ' ');
    }
    return out;
}

/* "+" and 1..STORE_MSISDN_MAX-1 digits. */
int store_id_ok(const Octstr *id)
{
    long i;

    if (id == NULL || octstr_len(id) != 32)
        return 0;
    for (i = 0; i < 32; i++) {
        int c = octstr_get_char(id, i);

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

int store_msisdn_ok(const Octstr *m)
{
    long i;

    if (m == NULL || octstr_len(m) < 2 || octstr_len(m) > STORE_MSISDN_MAX ||
        octstr_get_char(m, 0) != '+')
        return 0;
    for (i = 1; i < octstr_len(m); i++)
        if (octstr_get_char(m, i) < '0' || octstr_get_char(m, i) > '9')
            return 0;
    return 1;
}

/* Log and return 1 if msisdn is unusable as a key. */
int store_bad_msisdn(const Octstr *msisdn, const char *op)
{
    if (store_msisdn_ok(msisdn))
        return 0;
    error(0, "store: %s: the MSISDN is not in +<digits> form", op);
    return 1;
}

/* In a transaction: lock the binding row.  1 exists, 0 none, -1 error. */
int store_lock_binding(Store *s, DBPoolConn *c, const Octstr *msisdn,
                       const char *op, long *seq_r, Octstr **url_r)
{
    List *rows;
    int r;

    rows = store_rows(s, c, op, store_sqlf(s, "SELECT mail_seq, "
                      "mailbox_url FROM pm_binding WHERE msisdn = ?{LOCK}"),
                      store_binds(1, msisdn));
    if (rows == NULL)
        return -1;
    r = gwlist_len(rows) > 0;
    if (r && seq_r != NULL &&
        store_col_long(gwlist_get(rows, 0), 0, seq_r) < 0) {
        error(0, "store: %s: malformed mail_seq for binding %s", op,
              octstr_get_cstr(msisdn));
        r = -1;
    }
    if (r == 1 && url_r != NULL)
        *url_r = store_col_str(gwlist_get(rows, 0), 1);
    store_rows_destroy(rows);
    return r;
}

int store_batch_begin(Store *s)
{
    DBPoolConn *c;

    if (s == NULL || batch_conn != NULL)
        return -1;
    c = store_tx_open(s, "batch");
    if (c == NULL)
        return -1;
    batch_store = s;
    batch_conn = c;
    batch_failed = 0;
    return 0;
}

int store_batch_end(Store *s, int ok)
{
    DBPoolConn *c = batch_conn;

    if (s == NULL || c == NULL || batch_store != s)
        return -1;
    batch_store = NULL;
    batch_conn = NULL;
    if (batch_failed)
        ok = 0;
    batch_failed = 0;
    if (store_tx_end(s, c, ok, "batch") < 0 || !ok)
        return -1;
    return 0;
}
