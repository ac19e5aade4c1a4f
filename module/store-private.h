/*
 * store-private.h - internals shared by store.c, store-mail.c,
 * store-queue.c, store-db.c and store-schema.c.  Not for other modules.
 *
 * Exports: struct Store; the dialect helper store_sqlf(); query helpers
 * that log failures; column readers that distrust every row; the schema
 * migration entry point.
 *
 * SQL conventions: strings are always '?' binds.  Integers are C longs
 * printed into the SQL text by the store itself: Kannel's sqlite3 driver
 * binds every value as text, and only integer literals give the same
 * typing (comparisons, MAX, LIMIT) in SQLite and MySQL.  Generic SQL
 * uses {TOKENS} that store_sqlf() maps to each dialect (see store-db.c).
 */
#ifndef STORE_PRIVATE_H
#define STORE_PRIVATE_H

#include "gwlib/gwlib.h"
#include "gwlib/dbpool.h"
#include "pm-cfg.h"
#include "pm-secret.h"
#include "store.h"

struct Store {
    DBPool *pool;
    enum pm_db_type type;
    PmSecretKey *key;
};

/* Column limits, checked before any write (MySQL strict mode would
 * refuse longer values, SQLite would accept them: same behaviour). */
#define STORE_MSISDN_MAX 32         /* bound numbers, "+" and digits */
#define STORE_PEER_MAX 64           /* MT/MO numbers, ids, senders */
#define STORE_URL_MAX 1024
#define STORE_ADDRESS_MAX 320
#define STORE_UIDL_MAX 255
#define STORE_SENDER_MAX 512        /* longer values are cut */
#define STORE_SUBJECT_MAX 1024      /* longer values are cut */
#define STORE_STATE_MAX 64
#define STORE_ERROR_MAX 1000        /* longer values are cut */
#define STORE_CAPS_MAX 16000
#define STORE_UIDLS_MAX (15L * 1024 * 1024)
#define STORE_BODY_MAX 16000        /* MT/MO text, bytes before hex */
#define STORE_UDH_MAX 512
#define STORE_KIND_MAX 32

/* --- store-db.c: dialect and queries ---------------------------------- */

/*
 * Format generic SQL (printf-style, use only for integers and fixed
 * text), then map the dialect tokens:
 *   {S:n} short string   SQLite TEXT     MySQL VARBINARY(n)
 *   {TEXT} long string   SQLite TEXT     MySQL BLOB
 *   {BIG} huge string    SQLite TEXT     MySQL MEDIUMBLOB
 *   {INT}                SQLite INTEGER  MySQL BIGINT
 *   {SERIAL} row number primary key (autoincrement)
 *   {OPTS} table options ("" or " ENGINE=InnoDB")
 *   {IGNORE} in INSERT {IGNORE} INTO: "OR IGNORE" / "IGNORE"
 *   {LOCK} after a SELECT in a transaction: "" / " FOR UPDATE"
 * Returns a new Octstr.
 */
Octstr *store_sqlf(const Store *s, const char *fmt, ...)
    PRINTFLIKE(2, 3);

/* A bind list of `n` Octstr copies; NULL arguments bind as "". */
List *store_binds(int n, ...);

/*
 * Rows to a List of typed items made by from_row (NULL for a malformed
 * row); NULL if any row is malformed (the items made so far are freed
 * with destroy).  Takes ownership of rows.
 */
List *store_rows_to(List *rows, void *(*from_row)(List *row),
                    gwlist_item_destructor_t *destroy);

/* Take a connection from the pool; NULL (logged) if there is none. */
DBPoolConn *store_conn(Store *s, const char *op);
void store_conn_done(DBPoolConn *c);

/*
 * Run an INSERT/UPDATE/DELETE.  Takes ownership of sql and binds.
 * Returns affected rows, or -1 after an error() naming `op`.
 */
long store_run(Store *s, DBPoolConn *c, const char *op, Octstr *sql,
               List *binds);

/*
 * Run a SELECT.  Takes ownership of sql and binds.  Returns a List of
 * rows (each a List of Octstr*), free with store_rows_destroy(); NULL
 * after an error() naming `op`.
 */
List *store_rows(Store *s, DBPoolConn *c, const char *op, Octstr *sql,
                 List *binds);
void store_rows_destroy(List *rows);

/* The same with a connection of their own. */
long store_exec(Store *s, const char *op, Octstr *sql, List *binds);
List *store_query(Store *s, const char *op, Octstr *sql, List *binds);

/*
 * First column of the first row as a number: 0 and *v_r set, 1 when
 * there is no row, -1 on error (logged).
 */
int store_query_long(Store *s, const char *op, Octstr *sql, List *binds,
                     long *v_r);

/*
 * Start a write transaction on a connection of its own (BEGIN IMMEDIATE
 * in SQLite; READ COMMITTED + START TRANSACTION in MySQL).  NULL on
 * error (logged).  store_tx_end() commits when ok is true, else rolls
 * back, and returns the connection; it returns 0, or -1 if the commit
 * failed (logged, then rolled back).
 */
DBPoolConn *store_tx_begin(Store *s, const char *op);
int store_tx_end(Store *s, DBPoolConn *c, int ok, const char *op);

/*
 * An UPDATE that must report "row found" the same way in both dialects
 * (MySQL counts only rows whose values changed).  `exists_sql` is a
 * SELECT COUNT(*) with the same WHERE; takes ownership of everything.
 * Returns 1 found, 0 not found, -1 error.
 */
int store_update_found(Store *s, const char *op, Octstr *sql, List *binds,
                       Octstr *exists_sql, List *exists_binds);

/* --- store-db.c: reading rows ------------------------------------------ */

/* Column i as a long: 0 ok, -1 missing or not a decimal number. */
int store_col_long(List *row, long i, long *v_r);

/* Column i copied; NULL when empty or missing. */
Octstr *store_col_str(List *row, long i);

/* Column i hex-decoded: 0 ok (*v_r NULL when empty), -1 malformed. */
int store_col_hex(List *row, long i, Octstr **v_r);

/* Hex of `bin` (lower case), "" for NULL. */
Octstr *store_hex(const Octstr *bin);

/* 1 if `s` (may be NULL) is at most `max` bytes. */
int store_len_ok(const Octstr *s, long max);

/* A copy of `in` cut to `max` bytes at a UTF-8 boundary, with control
 * bytes (< 0x20, 0x7f) replaced by spaces; NULL for NULL. */
Octstr *store_clean_text(const Octstr *in, long max);

/* --- store-db.c: keys and locks --------------------------------------- */

/* 1 if id is a queue id: 32 lower-case hex digits (store_new_id()). */
int store_id_ok(const Octstr *id);

/* 1 if m is "+" and 1..STORE_MSISDN_MAX-1 digits. */
int store_msisdn_ok(const Octstr *m);

/* Log (naming op) and return 1 if msisdn is unusable as a key. */
int store_bad_msisdn(const Octstr *msisdn, const char *op);

/*
 * In a transaction: lock the binding row of msisdn (first, always: the
 * store's lock order).  *seq_r gets mail_seq, *url_r a copy of the
 * mailbox URL (either may be NULL).  1 exists, 0 none, -1 error.
 */
int store_lock_binding(Store *s, DBPoolConn *c, const Octstr *msisdn,
                       const char *op, long *seq_r, Octstr **url_r);

/* --- store-schema.c ---------------------------------------------------- */

/*
 * Create the schema or migrate it forward to the version this code
 * knows.  Returns 0, or -1 with *err_r set (new Octstr).
 */
int store_schema_migrate(Store *s, Octstr **err_r);

#endif
