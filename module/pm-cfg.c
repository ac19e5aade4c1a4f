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

#define PM_GROUP_NAME "pushmail"
#define PM_MAX_VALUE 1024

/* Kannel calls these for groups it does not know; -1 = not ours. */
static int pm_cfg_is_allowed(Octstr *group, Octstr *variable)
{
    if (octstr_str_compare(group, PM_GROUP_NAME) != 0)
        return -1;
    if (octstr_str_compare(variable, "group") == 0)
        return 1;
#define PM_STR(name, field, def) \
    if (octstr_str_compare(variable, #name) == 0) return 1;
#define PM_LONG(name, field, def, min, max) PM_STR(name, field, def)
#define PM_BOOL(name, field, def) PM_STR(name, field, def)
#include "pm-cfg.def"
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

static int pm_cfg_get_str(CfgGroup *grp, const char *name, const char *def,
                          Octstr **out, const PmConfig *c, Octstr **err_r)
{
    Octstr *v = cfg_get(grp, octstr_imm(name));

    if (v == NULL) {
        *out = def ? octstr_create(def) : NULL;
        return 0;
    }
    octstr_strip_blanks(v);
    if (octstr_len(v) > PM_MAX_VALUE) {
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, name,
                              "value longer than %d bytes", PM_MAX_VALUE);
        octstr_destroy(v);
        return -1;
    }
    *out = v;
    return 0;
}

static int pm_cfg_get_long(CfgGroup *grp, const char *name, long def,
                           long min, long max, long *out,
                           const PmConfig *c, Octstr **err_r)
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
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, name,
                              "'%S' is not a number from %ld to %ld",
                              v, min, max);
        octstr_destroy(v);
        return -1;
    }
    octstr_destroy(v);
    *out = n;
    return 0;
}

static int pm_cfg_get_bool(CfgGroup *grp, const char *name, int def,
                           int *out, const PmConfig *c, Octstr **err_r)
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
        *err_r = pm_cfg_error(c, PM_GROUP_NAME, name,
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
    if (pm_cfg_get_str(grp, #name, def, &c->field, c, err_r) < 0) \
        return -1;
#define PM_LONG(name, field, def, min, max) \
    if (pm_cfg_get_long(grp, #name, def, min, max, &c->field, c, \
                        err_r) < 0) \
        return -1;
#define PM_BOOL(name, field, def) \
    if (pm_cfg_get_bool(grp, #name, def, &c->field, c, err_r) < 0) \
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
        || pm_cfg_check(c, cfg, err_r) < 0)
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
    gw_free(c);
}
