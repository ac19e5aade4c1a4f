/*
 * store-schema.c - create the store's tables and migrate them forward.
 *
 * Exports: store_schema_migrate() (see store-private.h).
 *
 * The version lives in pm_schema (one row, id 1).  Each version is a list
 * of generic statements (dialect tokens, see store-db.c); a new version
 * appends a list to `migrations` and never edits an old one.  Version 1
 * uses only CREATE TABLE IF NOT EXISTS with inline keys, so a migration
 * interrupted on MySQL (where DDL is not transactional) can simply run
 * again.  Secondary indexes are written as UNIQUE keys that include the
 * primary key, because inline non-unique indexes differ between
 * dialects and CREATE INDEX IF NOT EXISTS is not in MySQL.
 *
 * Limits: refuses a database whose version is newer than this code.
 * Logs: info() for each migration step; errors come back as text.
 */
#include "store-private.h"

static const char *const schema_v1[] = {
    "CREATE TABLE IF NOT EXISTS pm_meta ("
    " name {S:32} NOT NULL PRIMARY KEY,"
    " value {INT} NOT NULL){OPTS}",

    "INSERT {IGNORE} INTO pm_meta (name, value) VALUES ('generation', 0)",

    "CREATE TABLE IF NOT EXISTS pm_binding ("
    " msisdn {S:32} NOT NULL PRIMARY KEY,"
    " mailbox_url {S:1024} NOT NULL,"
    " address {S:320} NOT NULL,"
    " smtp_url {S:1024} NOT NULL,"
    " prompt_mode {S:16} NOT NULL,"
    " deliver_mode {S:16} NOT NULL,"
    " paused {INT} NOT NULL,"
    " secret {TEXT},"
    " created {INT} NOT NULL,"
    " updated {INT} NOT NULL,"
    " mail_seq {INT} NOT NULL){OPTS}",

    "CREATE TABLE IF NOT EXISTS pm_watch ("
    " msisdn {S:32} NOT NULL PRIMARY KEY,"
    " uidvalidity {INT} NOT NULL,"
    " last_uid {INT} NOT NULL,"
    " uidls {BIG},"
    " caps {TEXT},"
    " state {S:64} NOT NULL,"
    " last_error {TEXT}){OPTS}",

    "CREATE TABLE IF NOT EXISTS pm_mail ("
    " msisdn {S:32} NOT NULL,"
    " n {INT} NOT NULL,"
    " dkey {S:300} NOT NULL,"
    " uidvalidity {INT} NOT NULL,"
    " uid {INT} NOT NULL,"
    " uidl {S:255} NOT NULL,"
    " sender {TEXT},"
    " subject {TEXT},"
    " mdate {INT} NOT NULL,"
    " msize {INT} NOT NULL,"
    " prompt_state {INT} NOT NULL,"
    " PRIMARY KEY (msisdn, n),"
    " UNIQUE (msisdn, dkey),"
    " UNIQUE (prompt_state, msisdn, n)){OPTS}",

    "CREATE TABLE IF NOT EXISTS pm_page ("
    " msisdn {S:32} NOT NULL PRIMARY KEY,"
    " n {INT} NOT NULL,"
    " next_page {INT} NOT NULL){OPTS}",

    "CREATE TABLE IF NOT EXISTS pm_mt ("
    " seq {SERIAL},"
    " id {S:32} NOT NULL UNIQUE,"
    " msisdn {S:64} NOT NULL,"
    " sender {S:64} NOT NULL,"
    " body {TEXT},"
    " udh {TEXT},"
    " coding {INT} NOT NULL,"
    " kind {INT} NOT NULL,"
    " created {INT} NOT NULL,"
    " attempts {INT} NOT NULL,"
    " next_try {INT} NOT NULL,"
    " state {INT} NOT NULL,"
    " dlr_status {INT} NOT NULL,"
    " dlr_time {INT} NOT NULL,"
    " UNIQUE (state, seq),"
    " UNIQUE (msisdn, created, seq)){OPTS}",

    "CREATE TABLE IF NOT EXISTS pm_mo ("
    " seq {SERIAL},"
    " id {S:64} NOT NULL UNIQUE,"
    " msisdn {S:64} NOT NULL,"
    " receiver {S:64} NOT NULL,"
    " body {TEXT},"
    " received {INT} NOT NULL,"
    " done {INT} NOT NULL DEFAULT 0,"
    " UNIQUE (done, seq)){OPTS}",

    "CREATE TABLE IF NOT EXISTS pm_notice ("
    " msisdn {S:64} NOT NULL,"
    " kind {S:32} NOT NULL,"
    " last_at {INT} NOT NULL,"
    " PRIMARY KEY (msisdn, kind)){OPTS}",

    NULL
};

/*
 * Version 2: the MM outbound queue (GET as MMS, issue 3), web view
 * tokens (WAP push prompts) and the outbound mail queue (phones send
 * mail).  Large payloads are hex in {BIG} columns like pm_mt's bodies.
 */
static const char *const schema_v2[] = {
    "CREATE TABLE IF NOT EXISTS pm_mms ("
    " seq {SERIAL},"
    " id {S:32} NOT NULL UNIQUE,"
    " msisdn {S:32} NOT NULL,"
    " n {INT} NOT NULL,"
    " mmsc {S:64} NOT NULL,"
    " ctype {TEXT},"
    " body {BIG},"
    " subject {TEXT},"
    " created {INT} NOT NULL,"
    " attempts {INT} NOT NULL,"
    " next_try {INT} NOT NULL,"
    " state {INT} NOT NULL,"
    " message_id {S:255} NOT NULL,"
    " status_code {INT} NOT NULL,"
    " status_text {TEXT},"
    " report {S:32} NOT NULL,"
    " report_time {INT} NOT NULL,"
    " UNIQUE (state, seq),"
    " UNIQUE (message_id, seq),"
    " UNIQUE (msisdn, created, seq)){OPTS}",

    "CREATE TABLE IF NOT EXISTS pm_token ("
    " hash {S:64} NOT NULL PRIMARY KEY,"
    " msisdn {S:32} NOT NULL,"
    " n {INT} NOT NULL,"
    " created {INT} NOT NULL,"
    " expires {INT} NOT NULL,"
    " UNIQUE (msisdn, hash),"
    " UNIQUE (expires, hash)){OPTS}",

    "CREATE TABLE IF NOT EXISTS pm_outmail ("
    " seq {SERIAL},"
    " id {S:32} NOT NULL UNIQUE,"
    " msisdn {S:32} NOT NULL,"
    " origin {INT} NOT NULL,"
    " ref {S:255} NOT NULL,"
    " rcpts {TEXT},"
    " message {BIG},"
    " summary {TEXT},"
    " created {INT} NOT NULL,"
    " attempts {INT} NOT NULL,"
    " next_try {INT} NOT NULL,"
    " state {INT} NOT NULL,"
    " copy_state {INT} NOT NULL,"
    " last_error {TEXT},"
    " UNIQUE (state, seq),"
    " UNIQUE (ref, seq),"
    " UNIQUE (msisdn, created, seq)){OPTS}",

    NULL
};

/* migrations[v - 1] brings the schema from version v - 1 to v. */
static const char *const *const migrations[] = {
    schema_v1,
    schema_v2,
};

#define SCHEMA_LATEST ((long) (sizeof(migrations) / sizeof(migrations[0])))

static int run_version(Store *s, long v, Octstr **err_r)
{
    const char *const *stmt;
    DBPoolConn *c;
    int ok = 1;

    c = store_conn(s, "schema migration");
    if (c == NULL) {
        *err_r = octstr_create("no database connection for the schema "
                               "migration");
        return -1;
    }
    for (stmt = migrations[v - 1]; ok && *stmt != NULL; stmt++)
        if (store_run(s, c, "schema migration", store_sqlf(s, "%s", *stmt),
                      NULL) < 0)
            ok = 0;
    if (ok && store_run(s, c, "schema migration",
                        store_sqlf(s, "UPDATE pm_schema SET version = %ld "
                                   "WHERE id = 1 AND version = %ld",
                                   v, v - 1), NULL) < 0)
        ok = 0;
    store_conn_done(c);
    if (!ok) {
        *err_r = octstr_format("the database schema migration to version "
                               "%ld failed (see the database error above)",
                               v);
        return -1;
    }
    info(0, "store: database schema migrated to version %ld", v);
    return 0;
}

int store_schema_migrate(Store *s, Octstr **err_r)
{
    long version = 0, v;
    int r;

    *err_r = NULL;
    if (store_exec(s, "schema setup", store_sqlf(s,
            "CREATE TABLE IF NOT EXISTS pm_schema ("
            " id {INT} NOT NULL PRIMARY KEY,"
            " version {INT} NOT NULL){OPTS}"), NULL) < 0 ||
        store_exec(s, "schema setup", store_sqlf(s,
            "INSERT {IGNORE} INTO pm_schema (id, version) VALUES (1, 0)"),
            NULL) < 0) {
        *err_r = octstr_create("cannot create the pm_schema table (see "
                               "the database error above)");
        return -1;
    }
    r = store_query_long(s, "schema version", store_sqlf(s,
            "SELECT version FROM pm_schema WHERE id = 1"), NULL, &version);
    if (r != 0 || version < 0) {
        *err_r = octstr_create("cannot read the schema version from table "
                               "pm_schema");
        return -1;
    }
    if (version > SCHEMA_LATEST) {
        *err_r = octstr_format("the database has schema version %ld, newer "
                               "than this pushmail knows (%ld); upgrade "
                               "pushmail", version, SCHEMA_LATEST);
        return -1;
    }
    for (v = version + 1; v <= SCHEMA_LATEST; v++)
        if (run_version(s, v, err_r) < 0)
            return -1;
    return 0;
}
