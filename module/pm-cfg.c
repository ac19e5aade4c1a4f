/*
 * pm-cfg.c - load pushmail.conf into a typed, range-checked PmConfig.
 *
 * Exports: pm_cfg_load(), pm_cfg_destroy().
 *
 * Kannel's cfg panics on groups it does not know unless hooks say they
 * are allowed, so we register our group from pm-cfg.def with
 * cfg_add_hooks() before cfg_read().  Kannel's own groups (core,
 * sqlite3-connection, mysql-connection, ...) come from an `include` of
 * kannel.conf or may be written into pushmail.conf directly.
 *
 * Limits: numeric variables are range-checked; text values are at most
 * 1024 bytes.  Logs nothing: every error is returned as one sentence
 * naming the file, the group and the variable.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include "pm-cfg.h"
#include "pm-secret.h"

#define PM_GROUP_NAME "pushmail"
#define PM_MMSC_GROUP "pushmail-mmsc"
#define PM_SEALED_PREFIX "enc:"
#define PM_MAX_VALUE 1024

/* Kannel calls these for groups it does not know; -1 = not ours. */
static int pm_cfg_is_allowed(Octstr *group, Octstr *variable)
{
    int ours = octstr_str_compare(group, PM_GROUP_NAME) == 0;
    int mmsc = octstr_str_compare(group, PM_MMSC_GROUP) == 0;

    if (!ours && !mmsc)
        return -1;
    if (octstr_str_compare(variable, "group") == 0)
        return 1;
#define PM_STR(name, field, def) \
    if (octstr_str_compare(variable, #name) == 0) return 1;
#define PM_LONG(name, field, def, min, max) PM_STR(name, field, def)
#define PM_BOOL(name, field, def) PM_STR(name, field, def)
    if (ours) {
#include "pm-cfg.def"
    } else {
#include "pm-mmsc.def"
    }
#undef PM_STR
#undef PM_LONG
#undef PM_BOOL
    return 0;
}

/* Kannel adds up the answers of all single-group hooks: 0 = not ours. */
static int pm_cfg_is_single(Octstr *group)
{
    return octstr_str_compare(group, PM_GROUP_NAME) == 0;
}

static Octstr *pm_cfg_error(const PmConfig *c, const char *group,
                            const char *var, const char *fmt, ...)
{
    Octstr *msg, *detail;
    va_list ap;

    va_start(ap, fmt);
    detail = octstr_format_valist(fmt, ap);
    va_end(ap);
    msg = octstr_format("%S: group '%s', variable '%s': %S",
                        c->conf_file, group, var, detail);
    octstr_destroy(detail);
    return msg;
}

static int pm_cfg_get_str(CfgGroup *grp, const char *gname, const char *name,
                          const char *def, Octstr **out, const PmConfig *c,
                          Octstr **err_r)
{
    Octstr *v = cfg_get(grp, octstr_imm(name));

    if (v == NULL) {
        *out = def ? octstr_create(def) : NULL;
        return 0;
    }
    octstr_strip_blanks(v);
    if (octstr_len(v) > PM_MAX_VALUE) {
        *err_r = pm_cfg_error(c, gname, name,
                              "value longer than %d bytes", PM_MAX_VALUE);
        octstr_destroy(v);
        return -1;
    }
    *out = v;
    return 0;
}

static int pm_cfg_get_long(CfgGroup *grp, const char *gname,
                           const char *name, long def, long min, long max,
                           long *out, const PmConfig *c, Octstr **err_r)
{
    Octstr *v = cfg_get(grp, octstr_imm(name));
    long n;
    char *end;

    if (v == NULL) {
        *out = def;
        return 0;
    }
    octstr_strip_blanks(v);
    errno = 0;
    n = strtol(octstr_get_cstr(v), &end, 10);
    if (octstr_len(v) == 0 || *end != '\0' || errno != 0
        || n < min || n > max) {
        *err_r = pm_cfg_error(c, gname, name,
                              "'%S' is not a number from %ld to %ld",
                              v, min, max);
        octstr_destroy(v);
        return -1;
    }
    octstr_destroy(v);
    *out = n;
    return 0;
}

static int pm_cfg_get_bool(CfgGroup *grp, const char *gname,
                           const char *name, int def, int *out,
                           const PmConfig *c, Octstr **err_r)
{
    static const char *yes[] = { "yes", "true", "on", "1", NULL };
    static const char *no[] = { "no", "false", "off", "0", NULL };
    Octstr *v = cfg_get(grp, octstr_imm(name));
    int i, found = 0;

    if (v == NULL) {
        *out = def;
        return 0;
    }
    octstr_strip_blanks(v);
    for (i = 0; yes[i] != NULL && !found; i++) {
        if (octstr_case_compare(v, octstr_imm(yes[i])) == 0) {
            *out = 1;
            found = 1;
        } else if (octstr_case_compare(v, octstr_imm(no[i])) == 0) {
            *out = 0;
            found = 1;
        }
    }
    if (!found) {
        *err_r = pm_cfg_error(c, gname, name,
                              "'%S' is not yes or no", v);
        octstr_destroy(v);
        return -1;
    }
    octstr_destroy(v);
    return 0;
}

static int pm_cfg_load_group(PmConfig *c, CfgGroup *grp, Octstr **err_r)
{
#define PM_STR(name, field, def) \
    if (pm_cfg_get_str(grp, PM_GROUP_NAME, #name, def, &c->field, c, \
                       err_r) < 0) \
        return -1;
#define PM_LONG(name, field, def, min, max) \
    if (pm_cfg_get_long(grp, PM_GROUP_NAME, #name, def, min, max, \
                        &c->field, c, err_r) < 0) \
        return -1;
#define PM_BOOL(name, field, def) \
    if (pm_cfg_get_bool(grp, PM_GROUP_NAME, #name, def, &c->field, c, \
                        err_r) < 0) \
        return -1;
#include "pm-cfg.def"
#undef PM_STR
#undef PM_LONG
#undef PM_BOOL
    return 0;
}

/* Fill c->db from the Kannel connection group whose id is c->db_id. */
static int pm_cfg_load_db(PmConfig *c, Cfg *cfg, Octstr **err_r)
{
    const char *gname;
    List *groups;
    CfgGroup *grp = NULL;
    long i, n;

    if (octstr_str_compare(c->db_type, "sqlite3") == 0) {
        c->db.type = PM_DB_SQLITE3;
        gname = "sqlite3-connection";
    } else if (octstr_str_compare(c->db_type, "mysql") == 0) {
        c->db.type = PM_DB_MYSQL;
        gname = "mysql-connection";
    } else {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "db-type",
                              "'%S' is not sqlite3 or mysql", c->db_type);
        return -1;
    }
    if (c->db_id == NULL) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "db-id",
                              "missing: name the id of a '%s' group", gname);
        return -1;
    }
    groups = cfg_get_multi_group(cfg, octstr_imm(gname));
    for (i = 0; groups != NULL && i < gwlist_len(groups); i++) {
        CfgGroup *g = gwlist_get(groups, i);
        Octstr *id = cfg_get(g, octstr_imm("id"));

        if (id != NULL && octstr_compare(id, c->db_id) == 0)
            grp = g;
        octstr_destroy(id);
        if (grp != NULL)
            break;
    }
    gwlist_destroy(groups, NULL);
    if (grp == NULL) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "db-id",
                              "no '%s' group has id '%S'", gname, c->db_id);
        return -1;
    }
    c->db.id = octstr_duplicate(c->db_id);
    c->db.max_connections = 4;
    if (cfg_get_integer(&n, grp, octstr_imm("max-connections")) == 0) {
        if (n < 1 || n > 64) {
            *err_r = pm_cfg_error(c, gname, "max-connections",
                                  "%ld is not from 1 to 64", n);
            return -1;
        }
        c->db.max_connections = n;
    }
    if (c->db.type == PM_DB_SQLITE3) {
        if (octstr_str_compare(c->db_sync, "full") == 0) {
            c->db.sync_full = 1;
        } else if (octstr_str_compare(c->db_sync, "normal") != 0) {
            *err_r = pm_cfg_error(c, PM_GROUP_NAME, "db-sync",
                                  "'%S' is not full or normal", c->db_sync);
            return -1;
        }
        c->db.file = cfg_get(grp, octstr_imm("database"));
        if (c->db.file == NULL) {
            *err_r = pm_cfg_error(c, gname, "database",
                                  "missing: the SQLite database file");
            return -1;
        }
        c->db.lock_timeout = 5;
        if (cfg_get_integer(&n, grp, octstr_imm("lock-timeout")) == 0) {
            if (n < 1 || n > 600) {
                *err_r = pm_cfg_error(c, gname, "lock-timeout",
                                      "%ld is not from 1 to 600", n);
                return -1;
            }
            c->db.lock_timeout = n;
        }
        return 0;
    }
    c->db.host = cfg_get(grp, octstr_imm("host"));
    c->db.username = cfg_get(grp, octstr_imm("username"));
    c->db.password = cfg_get(grp, octstr_imm("password"));
    c->db.database = cfg_get(grp, octstr_imm("database"));
    if (cfg_get_integer(&n, grp, octstr_imm("port")) == 0)
        c->db.port = n;
    if (c->db.host == NULL || c->db.username == NULL
        || c->db.database == NULL) {
        *err_r = pm_cfg_error(c, gname, c->db.host == NULL ? "host" :
                              c->db.username == NULL ? "username" :
                              "database", "missing");
        return -1;
    }
    if (c->db.password == NULL)
        c->db.password = octstr_create("");
    return 0;
}

static int pm_cfg_check(PmConfig *c, Cfg *cfg, Octstr **err_r)
{
    CfgGroup *core;
    long n;

    if (c->smsbox_id == NULL || octstr_len(c->smsbox_id) == 0) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "smsbox-id", "missing");
        return -1;
    }
    if (c->global_sender == NULL || octstr_len(c->global_sender) == 0) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "global-sender",
                              "missing: the short code prompts come from");
        return -1;
    }
    if (octstr_len(c->global_sender) > 20
        || octstr_search_char(c->global_sender, ' ', 0) >= 0) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "global-sender",
                              "'%S' is not a short code or number (at "
                              "most 20 characters, no spaces)",
                              c->global_sender);
        return -1;
    }
    if (c->secret_key_file == NULL) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "secret-key-file",
                              "missing: create one with "
                              "'head -c 32 /dev/urandom > pushmail.key'");
        return -1;
    }
    if (c->bearerbox_port == 0) {
        core = cfg_get_single_group(cfg, octstr_imm("core"));
        if (core == NULL
            || cfg_get_integer(&n, core, octstr_imm("smsbox-port")) < 0) {
            *err_r = pm_cfg_error(c, PM_GROUP_NAME, "bearerbox-port",
                                  "missing, and no core group with "
                                  "smsbox-port to default to");
            return -1;
        }
        c->bearerbox_port = n;
        if (!c->bearerbox_ssl)
            cfg_get_bool(&c->bearerbox_ssl, core,
                         octstr_imm("smsbox-port-ssl"));
    }
    if (c->admin_port != 0 && (c->admin_password == NULL
                               || octstr_len(c->admin_password) == 0)) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "admin-password",
                              "missing: required when admin-port is set");
        return -1;
    }
    if (c->country_code != NULL
        && (octstr_len(c->country_code) == 0
            || octstr_len(c->country_code) > 3
            || !octstr_check_range(c->country_code, 0,
                                   octstr_len(c->country_code),
                                   gw_isdigit))) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "country-code",
                              "'%S' is not 1 to 3 digits", c->country_code);
        return -1;
    }
    return pm_cfg_load_db(c, cfg, err_r);
}

static void pm_cfg_mmsc_destroy(void *p)
{
    PmMmscConf *m = p;

    if (m == NULL)
        return;
#define PM_STR(name, field, def) octstr_destroy(m->field);
#define PM_LONG(name, field, def, min, max)
#define PM_BOOL(name, field, def)
#include "pm-mmsc.def"
#undef PM_STR
#undef PM_LONG
#undef PM_BOOL
    gw_free(m);
}

/* 1 if `list` is empty or ";"-separated "+digits" prefixes. */
static int pm_cfg_prefixes_ok(const Octstr *list)
{
    List *items = octstr_split(list, octstr_imm(";"));
    Octstr *p;
    int ok = gwlist_len(items) > 0;

    while ((p = gwlist_extract_first(items)) != NULL) {
        octstr_strip_blanks(p);
        if (octstr_len(p) < 2 || octstr_get_char(p, 0) != '+'
            || octstr_len(p) > 16
            || !octstr_check_range(p, 1, octstr_len(p) - 1, gw_isdigit))
            ok = 0;
        octstr_destroy(p);
    }
    gwlist_destroy(items, NULL);
    return ok;
}

/* 1..max printable ASCII bytes, no blanks. */
static int pm_cfg_word_ok(const Octstr *v, long max)
{
    long i;

    if (v == NULL || octstr_len(v) == 0 || octstr_len(v) > max)
        return 0;
    for (i = 0; i < octstr_len(v); i++)
        if (octstr_get_char(v, i) <= 0x20 || octstr_get_char(v, i) >= 0x7f)
            return 0;
    return 1;
}

static int pm_cfg_url_ok(const Octstr *url)
{
    return url != NULL && (octstr_search(url, octstr_imm("http://"), 0) == 0
                           || octstr_search(url, octstr_imm("https://"),
                                            0) == 0)
           && octstr_search_char(url, ' ', 0) < 0;
}

/* The checks of one pushmail-mmsc group (all but id uniqueness). */
static int pm_cfg_check_mmsc(const PmConfig *c, PmMmscConf *m,
                             Octstr **err_r)
{
    const char *g = PM_MMSC_GROUP;
    int given_size = m->max_message_size != 307200;

    if (m->id == NULL || octstr_len(m->id) == 0 || octstr_len(m->id) > 64
        || octstr_search_char(m->id, ' ', 0) >= 0) {
        *err_r = pm_cfg_error(c, g, "id", "missing or not a word of at "
                              "most 64 characters");
        return -1;
    }
    if (octstr_str_compare(m->type, "mm7") != 0
        && octstr_str_compare(m->type, "mmsbox") != 0) {
        *err_r = pm_cfg_error(c, g, "type", "'%S' is not mm7 or mmsbox "
                              "(group id '%S')", m->type, m->id);
        return -1;
    }
    if (!pm_cfg_url_ok(m->mmsc_url)) {
        *err_r = pm_cfg_error(c, g, "mmsc-url", "missing or not an http:// "
                              "or https:// URL (group id '%S')", m->id);
        return -1;
    }
    if (m->sender_address != NULL && !pm_cfg_word_ok(m->sender_address, 64)) {
        *err_r = pm_cfg_error(c, g, "sender-address", "'%S' is not a short "
                              "code, +number or address (group id '%S')",
                              m->sender_address, m->id);
        return -1;
    }
    if (!pm_cfg_word_ok(m->mm7_version, 16)
        || !pm_cfg_word_ok(m->mm7_xmlns, 256)) {
        *err_r = pm_cfg_error(c, g, pm_cfg_word_ok(m->mm7_version, 16) ?
                              "mm7-xmlns" : "mm7-version", "empty, too long "
                              "or not printable without blanks (group id "
                              "'%S')", m->id);
        return -1;
    }
    if (octstr_str_compare(m->type, "mm7") == 0
        && (m->sender_address == NULL || octstr_len(m->sender_address) == 0)) {
        *err_r = pm_cfg_error(c, g, "sender-address", "missing: the short "
                              "code the MMSC knows as ours, so that delivery "
                              "reports come back (group id '%S')", m->id);
        return -1;
    }
    if (m->incoming_port != 0
        && (m->incoming_username == NULL || m->incoming_password == NULL
            || octstr_len(m->incoming_username) == 0
            || octstr_len(m->incoming_password) == 0)) {
        *err_r = pm_cfg_error(c, g, m->incoming_username == NULL ?
                              "incoming-username" : "incoming-password",
                              "missing: required when incoming-port is set "
                              "(group id '%S')", m->id);
        return -1;
    }
    if (m->allowed_prefix != NULL && !pm_cfg_prefixes_ok(m->allowed_prefix)) {
        *err_r = pm_cfg_error(c, g, "allowed-prefix", "'%S' is not a list of "
                              "+digits prefixes separated by ';'",
                              m->allowed_prefix);
        return -1;
    }
    if (m->dlr_url != NULL && !pm_cfg_url_ok(m->dlr_url)) {
        *err_r = pm_cfg_error(c, g, "dlr-url", "'%S' is not an http:// or "
                              "https:// URL", m->dlr_url);
        return -1;
    }
    if (m->content_class != NULL) {
        /* OMA MMS 1.2 content classes (INTEGRATION.md) */
        if (octstr_str_compare(m->content_class, "image-basic") == 0
            || octstr_str_compare(m->content_class, "text") == 0) {
            if (!given_size)
                m->max_message_size = 30 * 1024;
            if (m->max_width == 640 && m->max_height == 480) {
                m->max_width = 160;
                m->max_height = 120;
            }
        } else if (octstr_str_compare(m->content_class, "image-rich") == 0) {
            if (!given_size)
                m->max_message_size = 100 * 1024;
        } else {
            *err_r = pm_cfg_error(c, g, "content-class", "'%S' is not text, "
                                  "image-basic or image-rich",
                                  m->content_class);
            return -1;
        }
    }
    return 0;
}

static int pm_cfg_load_mmscs(PmConfig *c, Cfg *cfg, Octstr **err_r)
{
    List *groups = cfg_get_multi_group(cfg, octstr_imm(PM_MMSC_GROUP));
    long i, j;
    int ok = 1;

    c->mmscs = gwlist_create();
    for (i = 0; ok && groups != NULL && i < gwlist_len(groups); i++) {
        CfgGroup *grp = gwlist_get(groups, i);
        PmMmscConf *m = gw_malloc(sizeof(*m));

        memset(m, 0, sizeof(*m));
        gwlist_append(c->mmscs, m);
#define PM_STR(name, field, def) \
        if (ok && pm_cfg_get_str(grp, PM_MMSC_GROUP, #name, def, &m->field, \
                                 c, err_r) < 0) \
            ok = 0;
#define PM_LONG(name, field, def, min, max) \
        if (ok && pm_cfg_get_long(grp, PM_MMSC_GROUP, #name, def, min, max, \
                                  &m->field, c, err_r) < 0) \
            ok = 0;
#define PM_BOOL(name, field, def)
#include "pm-mmsc.def"
#undef PM_STR
#undef PM_LONG
#undef PM_BOOL
        if (ok && pm_cfg_check_mmsc(c, m, err_r) < 0)
            ok = 0;
        /* gwlib keeps one listener per port number: a second open of a
         * port breaks the first */
        if (ok && m->incoming_port != 0
            && (m->incoming_port == c->admin_port
                || m->incoming_port == c->http_port)) {
            *err_r = pm_cfg_error(c, PM_MMSC_GROUP, "incoming-port", "%ld "
                                  "is also admin-port or http-port",
                                  m->incoming_port);
            ok = 0;
        }
        for (j = 0; ok && j < gwlist_len(c->mmscs) - 1; j++) {
            PmMmscConf *o = gwlist_get(c->mmscs, j);

            if (octstr_compare(o->id, m->id) == 0) {
                *err_r = pm_cfg_error(c, PM_MMSC_GROUP, "id", "'%S' is used "
                                      "by two groups", m->id);
                ok = 0;
            } else if (m->incoming_port != 0
                       && o->incoming_port == m->incoming_port) {
                *err_r = pm_cfg_error(c, PM_MMSC_GROUP, "incoming-port",
                                      "%ld is used by two groups",
                                      m->incoming_port);
                ok = 0;
            }
        }
    }
    gwlist_destroy(groups, NULL);
    return ok ? 0 : -1;
}

/*
 * Unseal one value written as "enc:v1:..." (pushmail-admin seal): the
 * configuration file then holds no password in clear.  *key_r is loaded
 * on first need.  0 ok (value replaced), -1 error.
 */
static int pm_cfg_unseal(PmConfig *c, const char *group, const char *var,
                         Octstr **value, PmSecretKey **key_r, Octstr **err_r)
{
    Octstr *sealed, *plain, *why = NULL;

    if (*value == NULL
        || octstr_search(*value, octstr_imm(PM_SEALED_PREFIX), 0) != 0)
        return 0;
    if (*key_r == NULL) {
        if (c->secret_key_file == NULL) {
            *err_r = pm_cfg_error(c, group, var, "a sealed value needs "
                                  "secret-key-file");
            return -1;
        }
        *key_r = pm_secret_key_load(c->secret_key_file, &why);
        if (*key_r == NULL) {
            *err_r = pm_cfg_error(c, group, var, "cannot unseal: %S", why);
            octstr_destroy(why);
            return -1;
        }
    }
    sealed = octstr_copy(*value, strlen(PM_SEALED_PREFIX), octstr_len(*value));
    plain = pm_secret_decrypt(*key_r, sealed, NULL);
    octstr_destroy(sealed);
    if (plain == NULL) {
        /* never echo the value */
        *err_r = pm_cfg_error(c, group, var, "the sealed value does not "
                              "open with secret-key-file (sealed with "
                              "another key, or damaged)");
        return -1;
    }
    pm_secret_wipe(*value);
    *value = plain;
    return 0;
}

static int pm_cfg_unseal_all(PmConfig *c, Octstr **err_r)
{
    PmSecretKey *key = NULL;
    long i;
    int ok;

    ok = pm_cfg_unseal(c, PM_GROUP_NAME, "admin-password",
                       &c->admin_password, &key, err_r) == 0
         && pm_cfg_unseal(c, PM_GROUP_NAME, "ppg-password",
                          &c->ppg_password, &key, err_r) == 0;
    for (i = 0; ok && i < gwlist_len(c->mmscs); i++) {
        PmMmscConf *m = gwlist_get(c->mmscs, i);

        ok = pm_cfg_unseal(c, PM_MMSC_GROUP, "password", &m->password,
                           &key, err_r) == 0
             && pm_cfg_unseal(c, PM_MMSC_GROUP, "incoming-password",
                              &m->incoming_password, &key, err_r) == 0;
    }
    pm_secret_key_destroy(key);
    return ok ? 0 : -1;
}

static int pm_cfg_check_web(PmConfig *c, Octstr **err_r)
{
    if (c->http_port != 0 && c->http_port == c->admin_port) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "http-port", "%ld is also "
                              "admin-port (the web view may face phones; "
                              "the admin port must not)", c->http_port);
        return -1;
    }
    if (octstr_str_compare(c->wap_push_via, "sms") != 0
        && octstr_str_compare(c->wap_push_via, "ppg") != 0) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "wap-push-via",
                              "'%S' is not sms or ppg", c->wap_push_via);
        return -1;
    }
    if (octstr_str_compare(c->wap_push_via, "ppg") == 0
        && !pm_cfg_url_ok(c->ppg_url)) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "ppg-url", "missing or not "
                              "an http:// or https:// URL (wap-push-via is "
                              "ppg)");
        return -1;
    }
    if (c->public_url != NULL) {
        if (!pm_cfg_url_ok(c->public_url)) {
            *err_r = pm_cfg_error(c, PM_GROUP_NAME, "public-url", "'%S' is "
                                  "not an http:// or https:// URL",
                                  c->public_url);
            return -1;
        }
        while (octstr_len(c->public_url) > 0
               && octstr_get_char(c->public_url,
                                  octstr_len(c->public_url) - 1) == '/')
            octstr_delete(c->public_url, octstr_len(c->public_url) - 1, 1);
    } else if (c->http_port != 0) {
        c->public_url = octstr_format("http://%S:%ld", c->http_interface,
                                      c->http_port);
    }
    if (octstr_len(c->sent_folder) == 0 || octstr_len(c->sent_folder) > 200) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, "sent-folder", "empty or "
                              "longer than 200 bytes");
        return -1;
    }
    return 0;
}

const PmMmscConf *pm_cfg_mmsc_for(const PmConfig *cfg, const Octstr *msisdn)
{
    long i;

    for (i = 0; cfg->mmscs != NULL && i < gwlist_len(cfg->mmscs); i++) {
        PmMmscConf *m = gwlist_get(cfg->mmscs, i);
        List *prefixes;
        Octstr *p;
        int match = 0;

        if (m->allowed_prefix == NULL)
            return m;
        prefixes = octstr_split(m->allowed_prefix, octstr_imm(";"));
        while ((p = gwlist_extract_first(prefixes)) != NULL) {
            octstr_strip_blanks(p);
            if (msisdn != NULL && octstr_ncompare(msisdn, p,
                                                  octstr_len(p)) == 0)
                match = 1;
            octstr_destroy(p);
        }
        gwlist_destroy(prefixes, NULL);
        if (match)
            return m;
    }
    return NULL;
}

const PmMmscConf *pm_cfg_mmsc_by_id(const PmConfig *cfg, const Octstr *id)
{
    long i;

    for (i = 0; cfg->mmscs != NULL && id != NULL
                && i < gwlist_len(cfg->mmscs); i++) {
        PmMmscConf *m = gwlist_get(cfg->mmscs, i);

        if (octstr_compare(m->id, id) == 0)
            return m;
    }
    return NULL;
}

/*
 * Kannel's cfg_read() takes every line that contains the word "include"
 * anywhere as an include directive of its value: a password holding the
 * word would be opened as a file and printed in the error.  Refuse such
 * lines in the file we were given (naming the line and the variable,
 * never the value) before Kannel reads it.  0 ok, -1 with *err_r.
 */
static int pm_cfg_include_trap(const Octstr *filename, Octstr **err_r)
{
    Octstr *text = octstr_read_file(octstr_get_cstr(filename));
    List *lines;
    Octstr *line;
    long no = 0;
    int ok = 1;

    if (text == NULL)
        return 0;               /* cfg_read() reports it */
    lines = octstr_split(text, octstr_imm("\n"));
    octstr_destroy(text);
    while ((line = gwlist_extract_first(lines)) != NULL) {
        long eq;
        Octstr *name;

        no++;
        octstr_strip_blanks(line);
        eq = octstr_search_char(line, '=', 0);
        if (ok && octstr_get_char(line, 0) != '#' && eq > 0
            && octstr_search(line, octstr_imm("include"), 0) >= 0) {
            name = octstr_copy(line, 0, eq);
            octstr_strip_blanks(name);
            if (octstr_str_compare(name, "include") != 0) {
                *err_r = octstr_format("%S: line %ld: the value of '%S' "
                                       "contains the word \"include\", which "
                                       "Kannel's parser takes as an include "
                                       "directive; change it (a password "
                                       "can be sealed: pushmail-admin seal)",
                                       filename, no, name);
                ok = 0;
            }
            octstr_destroy(name);
        }
        octstr_destroy(line);
    }
    gwlist_destroy(lines, NULL);
    return ok ? 0 : -1;
}

PmConfig *pm_cfg_load(Octstr *filename, Octstr **err_r)
{
    PmConfig *c;
    Cfg *cfg;
    CfgGroup *grp;
    struct stat st;

    *err_r = NULL;
    errno = 0;
    c = gw_malloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->conf_file = octstr_duplicate(filename);

    /* Kannel's cfg_read() panics on a file it cannot open: check first. */
    if (stat(octstr_get_cstr(filename), &st) < 0 || !S_ISREG(st.st_mode)
        || access(octstr_get_cstr(filename), R_OK) < 0) {
        *err_r = octstr_format("%S: cannot be read: %s", filename,
                               errno ? strerror(errno) : "not a file");
        pm_cfg_destroy(c);
        return NULL;
    }
    if (pm_cfg_include_trap(filename, err_r) < 0) {
        pm_cfg_destroy(c);
        return NULL;
    }
    cfg = cfg_create(filename);
    cfg_add_hooks(pm_cfg_is_allowed, pm_cfg_is_single);
    if (cfg_read(cfg) == -1) {
        *err_r = octstr_format("%S: cannot be read or has a syntax error "
                               "(see the log lines above)", filename);
        goto fail;
    }
    grp = cfg_get_single_group(cfg, octstr_imm(PM_GROUP_NAME));
    if (grp == NULL) {
        *err_r = octstr_format("%S: no 'group = %s'", filename,
                               PM_GROUP_NAME);
        goto fail;
    }
    if (pm_cfg_load_group(c, grp, err_r) < 0
        || pm_cfg_check(c, cfg, err_r) < 0
        || pm_cfg_check_web(c, err_r) < 0
        || pm_cfg_load_mmscs(c, cfg, err_r) < 0
        || pm_cfg_unseal_all(c, err_r) < 0)
        goto fail;
    cfg_destroy(cfg);
    return c;

fail:
    cfg_destroy(cfg);
    pm_cfg_destroy(c);
    return NULL;
}

void pm_cfg_destroy(PmConfig *c)
{
    if (c == NULL)
        return;
    octstr_destroy(c->conf_file);
#define PM_STR(name, field, def) octstr_destroy(c->field);
#define PM_LONG(name, field, def, min, max)
#define PM_BOOL(name, field, def)
#include "pm-cfg.def"
#undef PM_STR
#undef PM_LONG
#undef PM_BOOL
    octstr_destroy(c->db.id);
    octstr_destroy(c->db.file);
    octstr_destroy(c->db.host);
    octstr_destroy(c->db.username);
    octstr_destroy(c->db.password);
    octstr_destroy(c->db.database);
    gwlist_destroy(c->mmscs, pm_cfg_mmsc_destroy);
    gw_free(c);
}
