/*
 * store.c - the terminal binding subsystem: lifecycle, bindings and
 * per-mailbox watch state.
 *
 * Exports: store_open(), store_close(), store_new_id(), store_binding_*,
 * store_bindings_generation(), store_watch_* (see store.h).  The message
 * index and paging are in store-mail.c, the MT/MO queues and notice
 * limits in store-queue.c, query plumbing in store-db.c, the schema in
 * store-schema.c.
 *
 * Locking: a transaction that touches a binding's rows first locks its
 * pm_binding row (SELECT ... FOR UPDATE in MySQL; SQLite's BEGIN
 * IMMEDIATE serialises all writers), then child rows, then pm_meta, so
 * concurrent transactions cannot deadlock on lock order.
 *
 * Limits: see STORE_*_MAX in store-private.h; values that are too long
 * are refused (-1), except last_error, which is cut.
 * Logs: error() for every failed operation, naming it and the MSISDN;
 * never secrets or sealed secrets.
 */
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "store-private.h"

#define STORE_POOL_DEFAULT 4
#define STORE_BUSY_DEFAULT 10       /* seconds, SQLite busy timeout */

#define BINDING_COLS "msisdn, mailbox_url, address, smtp_url, prompt_mode, " \
                     "deliver_mode, paused, created, updated"

/* --- lifecycle --------------------------------------------------------- */

static void set_err(Octstr **err_r, Octstr *msg)
{
    if (err_r != NULL)
        *err_r = msg;
    else
        octstr_destroy(msg);
}

static DBPool *open_pool(const PmDbConf *db, Octstr **err_r)
{
    DBConf *conf = gw_malloc(sizeof(*conf));
    DBPool *pool;
    long n = db->max_connections > 0 ? db->max_connections
                                     : STORE_POOL_DEFAULT;

    memset(conf, 0, sizeof(*conf));
    if (db->type == PM_DB_SQLITE3) {
        long t = db->lock_timeout > 0 ? db->lock_timeout
                                      : STORE_BUSY_DEFAULT;
        if (db->file == NULL || octstr_len(db->file) == 0) {
            gw_free(conf);
            set_err(err_r, octstr_create("the sqlite3-connection has no "
                                         "database file"));
            return NULL;
        }
        conf->sqlite3 = gw_malloc(sizeof(SQLite3Conf));
        conf->sqlite3->file = octstr_duplicate(db->file);
        /* Kannel passes lock_timeout to sqlite3_busy_timeout(): ms */
        conf->sqlite3->lock_timeout = (int) (t > 3600 ? 3600000 : t * 1000);
        pool = dbpool_create(DBPOOL_SQLITE3, conf, n);
    } else if (db->type == PM_DB_MYSQL) {
        if (db->host == NULL || db->database == NULL ||
            db->username == NULL) {
            gw_free(conf);
            set_err(err_r, octstr_create("the mysql-connection needs host, "
                                         "username and database"));
            return NULL;
        }
        conf->mysql = gw_malloc(sizeof(MySQLConf));
        conf->mysql->host = octstr_duplicate(db->host);
        conf->mysql->port = db->port;
        conf->mysql->username = octstr_duplicate(db->username);
        conf->mysql->password = db->password != NULL ?
            octstr_duplicate(db->password) : octstr_create("");
        conf->mysql->database = octstr_duplicate(db->database);
        pool = dbpool_create(DBPOOL_MYSQL, conf, n);
    } else {
        gw_free(conf);
        set_err(err_r, octstr_create("unknown database type"));
        return NULL;
    }
    if (pool == NULL || dbpool_conn_count(pool) == 0) {
        dbpool_destroy(pool);
        set_err(err_r, octstr_format("cannot connect to the %s database "
                "\"%S\" (see the database error above)",
                db->type == PM_DB_MYSQL ? "MySQL" : "SQLite3",
                db->type == PM_DB_MYSQL ? db->database : db->file));
        return NULL;
    }
    return pool;
}

/*
 * PRAGMA synchronous is per connection: set it on every pooled one.
 * FULL syncs the WAL at each commit (survives power loss); NORMAL syncs
 * at checkpoints only (survives a crash of pushmailbox, not of the OS).
 */
static void store_sqlite_sync(Store *s, const PmDbConf *db)
{
    DBPoolConn *c[64];
    long i, n = dbpool_conn_count(s->pool);
    Octstr *sql;

    if (n > 64)
        n = 64;
    for (i = 0; i < n; i++)
        c[i] = store_conn(s, "open");
    for (i = 0; i < n; i++) {
        if (c[i] == NULL)
            continue;
        sql = octstr_format("PRAGMA synchronous = %s",
                            db->sync_full ? "FULL" : "NORMAL");
        store_run(s, c[i], "open", sql, NULL);
    }
    for (i = 0; i < n; i++)
        store_conn_done(c[i]);
}

Store *store_open(const PmDbConf *db, const Octstr *key_file,
                  Octstr **err_r)
{
    Store *s;
    Octstr *err = NULL;
    List *rows;

    if (err_r != NULL)
        *err_r = NULL;
    if (db == NULL) {
        set_err(err_r, octstr_create("no database is configured"));
        return NULL;
    }
    s = gw_malloc(sizeof(*s));
    memset(s, 0, sizeof(*s));
    s->type = db->type;
    s->key = pm_secret_key_load(key_file, &err);
    if (s->key == NULL) {
        set_err(err_r, err);
        gw_free(s);
        return NULL;
    }
    s->pool = open_pool(db, err_r);
    if (s->pool == NULL) {
        store_close(&s);
        return NULL;
    }
    if (s->type == PM_DB_SQLITE3) {
        /* WAL lets readers run beside the writer; persistent per file */
        rows = store_query(s, "open", octstr_create("PRAGMA journal_mode = "
                                                    "WAL"), NULL);
        if (rows == NULL || gwlist_len(rows) != 1 ||
            octstr_str_case_compare(gwlist_get(gwlist_get(rows, 0), 0),
                                    "wal") != 0)
            warning(0, "store: SQLite database \"%s\" is not in WAL mode",
                    octstr_get_cstr(db->file));
        store_rows_destroy(rows);
        store_sqlite_sync(s, db);
    }
    if (store_schema_migrate(s, &err) < 0) {
        set_err(err_r, err);
        store_close(&s);
        return NULL;
    }
    return s;
}

void store_close(Store **s)
{
    if (s == NULL || *s == NULL)
        return;
    dbpool_destroy((*s)->pool);
    pm_secret_key_destroy((*s)->key);
    gw_free(*s);
    *s = NULL;
}

Octstr *store_new_id(void)
{
    unsigned char b[16];
    Octstr *id;

    if (RAND_bytes(b, sizeof(b)) != 1)
        panic(0, "store: OpenSSL RAND_bytes failed; no safe ids");
    id = octstr_create_from_data((char *) b, sizeof(b));
    octstr_binary_to_hex(id, 0);
    return id;
}

/* --- checks ------------------------------------------------------------ */


static int mode_ok(const Octstr *m, const char *a, const char *b)
{
    return octstr_str_compare(m, a) == 0 || octstr_str_compare(m, b) == 0;
}


static int bump_generation(Store *s, DBPoolConn *c, const char *op)
{
    return store_run(s, c, op, octstr_create("UPDATE pm_meta SET value = "
                     "value + 1 WHERE name = 'generation'"), NULL) == 1
           ? 0 : -1;
}


/* --- bindings ---------------------------------------------------------- */

static StoreBinding *binding_from_row(List *row);

static void *binding_row(List *row)
{
    return binding_from_row(row);
}

static StoreBinding *binding_from_row(List *row)
{
    StoreBinding *b = gw_malloc(sizeof(*b));
    long paused;

    memset(b, 0, sizeof(*b));
    b->msisdn = store_col_str(row, 0);
    b->mailbox_url = store_col_str(row, 1);
    b->address = store_col_str(row, 2);
    b->smtp_url = store_col_str(row, 3);
    b->prompt_mode = store_col_str(row, 4);
    b->deliver_mode = store_col_str(row, 5);
    if (b->msisdn == NULL || b->mailbox_url == NULL ||
        b->prompt_mode == NULL || b->deliver_mode == NULL ||
        store_col_long(row, 6, &paused) < 0 ||
        store_col_long(row, 7, &b->created) < 0 ||
        store_col_long(row, 8, &b->updated) < 0) {
        error(0, "store: malformed row in table pm_binding");
        store_binding_destroy(b);
        return NULL;
    }
    b->paused = paused != 0;
    return b;
}

/* Reset watch state, message index and paging of a binding. */
static int reset_mailbox_state(Store *s, DBPoolConn *c, const Octstr *m,
                               const char *op)
{
    if (store_run(s, c, op, store_sqlf(s, "INSERT {IGNORE} INTO pm_watch "
                  "(msisdn, uidvalidity, last_uid, uidls, caps, state, "
                  "last_error) VALUES (?, 0, 0, '', '', '', '')"),
                  store_binds(1, m)) < 0 ||
        store_run(s, c, op, store_sqlf(s, "UPDATE pm_watch SET "
                  "uidvalidity = 0, last_uid = 0, uidls = '', caps = '', "
                  "state = '', last_error = '' WHERE msisdn = ?"),
                  store_binds(1, m)) < 0 ||
        store_run(s, c, op, store_sqlf(s, "DELETE FROM pm_mail WHERE "
                  "msisdn = ?"), store_binds(1, m)) < 0 ||
        store_run(s, c, op, store_sqlf(s, "DELETE FROM pm_page WHERE "
                  "msisdn = ?"), store_binds(1, m)) < 0 ||
        store_run(s, c, op, store_sqlf(s, "DELETE FROM pm_token WHERE "
                  "msisdn = ?"), store_binds(1, m)) < 0)
        return -1;
    return 0;
}

int store_binding_put(Store *s, const StoreBinding *b, const Octstr *secret)
{
    const char *op = "binding put";
    Octstr *sealed = NULL, *old_url = NULL;
    Octstr *pm, *dm;
    DBPoolConn *c;
    long now = (long) time(NULL);
    int found, ok = 0;

    if (s == NULL || b == NULL || store_bad_msisdn(b->msisdn, op))
        return -1;
    pm = b->prompt_mode != NULL ? b->prompt_mode : octstr_imm("sms");
    dm = b->deliver_mode != NULL ? b->deliver_mode : octstr_imm("sms");
    if (b->mailbox_url == NULL || octstr_len(b->mailbox_url) == 0 ||
        !store_len_ok(b->mailbox_url, STORE_URL_MAX) ||
        !store_len_ok(b->smtp_url, STORE_URL_MAX) ||
        !store_len_ok(b->address, STORE_ADDRESS_MAX) ||
        !mode_ok(pm, "sms", "wap-push") || !mode_ok(dm, "sms", "mms")) {
        error(0, "store: %s for %s: bad mailbox URL, SMTP URL, address "
              "or mode", op, octstr_get_cstr(b->msisdn));
        return -1;
    }
    if (secret != NULL) {
        sealed = pm_secret_encrypt(s->key, secret);
        if (sealed == NULL) {
            error(0, "store: %s for %s: cannot encrypt the secret", op,
                  octstr_get_cstr(b->msisdn));
            return -1;
        }
    }

    c = store_tx_begin(s, op);
    if (c == NULL)
        goto out;
    found = store_lock_binding(s, c, b->msisdn, op, NULL, &old_url);
    if (found < 0)
        goto end;
    if (found == 0) {
        if (store_run(s, c, op, store_sqlf(s, "INSERT INTO pm_binding "
                      "(msisdn, mailbox_url, address, smtp_url, "
                      "prompt_mode, deliver_mode, paused, secret, created, "
                      "updated, mail_seq) VALUES (?, ?, ?, ?, ?, ?, %d, ?, "
                      "%ld, %ld, 0)", b->paused ? 1 : 0, now, now),
                      store_binds(7, b->msisdn, b->mailbox_url, b->address,
                                  b->smtp_url, pm, dm, sealed)) != 1)
            goto end;
    } else {
        Octstr *sql = store_sqlf(s, "UPDATE pm_binding SET mailbox_url = "
                                 "?, address = ?, smtp_url = ?, prompt_mode "
                                 "= ?, deliver_mode = ?, paused = %d, "
                                 "updated = %ld%s WHERE msisdn = ?",
                                 b->paused ? 1 : 0, now,
                                 sealed != NULL ? ", secret = ?" : "");
        List *binds = store_binds(5, b->mailbox_url, b->address,
                                  b->smtp_url, pm, dm);
        if (sealed != NULL)
            gwlist_append(binds, octstr_duplicate(sealed));
        gwlist_append(binds, octstr_duplicate(b->msisdn));
        if (store_run(s, c, op, sql, binds) < 0)
            goto end;
    }
    if ((found == 0 || old_url == NULL ||
         octstr_compare(old_url, b->mailbox_url) != 0) &&
        reset_mailbox_state(s, c, b->msisdn, op) < 0)
        goto end;
    if (bump_generation(s, c, op) < 0)
        goto end;
    ok = 1;
end:
    if (store_tx_end(s, c, ok, op) < 0)
        ok = 0;
out:
    if (!ok)
        error(0, "store: %s for %s failed", op, octstr_get_cstr(b->msisdn));
    octstr_destroy(old_url);
    octstr_destroy(sealed);
    return ok ? 0 : -1;
}

int store_binding_delete(Store *s, const Octstr *msisdn)
{
    const char *op = "binding delete";
    /* web view tokens go with the binding (the mails they name are
     * no longer this number's); queued MMs and mails stay until sent */
    const char *const tables[] = { "pm_mail", "pm_page", "pm_watch",
                                   "pm_token", "pm_binding" };
    DBPoolConn *c;
    int found, ok = 0;
    size_t i;

    if (s == NULL || store_bad_msisdn(msisdn, op))
        return -1;
    c = store_tx_begin(s, op);
    if (c == NULL)
        return -1;
    found = store_lock_binding(s, c, msisdn, op, NULL, NULL);
    if (found < 0)
        goto end;
    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        if (store_run(s, c, op, store_sqlf(s, "DELETE FROM %s WHERE "
                      "msisdn = ?", tables[i]), store_binds(1, msisdn)) < 0)
            goto end;
    if (found && bump_generation(s, c, op) < 0)
        goto end;
    ok = 1;
end:
    if (store_tx_end(s, c, ok, op) < 0 || !ok) {
        error(0, "store: %s for %s failed", op, octstr_get_cstr(msisdn));
        return -1;
    }
    return found;
}

StoreBinding *store_binding_get(Store *s, const Octstr *msisdn)
{
    List *rows;
    StoreBinding *b = NULL;

    if (s == NULL || !store_msisdn_ok(msisdn))
        return NULL;
    rows = store_query(s, "binding get", store_sqlf(s, "SELECT "
                       BINDING_COLS " FROM pm_binding WHERE msisdn = ?"),
                       store_binds(1, msisdn));
    if (rows != NULL && gwlist_len(rows) > 0)
        b = binding_from_row(gwlist_get(rows, 0));
    store_rows_destroy(rows);
    return b;
}

List *store_binding_list(Store *s)
{
    if (s == NULL)
        return NULL;
    return store_rows_to(store_query(s, "binding list", store_sqlf(s,
                         "SELECT " BINDING_COLS " FROM pm_binding ORDER BY "
                         "msisdn"), NULL), binding_row,
                         store_binding_destroy_item);
}

Octstr *store_binding_secret(Store *s, const Octstr *msisdn)
{
    List *rows;
    Octstr *plain = NULL, *err = NULL, *sealed;

    if (s == NULL || store_bad_msisdn(msisdn, "binding secret"))
        return NULL;
    rows = store_query(s, "binding secret", store_sqlf(s, "SELECT secret "
                       "FROM pm_binding WHERE msisdn = ?"),
                       store_binds(1, msisdn));
    if (rows == NULL || gwlist_len(rows) == 0) {
        store_rows_destroy(rows);
        return NULL;
    }
    sealed = gwlist_get(gwlist_get(rows, 0), 0);
    if (octstr_len(sealed) == 0) {
        warning(0, "store: binding %s has no stored secret",
                octstr_get_cstr(msisdn));
    } else {
        plain = pm_secret_decrypt(s->key, sealed, &err);
        if (plain == NULL)
            error(0, "store: cannot decrypt the secret of binding %s: %s",
                  octstr_get_cstr(msisdn), octstr_get_cstr(err));
    }
    octstr_destroy(err);
    store_rows_destroy(rows);
    return plain;
}

/*
 * Run `set` (an UPDATE of one binding's columns, msisdn bound last) in a
 * transaction with the generation bump.  1 changed, 0 unknown, -1 error.
 */
static int binding_update(Store *s, const Octstr *msisdn, const char *op,
                          Octstr *set, List *binds)
{
    DBPoolConn *c = store_tx_begin(s, op);
    int found = -1, ok = 0;

    if (c == NULL) {
        octstr_destroy(set);
        gwlist_destroy(binds, octstr_destroy_item);
        return -1;
    }
    found = store_lock_binding(s, c, msisdn, op, NULL, NULL);
    if (found == 1) {
        gwlist_append(binds, octstr_duplicate(msisdn));
        ok = store_run(s, c, op, set, binds) >= 0 &&
             bump_generation(s, c, op) == 0;
    } else {
        octstr_destroy(set);
        gwlist_destroy(binds, octstr_destroy_item);
        ok = found == 0;
    }
    if (store_tx_end(s, c, ok, op) < 0 || !ok) {
        error(0, "store: %s for %s failed", op, octstr_get_cstr(msisdn));
        return -1;
    }
    return found;
}

int store_binding_set_paused(Store *s, const Octstr *msisdn, int paused)
{
    if (s == NULL || store_bad_msisdn(msisdn, "binding pause"))
        return -1;
    return binding_update(s, msisdn, "binding pause", store_sqlf(s,
                          "UPDATE pm_binding SET paused = %d, updated = %ld "
                          "WHERE msisdn = ?", paused ? 1 : 0,
                          (long) time(NULL)), gwlist_create());
}

int store_binding_set_modes(Store *s, const Octstr *msisdn,
                            const char *prompt_mode,
                            const char *deliver_mode)
{
    const char *op = "binding set modes";
    Octstr *set;
    List *binds;

    if (s == NULL || store_bad_msisdn(msisdn, op))
        return -1;
    if ((prompt_mode != NULL && strcmp(prompt_mode, "sms") != 0 &&
         strcmp(prompt_mode, "wap-push") != 0) ||
        (deliver_mode != NULL && strcmp(deliver_mode, "sms") != 0 &&
         strcmp(deliver_mode, "mms") != 0)) {
        error(0, "store: %s for %s: unknown mode", op,
              octstr_get_cstr(msisdn));
        return -1;
    }
    set = store_sqlf(s, "UPDATE pm_binding SET updated = %ld%s%s WHERE "
                     "msisdn = ?", (long) time(NULL),
                     prompt_mode ? ", prompt_mode = ?" : "",
                     deliver_mode ? ", deliver_mode = ?" : "");
    binds = gwlist_create();
    if (prompt_mode != NULL)
        gwlist_append(binds, octstr_create(prompt_mode));
    if (deliver_mode != NULL)
        gwlist_append(binds, octstr_create(deliver_mode));
    return binding_update(s, msisdn, op, set, binds);
}

int store_binding_set_mail(Store *s, const Octstr *msisdn,
                           const Octstr *smtp_url, const Octstr *address)
{
    const char *op = "binding set mail";
    Octstr *set;
    List *binds;

    if (s == NULL || store_bad_msisdn(msisdn, op))
        return -1;
    if (!store_len_ok(smtp_url, STORE_URL_MAX) ||
        !store_len_ok(address, STORE_ADDRESS_MAX)) {
        error(0, "store: %s for %s: value too long", op,
              octstr_get_cstr(msisdn));
        return -1;
    }
    set = store_sqlf(s, "UPDATE pm_binding SET updated = %ld%s%s WHERE "
                     "msisdn = ?", (long) time(NULL),
                     smtp_url ? ", smtp_url = ?" : "",
                     address ? ", address = ?" : "");
    binds = gwlist_create();
    if (smtp_url != NULL)
        gwlist_append(binds, octstr_duplicate(smtp_url));
    if (address != NULL)
        gwlist_append(binds, octstr_duplicate(address));
    return binding_update(s, msisdn, op, set, binds);
}

long store_bindings_generation(Store *s)
{
    long v = -1;

    if (s == NULL ||
        store_query_long(s, "bindings generation", octstr_create("SELECT "
                         "value FROM pm_meta WHERE name = 'generation'"),
                         NULL, &v) != 0)
        return -1;
    return v;
}

long store_binding_count(Store *s)
{
    long v = -1;

    if (s == NULL ||
        store_query_long(s, "binding count", octstr_create("SELECT "
                         "COUNT(*) FROM pm_binding"), NULL, &v) != 0)
        return -1;
    return v;
}

void store_binding_destroy(StoreBinding *b)
{
    if (b == NULL)
        return;
    octstr_destroy(b->msisdn);
    octstr_destroy(b->mailbox_url);
    octstr_destroy(b->address);
    octstr_destroy(b->smtp_url);
    octstr_destroy(b->prompt_mode);
    octstr_destroy(b->deliver_mode);
    gw_free(b);
}

void store_binding_destroy_item(void *b)
{
    store_binding_destroy(b);
}

/* --- watch state ------------------------------------------------------- */

int store_watch_get(Store *s, const Octstr *msisdn, StoreWatch *w_r)
{
    List *rows, *row;
    int r = 0;

    if (w_r == NULL)
        return -1;
    memset(w_r, 0, sizeof(*w_r));
    if (s == NULL || store_bad_msisdn(msisdn, "watch get"))
        return -1;
    rows = store_query(s, "watch get", store_sqlf(s, "SELECT uidvalidity, "
                       "last_uid, uidls, caps, state, last_error FROM "
                       "pm_watch WHERE msisdn = ?"), store_binds(1, msisdn));
    if (rows == NULL)
        return -1;
    if (gwlist_len(rows) > 0) {
        row = gwlist_get(rows, 0);
        if (store_col_long(row, 0, &w_r->uidvalidity) < 0 ||
            store_col_long(row, 1, &w_r->last_uid) < 0) {
            error(0, "store: watch get for %s: malformed row in pm_watch",
                  octstr_get_cstr(msisdn));
            memset(w_r, 0, sizeof(*w_r));
            r = -1;
        } else {
            w_r->uidls = store_col_str(row, 2);
            w_r->caps = store_col_str(row, 3);
            w_r->state = store_col_str(row, 4);
            w_r->last_error = store_col_str(row, 5);
        }
    }
    store_rows_destroy(rows);
    return r;
}

void store_watch_clear(StoreWatch *w)
{
    if (w == NULL)
        return;
    octstr_destroy(w->uidls);
    octstr_destroy(w->caps);
    octstr_destroy(w->state);
    octstr_destroy(w->last_error);
    memset(w, 0, sizeof(*w));
}

int store_watch_set_baseline(Store *s, const Octstr *msisdn,
                             long uidvalidity, long last_uid,
                             const Octstr *uidls)
{
    const char *op = "watch set baseline";

    if (s == NULL || store_bad_msisdn(msisdn, op))
        return -1;
    if (!store_len_ok(uidls, STORE_UIDLS_MAX) || uidvalidity < 0 ||
        last_uid < 0) {
        error(0, "store: %s for %s: bad values", op,
              octstr_get_cstr(msisdn));
        return -1;
    }
    return store_exec(s, op, store_sqlf(s, "UPDATE pm_watch SET "
                      "uidvalidity = %ld, last_uid = %ld, uidls = ? WHERE "
                      "msisdn = ?", uidvalidity, last_uid),
                      store_binds(2, uidls, msisdn)) < 0 ? -1 : 0;
}

int store_watch_set_status(Store *s, const Octstr *msisdn,
                           const char *state, const Octstr *last_error,
                           const Octstr *caps)
{
    const char *op = "watch set status";
    Octstr *sql, *le;
    List *binds;

    if (s == NULL || store_bad_msisdn(msisdn, op))
        return -1;
    if ((state != NULL && strlen(state) > STORE_STATE_MAX) ||
        !store_len_ok(caps, STORE_CAPS_MAX)) {
        error(0, "store: %s for %s: value too long", op,
              octstr_get_cstr(msisdn));
        return -1;
    }
    if (state == NULL && last_error == NULL && caps == NULL)
        return 0;
    sql = store_sqlf(s, "UPDATE pm_watch SET msisdn = msisdn%s%s%s WHERE "
                     "msisdn = ?", state ? ", state = ?" : "",
                     last_error ? ", last_error = ?" : "",
                     caps ? ", caps = ?" : "");
    binds = gwlist_create();
    if (state != NULL)
        gwlist_append(binds, octstr_create(state));
    le = store_clean_text(last_error, STORE_ERROR_MAX);
    if (le != NULL)
        gwlist_append(binds, le);
    if (caps != NULL)
        gwlist_append(binds, octstr_duplicate(caps));
    gwlist_append(binds, octstr_duplicate(msisdn));
    return store_exec(s, op, sql, binds) < 0 ? -1 : 0;
}
