/*
 * pm-cfg.h - pushmail configuration: our groups in a kannel.conf-style file.
 *
 * Exports: PmConfig, PmDbConf, PmMmscConf, pm_cfg_load(),
 * pm_cfg_mmsc_for(), pm_cfg_mmsc_by_id(), pm_cfg_destroy().
 *
 * pushmail.conf usually starts with `include = "/etc/kannel/kannel.conf"`
 * and adds `group = pushmail`.  Our groups and variables are declared in
 * pm-cfg.def and registered with Kannel's cfg_add_hooks() before
 * cfg_read(), the way sqlbox does it.  This is the only module that calls
 * cfg_get*(): everything else reads the typed, range-checked struct.
 *
 * Limits: every numeric variable is range-checked (see pm-cfg.def).
 * Logs: nothing; errors come back as text naming file, group and variable.
 */
#ifndef PM_CFG_H
#define PM_CFG_H

#include "gwlib/gwlib.h"

enum pm_db_type { PM_DB_SQLITE3 = 0, PM_DB_MYSQL = 1 };

/* A database connection, from Kannel's sqlite3-connection or
 * mysql-connection group named by `db-id`. */
typedef struct {
    enum pm_db_type type;
    Octstr *id;
    Octstr *file;           /* sqlite3: database file */
    long lock_timeout;      /* sqlite3: busy timeout, seconds */
    int sync_full;          /* sqlite3: fsync every commit (db-sync full) */
    Octstr *host;           /* mysql */
    long port;              /* mysql, 0 = default */
    Octstr *username;       /* mysql */
    Octstr *password;       /* mysql; never logged */
    Octstr *database;       /* mysql */
    long max_connections;   /* pool size, default 4 */
} PmDbConf;

/*
 * One `group = pushmail-mmsc`: an MMSC we submit MMs to (type mm7: an MM7
 * server such as Mbuni's MMSC; type mmsbox: Mbuni mmsbox's sendmms) and
 * our MM7 endpoint for its reports and MOs.  Fields are the rows of
 * pm-mmsc.def (Octstr* text, long numbers); README documents them.
 * content-class image-basic / image-rich set max-message-size and
 * max-width/height to the OMA MMS 1.2 values (30 KB 160x120, 100 KB
 * 640x480) unless those are given.  Passwords may be written sealed
 * ("enc:v1:...", see `pushmail-admin seal`).
 */
typedef struct {
#define PM_STR(name, field, def) Octstr *field;
#define PM_LONG(name, field, def, min, max) long field;
#define PM_BOOL(name, field, def) int field;
#include "pm-mmsc.def"
#undef PM_STR
#undef PM_LONG
#undef PM_BOOL
} PmMmscConf;

typedef struct {
    Octstr *conf_file;          /* the file we read */

    /* bearerbox link */
    Octstr *smsbox_id;          /* required */
    Octstr *bearerbox_host;     /* default 127.0.0.1 */
    long bearerbox_port;        /* default: core.smsbox-port */
    int bearerbox_ssl;          /* default: core.smsbox-port-ssl */
    Octstr *global_sender;      /* required: prompts come from it */
    long dlr_mask;              /* default 19: delivered, failed, smsc nack */

    /* store */
    Octstr *db_type;            /* "sqlite3" (default) or "mysql" */
    Octstr *db_id;              /* id of the connection group */
    Octstr *db_sync;            /* SQLite: "full" (default) or "normal" */
    PmDbConf db;
    Octstr *secret_key_file;    /* required */

    /* mail side */
    long poll_interval;         /* seconds, STATUS/UIDL polling, default 60 */
    long idle_refresh;          /* seconds, re-IDLE, default 600 */
    long connect_timeout;       /* seconds, default 30 */
    Octstr *ca_file;            /* NULL = system default CA store */
    long max_mail_size;         /* bytes fetched for GET, default 10 MB */

    /* phone-facing */
    Octstr *country_code;       /* e.g. "46"; NULL = only +E.164 accepted */
    Octstr *national_prefix;    /* default "0" */
    long page_segments;         /* SMS segments per GET/MORE page, def. 3 */
    long list_count;            /* mails in LIST, default 5 */
    long coalesce_window;       /* s a burst shares one prompt, def. 5 */
    long not_subscribed_interval; /* seconds between replies, def. 86400 */
    long auth_notice_interval;  /* seconds between auth-failure SMS, 86400 */
    long sms_budget;            /* MT per number per hour, default 60 */
    long reload_interval;       /* seconds between binding checks, def. 2 */
    int trim_quotes;            /* trim quoted history, signature; def. 1 */

    /* operations */
    Octstr *log_file;           /* NULL = stderr only */
    long log_level;             /* 0..5, default 0 */
    long admin_port;            /* 0 = no admin listener */
    Octstr *admin_interface;    /* default 127.0.0.1 */
    Octstr *admin_password;     /* required when admin-port is set */
    Octstr *admin_allow_ip;     /* default 127.0.0.1;::1 */
    Octstr *admin_deny_ip;      /* default: none */
    Octstr *pid_file;           /* optional */

    /* web view and WAP push prompts */
    long http_port;             /* 0 = no web view (text prompts only) */
    Octstr *http_interface;     /* default 127.0.0.1 */
    Octstr *http_allow_ip;      /* default 127.0.0.1;::1 */
    Octstr *http_deny_ip;       /* default: none */
    Octstr *public_url;         /* base URL phones reach; default
                                 * http://<http-interface>:<http-port> */
    long view_lifetime;         /* seconds a view link works, def. 7 days */
    Octstr *wap_push_via;       /* "sms" (default) or "ppg" */
    Octstr *ppg_url;            /* Kannel PPG push URL (wap-push-via ppg) */
    Octstr *ppg_username;
    Octstr *ppg_password;       /* never logged */

    /* phones send mail */
    int save_sent;              /* APPEND a copy to sent-folder, def. yes */
    Octstr *sent_folder;        /* default "Sent" */
    int send_confirm;           /* "Sent to ..." SMS, default yes */
    long send_budget;           /* mails per number per hour, default 20 */
    long subject_words;         /* SEND: subject = first N words, def. 6 */
    long send_retry_time;       /* give a queued mail up after, def. 1 d */

    /* MMSCs: List of PmMmscConf*, in file order; never NULL */
    List *mmscs;
} PmConfig;

/*
 * Read `filename` (and what it includes).  Returns a new PmConfig, or NULL
 * with *err_r set to a new Octstr naming the file, group and variable at
 * fault.  Caller owns both.  Must be called after gwlib_init(); not
 * thread-safe (Kannel's cfg hooks are global).
 */
PmConfig *pm_cfg_load(Octstr *filename, Octstr **err_r);

/* The MMSC that serves msisdn (first whose allowed-prefix matches, or
 * that has none), or NULL.  Borrowed from cfg. */
const PmMmscConf *pm_cfg_mmsc_for(const PmConfig *cfg, const Octstr *msisdn);

/* The MMSC group with this id, or NULL.  Borrowed from cfg. */
const PmMmscConf *pm_cfg_mmsc_by_id(const PmConfig *cfg, const Octstr *id);

/* Free a PmConfig; NULL is fine. */
void pm_cfg_destroy(PmConfig *cfg);

#endif
