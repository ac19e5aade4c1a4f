/*
 * pushmail-admin.c - the operator's command line tool: bind phone numbers
 * to mailboxes and inspect or change bindings in the store.
 *
 *   pushmail-admin [-c pushmail.conf] [-v LEVEL] COMMAND [ARGS]
 *
 * Commands: bind, import, unbind, list, show, pause, resume, set, help (see
 * usage() below).  The mailbox password is read as one line from
 * standard input (echo off on a terminal), never from the command line,
 * and is stored encrypted; no command ever prints it.
 *
 * Exit status: 0 done; 1 failed (unknown number, login check failed,
 * database error); 2 bad command line (option, number, URL or address)
 * or bad configuration, in which case nothing was changed.
 * Output: results on stdout, one line per item; errors on stderr.
 * Logs: gwlib logging to stderr, warnings and up unless -v is given.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "gwlib/gwlib.h"
#include "mail-fetch.h"
#include "mailurl.h"
#include "msisdn.h"
#include "pm-cfg.h"
#include "pm-secret.h"
#include "store.h"
#include "store-mms.h"

#define PASSWORD_MAX 1024
#define ADDRESS_MAX 320
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* Options of bind and set; NULL/0 = not given. */
typedef struct {
    Octstr *address;
    Octstr *smtp;
    const char *prompt;
    const char *deliver;
    int verify;
} AdminOpts;

/* What every command gets. */
typedef struct {
    PmConfig *cfg;
    Store *store;
} Admin;

static void usage(FILE *f)
{
    fprintf(f,
"usage: pushmail-admin [-c CONFIG] [-v LEVEL] COMMAND [ARGS]\n"
"\n"
"  bind MSISDN MAILBOX-URL [--address EMAIL] [--smtp SMTP-URL]\n"
"       [--prompt sms|wap-push] [--deliver sms|mms] [--verify]\n"
"      Bind a phone number to a mailbox (replacing any binding it has).\n"
"      The mailbox password is read as one line from standard input.\n"
"      MAILBOX-URL: imap[s]://USER@HOST[:PORT][/FOLDER][?tls=none] or\n"
"      pop3[s]://USER@HOST[:PORT][?tls=none]; imap:// and pop3:// use\n"
"      STARTTLS unless ?tls=none.  --verify logs in once first and\n"
"      stores nothing if that fails.\n"
"  import\n"
"      Bind many numbers: standard input holds one binding per line,\n"
"      MSISDN MAILBOX-URL PASSWORD (separated by blanks; the password is\n"
"      the rest of the line).  Empty lines and lines starting with #\n"
"      are skipped; a bad line is reported with its number and skipped.\n"
"  unbind MSISDN          Remove a binding and its mailbox state.\n"
"  list                   One line per binding: number, mailbox, address,\n"
"                         prompt/deliver mode, active or paused.\n"
"  show MSISDN            All fields, the watch state and the latest SMS\n"
"                         and MMS with their delivery reports (never the\n"
"                         password).\n"
"  pause MSISDN | resume MSISDN\n"
"  set MSISDN [--prompt sms|wap-push] [--deliver sms|mms]\n"
"      [--smtp SMTP-URL|none] [--address EMAIL|none]\n"
"  seal\n"
"      Read a password from standard input and print it sealed with the\n"
"      secret-key-file (enc:v1:...), for the password variables of\n"
"      pushmail.conf (MM7 and PPG credentials, admin-password).\n"
"  help\n"
"\n"
"  -c CONFIG   default %s\n"
"  -v LEVEL    log level 0 (debug) .. 4 (panic), default 2 (warning)\n"
"\n"
"Exit status: 0 done, 1 failed, 2 bad command line or configuration.\n",
            PM_SYSCONFDIR "/pushmail/pushmail.conf");
}

/* Print an error line on stderr; returns `status`. */
static int fail(int status, const char *fmt, ...) PRINTFLIKE(2, 3);
static int fail(int status, const char *fmt, ...)
{
    va_list ap;

    fputs("pushmail-admin: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

/* A simple addr-spec: local@domain, no spaces, quotes or brackets. */
static int address_ok(const Octstr *a)
{
    long at, i, len;
    int prev = '.';

    if (a == NULL || octstr_len(a) == 0 || octstr_len(a) > ADDRESS_MAX)
        return 0;
    len = octstr_len(a);
    at = octstr_rsearch_char(a, '@', len - 1);
    if (at <= 0 || at > 64 || at == len - 1)
        return 0;
    for (i = 0; i < at; i++) {
        int c = octstr_get_char(a, i);
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>@[\\]", c) != NULL)
            return 0;
    }
    for (i = at + 1; i < len; i++) {
        int c = octstr_get_char(a, i);
        if (c == '.' ? prev == '.' : !(isalnum(c) || c == '-'))
            return 0;
        prev = c;
    }
    return prev != '.';
}

static int mode_arg(const char *v, const char *a, const char *b)
{
    return v != NULL && (strcmp(v, a) == 0 || strcmp(v, b) == 0);
}

/*
 * Parse --options from argv[i..].  `allow_verify` for bind.  Returns 0,
 * or EXIT_USAGE after printing the problem.
 */
static int parse_opts(int argc, char **argv, int i, int allow_verify,
                      AdminOpts *o)
{
    memset(o, 0, sizeof(*o));
    for (; i < argc; i++) {
        const char *opt = argv[i], *val = NULL;

        if (strcmp(opt, "--verify") == 0 && allow_verify) {
            o->verify = 1;
            continue;
        }
        if (strcmp(opt, "--address") != 0 && strcmp(opt, "--smtp") != 0 &&
            strcmp(opt, "--prompt") != 0 && strcmp(opt, "--deliver") != 0)
            return fail(EXIT_USAGE, "unknown option or extra argument "
                        "\"%.40s\" (try pushmail-admin help)", opt);
        if (i + 1 >= argc)
            return fail(EXIT_USAGE, "option %s needs a value", opt);
        val = argv[++i];
        if (strcmp(opt, "--prompt") == 0) {
            if (!mode_arg(val, "sms", "wap-push"))
                return fail(EXIT_USAGE, "--prompt must be sms or wap-push");
            o->prompt = val;
        } else if (strcmp(opt, "--deliver") == 0) {
            if (!mode_arg(val, "sms", "mms"))
                return fail(EXIT_USAGE, "--deliver must be sms or mms");
            o->deliver = val;
        } else if (strcmp(opt, "--address") == 0) {
            octstr_destroy(o->address);
            o->address = octstr_create(val);
        } else {
            octstr_destroy(o->smtp);
            o->smtp = octstr_create(val);
        }
    }
    return 0;
}

static void opts_clear(AdminOpts *o)
{
    octstr_destroy(o->address);
    octstr_destroy(o->smtp);
    memset(o, 0, sizeof(*o));
}

/* Check --address and --smtp; `allow_none` lets "none" clear them. */
static int check_mail_opts(AdminOpts *o, int allow_none)
{
    Octstr *err = NULL;

    if (o->address != NULL &&
        !(allow_none && octstr_str_compare(o->address, "none") == 0) &&
        !address_ok(o->address))
        return fail(EXIT_USAGE, "--address is not a mail address like "
                    "ann@example.com");
    if (o->smtp != NULL &&
        !(allow_none && octstr_str_compare(o->smtp, "none") == 0) &&
        mailurl_check_smtp(o->smtp, &err) < 0) {
        fail(EXIT_USAGE, "--smtp: %s", octstr_get_cstr(err));
        octstr_destroy(err);
        return EXIT_USAGE;
    }
    return 0;
}

/* Normalise a number with the configured country code; NULL if bad. */
static Octstr *number_arg(Admin *a, const char *arg)
{
    Octstr *in = octstr_create(arg), *err = NULL, *m;

    m = msisdn_normalise(in, a->cfg->country_code, a->cfg->national_prefix,
                         &err);
    if (m == NULL)
        fail(EXIT_USAGE, "%s", octstr_get_cstr(err));
    octstr_destroy(err);
    octstr_destroy(in);
    return m;
}

/*
 * Read the password: one line from stdin, CR/LF stripped, echo off on a
 * terminal.  Returns a new Octstr (pm_secret_wipe it), NULL if refused.
 */
static Octstr *read_password(const Octstr *user)
{
    char buf[PASSWORD_MAX + 3];
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO), echo_off = 0;
    size_t len;
    Octstr *pw = NULL;

    if (tty) {
        fprintf(stderr, "Password for %s: ", octstr_get_cstr(user));
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t) ECHO;
            echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
    }
    if (fgets(buf, sizeof(buf), stdin) == NULL)
        buf[0] = '\0';
    if (echo_off) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    len = strlen(buf);
    if (len > 0 && buf[len - 1] != '\n' && !feof(stdin)) {
        fail(EXIT_USAGE, "the password is longer than %d bytes",
             PASSWORD_MAX);
    } else {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        if (len == 0)
            fail(EXIT_USAGE, "no password on standard input (give the "
                 "mailbox password as one line)");
        else if (len > PASSWORD_MAX)
            fail(EXIT_USAGE, "the password is longer than %d bytes",
                 PASSWORD_MAX);
        else
            pw = octstr_create_from_data(buf, (long) len);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return pw;
}

/* --- commands ---------------------------------------------------------- */

static int cmd_bind(Admin *a, int argc, char **argv)
{
    AdminOpts o;
    MailUrl *url = NULL;
    StoreBinding b, *old;
    Octstr *msisdn = NULL, *canon = NULL, *secret = NULL, *err = NULL;
    Octstr *in;
    int st = EXIT_USAGE;

    if (argc < 3)
        return fail(EXIT_USAGE, "bind needs MSISDN and MAILBOX-URL");
    if (parse_opts(argc, argv, 3, 1, &o) != 0)
        goto out;
    in = octstr_create(argv[2]);
    url = mailurl_parse(in, &err);
    octstr_destroy(in);
    if (url == NULL) {
        fail(EXIT_USAGE, "%s", octstr_get_cstr(err));
        goto out;
    }
    if (o.address == NULL && octstr_search_char(url->user, '@', 0) > 0)
        o.address = octstr_duplicate(url->user);
    if (check_mail_opts(&o, 0) != 0)
        goto out;
    if ((msisdn = number_arg(a, argv[1])) == NULL)
        goto out;
    if ((secret = read_password(url->user)) == NULL)
        goto out;

    st = EXIT_FAIL;
    if (o.verify) {
        if (mail_fetch_login_check(url, secret, a->cfg->ca_file,
                                   a->cfg->connect_timeout, &err) < 0) {
            fail(EXIT_FAIL, "login failed: %s; nothing stored",
                 err ? octstr_get_cstr(err) : "unknown error");
            goto out;
        }
        printf("login ok\n");
    }
    canon = mailurl_format(url);
    memset(&b, 0, sizeof(b));
    b.msisdn = msisdn;
    b.mailbox_url = canon;
    b.address = o.address;
    b.smtp_url = o.smtp;
    b.prompt_mode = octstr_imm(o.prompt ? o.prompt : "sms");
    b.deliver_mode = octstr_imm(o.deliver ? o.deliver : "sms");
    old = store_binding_get(a->store, msisdn);
    if (store_binding_put(a->store, &b, secret) < 0) {
        fail(EXIT_FAIL, "could not store the binding (see the error "
             "above)");
    } else {
        printf("%s %s to %s\n", old ? "rebound" : "bound",
               octstr_get_cstr(msisdn), octstr_get_cstr(canon));
        st = EXIT_OK;
    }
    store_binding_destroy(old);
out:
    octstr_destroy(err);
    pm_secret_wipe(secret);
    octstr_destroy(canon);
    octstr_destroy(msisdn);
    mailurl_destroy(url);
    opts_clear(&o);
    return st;
}

/* One "MSISDN URL PASSWORD" line of import; 0 stored, -1 refused. */
static int import_line(Admin *a, long lineno, Octstr *line)
{
    Octstr *num, *urltext, *pw, *msisdn = NULL, *canon = NULL, *err = NULL;
    MailUrl *url = NULL;
    StoreBinding b;
    long p, q;
    int r = -1;

    p = octstr_search_char(line, ' ', 0);
    q = octstr_search_char(line, '\t', 0);
    if (p < 0 || (q >= 0 && q < p))
        p = q;
    num = octstr_copy(line, 0, p < 0 ? octstr_len(line) : p);
    octstr_delete(line, 0, p < 0 ? octstr_len(line) : p);
    octstr_strip_blanks(line);
    p = octstr_search_char(line, ' ', 0);
    q = octstr_search_char(line, '\t', 0);
    if (p < 0 || (q >= 0 && q < p))
        p = q;
    urltext = octstr_copy(line, 0, p < 0 ? octstr_len(line) : p);
    pw = octstr_copy(line, p < 0 ? octstr_len(line) : p, octstr_len(line));
    octstr_strip_blanks(pw);
    if (octstr_len(pw) == 0 || octstr_len(pw) > PASSWORD_MAX) {
        fail(EXIT_USAGE, "line %ld: expected MSISDN MAILBOX-URL PASSWORD",
             lineno);
        goto out;
    }
    msisdn = msisdn_normalise(num, a->cfg->country_code,
                              a->cfg->national_prefix, &err);
    if (msisdn == NULL) {
        fail(EXIT_USAGE, "line %ld: %s", lineno, octstr_get_cstr(err));
        goto out;
    }
    url = mailurl_parse(urltext, &err);
    if (url == NULL) {
        fail(EXIT_USAGE, "line %ld: %s", lineno, octstr_get_cstr(err));
        goto out;
    }
    canon = mailurl_format(url);
    memset(&b, 0, sizeof(b));
    b.msisdn = msisdn;
    b.mailbox_url = canon;
    if (octstr_search_char(url->user, '@', 0) > 0)
        b.address = url->user;
    b.prompt_mode = octstr_imm("sms");
    b.deliver_mode = octstr_imm("sms");
    if (store_binding_put(a->store, &b, pw) < 0)
        fail(EXIT_FAIL, "line %ld: could not store the binding", lineno);
    else
        r = 0;
out:
    octstr_destroy(num);
    octstr_destroy(urltext);
    pm_secret_wipe(pw);
    octstr_destroy(msisdn);
    octstr_destroy(canon);
    octstr_destroy(err);
    mailurl_destroy(url);
    return r;
}

static int cmd_import(Admin *a, int argc, char **argv)
{
    char buf[4096];
    long lineno = 0, ok = 0, bad = 0;
    Octstr *line;

    if (argc != 1)
        return fail(EXIT_USAGE, "import takes no arguments; the bindings "
                    "come on standard input");
    while (fgets(buf, sizeof(buf), stdin) != NULL) {
        lineno++;
        line = octstr_create(buf);
        OPENSSL_cleanse(buf, sizeof(buf));
        if (octstr_len(line) > 0
            && octstr_get_char(line, octstr_len(line) - 1) != '\n'
            && !feof(stdin)) {
            fail(EXIT_USAGE, "line %ld: longer than %d bytes", lineno,
                 (int) sizeof(buf) - 2);
            bad++;
            while (fgets(buf, sizeof(buf), stdin) != NULL
                   && strchr(buf, '\n') == NULL)
                ;
            OPENSSL_cleanse(buf, sizeof(buf));
            pm_secret_wipe(line);
            continue;
        }
        octstr_strip_crlfs(line);
        octstr_strip_blanks(line);
        if (octstr_len(line) == 0 || octstr_get_char(line, 0) == '#') {
            octstr_destroy(line);
            continue;
        }
        if (import_line(a, lineno, line) == 0)
            ok++;
        else
            bad++;
        pm_secret_wipe(line);
    }
    printf("imported %ld bindings, %ld lines refused\n", ok, bad);
    return bad == 0 ? EXIT_OK : EXIT_FAIL;
}

/* Commands taking exactly one MSISDN. */
static Octstr *one_number(Admin *a, int argc, char **argv)
{
    if (argc != 2) {
        fail(EXIT_USAGE, "%s needs exactly one MSISDN", argv[0]);
        return NULL;
    }
    return number_arg(a, argv[1]);
}

static int cmd_unbind(Admin *a, int argc, char **argv)
{
    Octstr *m = one_number(a, argc, argv);
    int r, st;

    if (m == NULL)
        return EXIT_USAGE;
    r = store_binding_delete(a->store, m);
    if (r == 1) {
        printf("unbound %s\n", octstr_get_cstr(m));
        st = EXIT_OK;
    } else if (r == 0) {
        st = fail(EXIT_FAIL, "no binding for %s", octstr_get_cstr(m));
    } else {
        st = fail(EXIT_FAIL, "could not remove the binding for %s",
                  octstr_get_cstr(m));
    }
    octstr_destroy(m);
    return st;
}

static const char *or_dash(const Octstr *s)
{
    return s != NULL ? octstr_get_cstr(s) : "-";
}

static int cmd_list(Admin *a, int argc, char **argv)
{
    List *l;
    long i;

    if (argc != 1)
        return fail(EXIT_USAGE, "list takes no arguments");
    l = store_binding_list(a->store);
    if (l == NULL)
        return fail(EXIT_FAIL, "could not read the bindings");
    for (i = 0; i < gwlist_len(l); i++) {
        StoreBinding *b = gwlist_get(l, i);
        printf("%s %s %s %s/%s %s\n", octstr_get_cstr(b->msisdn),
               octstr_get_cstr(b->mailbox_url), or_dash(b->address),
               octstr_get_cstr(b->prompt_mode),
               octstr_get_cstr(b->deliver_mode),
               b->paused ? "paused" : "active");
    }
    gwlist_destroy(l, store_binding_destroy_item);
    return EXIT_OK;
}

static void print_time(const char *name, long t)
{
    struct tm tm;

    if (t <= 0) {
        printf("%-14s -\n", name);
        return;
    }
    tm = gw_gmtime((time_t) t);
    printf("%-14s %04d-%02d-%02d %02d:%02d:%02d UTC\n", name,
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec);
}

/* Lines in a LF-joined list. */
static long count_lines(const Octstr *s)
{
    long i, n;

    if (s == NULL || octstr_len(s) == 0)
        return 0;
    for (i = 0, n = 1; i < octstr_len(s); i++)
        if (octstr_get_char(s, i) == '\n')
            n++;
    return n;
}

/* Print at most 200 bytes of `s` with non-printables as '?'. */
static void print_field(const char *name, const Octstr *s)
{
    long i;

    printf("%-14s ", name);
    if (s == NULL)
        fputc('-', stdout);
    for (i = 0; s != NULL && i < octstr_len(s) && i < 200; i++) {
        int c = octstr_get_char(s, i);
        fputc(c >= 0x20 && c != 0x7f ? c : '?', stdout);
    }
    if (s != NULL && octstr_len(s) > 200)
        fputs("...", stdout);
    fputc('\n', stdout);
}

static const char *mt_state_name(int state)
{
    switch (state) {
    case STORE_MT_QUEUED: return "queued";
    case STORE_MT_SENT: return "sent";
    case STORE_MT_ACCEPTED: return "accepted";
    case STORE_MT_FAILED: return "failed";
    default: return "?";
    }
}

/* Kannel DLR types: the last one stored for an MT. */
static const char *mt_dlr_name(int dlr)
{
    switch (dlr) {
    case 0: return "-";
    case 1: return "delivered";
    case 2: return "failed";
    case 4: return "buffered";
    case 8: return "smsc-ack";
    case 16: return "smsc-nack";
    default: return "other";
    }
}

/* The latest SMS sent to the number, with their delivery reports. */
static void show_mts(Admin *a, const Octstr *m)
{
    static const char *kinds[] = { "prompt", "reply", "notice" };
    List *mts = store_mt_latest(a->store, m, 5);
    long i;

    printf("%-14s %ld\n", "recent SMS:", mts ? gwlist_len(mts) : 0L);
    for (i = 0; mts != NULL && i < gwlist_len(mts); i++) {
        StoreMt *mt = gwlist_get(mts, i);

        struct tm tm = gw_gmtime((time_t) mt->created);

        printf("  %04d-%02d-%02d %02d:%02d:%02d %-6s %-8s dlr %-9s %s\n",
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
               tm.tm_min, tm.tm_sec,
               mt->kind >= 0 && mt->kind <= 2 ? kinds[mt->kind] : "?",
               mt_state_name(mt->state), mt_dlr_name(mt->dlr_status),
               octstr_get_cstr(mt->id));
    }
    gwlist_destroy(mts, store_mt_destroy_item);
}

static const char *mms_state_name(int state)
{
    switch (state) {
    case STORE_MMS_QUEUED: return "queued";
    case STORE_MMS_SUBMITTING: return "sending";
    case STORE_MMS_ACCEPTED: return "accepted";
    case STORE_MMS_FAILED: return "failed";
    default: return "?";
    }
}

/* The latest MMs sent to the number, with their status and reports. */
static void show_mms(Admin *a, const Octstr *m)
{
    List *l = store_mms_latest(a->store, m, 10);
    long i;

    printf("%-14s %ld\n", "recent MMS:", l ? gwlist_len(l) : 0L);
    for (i = 0; l != NULL && i < gwlist_len(l); i++) {
        StoreMms *mm = gwlist_get(l, i);
        struct tm tm = gw_gmtime((time_t) mm->created);

        printf("  %04d-%02d-%02d %02d:%02d:%02d mail %-4ld %-8s %ld %-10s "
               "%s via %s%s%s\n", tm.tm_year + 1900, tm.tm_mon + 1,
               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, mm->n,
               mms_state_name(mm->state), mm->status_code,
               octstr_len(mm->report) ? octstr_get_cstr(mm->report) : "-",
               octstr_get_cstr(mm->id), octstr_get_cstr(mm->mmsc),
               octstr_len(mm->message_id) ? " MessageID " : "",
               octstr_get_cstr(mm->message_id));
    }
    gwlist_destroy(l, store_mms_destroy_item);
}

/*
 * seal: read a password (one line on stdin) and print it sealed with the
 * configured secret-key-file, "enc:v1:...", for pushmail.conf's password
 * variables.  Nothing is stored.
 */
static int cmd_seal(Admin *a, int argc, char **argv)
{
    PmSecretKey *key;
    Octstr *pw, *sealed, *err = NULL;

    if (argc != 1)
        return fail(EXIT_USAGE, "usage: seal (the value is read from "
                    "standard input)");
    key = pm_secret_key_load(a->cfg->secret_key_file, &err);
    if (key == NULL) {
        fail(EXIT_FAIL, "%s", octstr_get_cstr(err));
        octstr_destroy(err);
        return EXIT_FAIL;
    }
    pw = read_password(octstr_imm("the value to seal"));
    if (pw == NULL) {
        pm_secret_key_destroy(key);
        return EXIT_USAGE;
    }
    sealed = pm_secret_encrypt(key, pw);
    pm_secret_wipe(pw);
    pm_secret_key_destroy(key);
    if (sealed == NULL)
        return fail(EXIT_FAIL, "sealing failed");
    printf("enc:%s\n", octstr_get_cstr(sealed));
    octstr_destroy(sealed);
    return EXIT_OK;
}

static int cmd_show(Admin *a, int argc, char **argv)
{
    Octstr *m = one_number(a, argc, argv), *secret;
    StoreBinding *b;
    StoreWatch w;
    List *latest, *pending;
    long uidls = 0;

    if (m == NULL)
        return EXIT_USAGE;
    b = store_binding_get(a->store, m);
    if (b == NULL) {
        fail(EXIT_FAIL, "no binding for %s", octstr_get_cstr(m));
        octstr_destroy(m);
        return EXIT_FAIL;
    }
    print_field("msisdn:", b->msisdn);
    print_field("mailbox:", b->mailbox_url);
    print_field("address:", b->address);
    print_field("smtp:", b->smtp_url);
    print_field("prompt:", b->prompt_mode);
    print_field("deliver:", b->deliver_mode);
    printf("%-14s %s\n", "paused:", b->paused ? "yes" : "no");
    print_time("created:", b->created);
    print_time("updated:", b->updated);
    secret = store_binding_secret(a->store, m);
    printf("%-14s %s\n", "password:", secret != NULL ?
           "stored (decrypts with the configured key)" :
           "MISSING or not decryptable with the configured key");
    pm_secret_wipe(secret);

    if (store_watch_get(a->store, m, &w) == 0) {
        uidls = count_lines(w.uidls);
        print_field("watch state:", w.state);
        printf("%-14s %ld\n", "uidvalidity:", w.uidvalidity);
        printf("%-14s %ld\n", "last uid:", w.last_uid);
        printf("%-14s %ld\n", "known uidls:", uidls);
        print_field("capabilities:", w.caps);
        print_field("last error:", w.last_error);
        store_watch_clear(&w);
    }
    latest = store_mail_latest(a->store, m, 1);
    pending = store_mail_pending(a->store, m);
    printf("%-14s %ld\n", "latest mail:", latest != NULL &&
           gwlist_len(latest) > 0 ?
           ((StoreMail *) gwlist_get(latest, 0))->n : 0L);
    printf("%-14s %ld\n", "pending:", pending != NULL ?
           gwlist_len(pending) : 0L);
    gwlist_destroy(latest, store_mail_destroy_item);
    gwlist_destroy(pending, store_mail_destroy_item);
    show_mts(a, m);
    show_mms(a, m);
    store_binding_destroy(b);
    octstr_destroy(m);
    return EXIT_OK;
}

static int cmd_pause(Admin *a, int argc, char **argv, int paused)
{
    Octstr *m = one_number(a, argc, argv);
    int r, st;

    if (m == NULL)
        return EXIT_USAGE;
    r = store_binding_set_paused(a->store, m, paused);
    if (r == 1) {
        printf("%s %s\n", paused ? "paused" : "resumed", octstr_get_cstr(m));
        st = EXIT_OK;
    } else if (r == 0) {
        st = fail(EXIT_FAIL, "no binding for %s", octstr_get_cstr(m));
    } else {
        st = fail(EXIT_FAIL, "could not change the binding for %s",
                  octstr_get_cstr(m));
    }
    octstr_destroy(m);
    return st;
}

static int cmd_set(Admin *a, int argc, char **argv)
{
    AdminOpts o;
    Octstr *m = NULL, *smtp = NULL, *addr = NULL;
    int st = EXIT_USAGE, r = 1;

    if (argc < 2)
        return fail(EXIT_USAGE, "set needs an MSISDN and options");
    if (parse_opts(argc, argv, 2, 0, &o) != 0)
        goto out;
    if (!o.prompt && !o.deliver && !o.smtp && !o.address) {
        fail(EXIT_USAGE, "set needs at least one of --prompt, --deliver, "
             "--smtp, --address");
        goto out;
    }
    if (check_mail_opts(&o, 1) != 0 || (m = number_arg(a, argv[1])) == NULL)
        goto out;
    if (o.smtp != NULL)
        smtp = octstr_str_compare(o.smtp, "none") == 0 ? octstr_create("")
                                                       : o.smtp;
    if (o.address != NULL)
        addr = octstr_str_compare(o.address, "none") == 0 ?
               octstr_create("") : o.address;
    st = EXIT_FAIL;
    if (o.prompt || o.deliver)
        r = store_binding_set_modes(a->store, m, o.prompt, o.deliver);
    if (r == 1 && (smtp || addr))
        r = store_binding_set_mail(a->store, m, smtp, addr);
    if (r == 1) {
        printf("changed %s\n", octstr_get_cstr(m));
        st = EXIT_OK;
    } else if (r == 0) {
        fail(EXIT_FAIL, "no binding for %s", octstr_get_cstr(m));
    } else {
        fail(EXIT_FAIL, "could not change the binding for %s",
             octstr_get_cstr(m));
    }
out:
    if (smtp != o.smtp)
        octstr_destroy(smtp);
    if (addr != o.address)
        octstr_destroy(addr);
    octstr_destroy(m);
    opts_clear(&o);
    return st;
}

/* --- main -------------------------------------------------------------- */

static int run(Admin *a, int argc, char **argv)
{
    const char *c = argv[0];

    if (strcmp(c, "bind") == 0)
        return cmd_bind(a, argc, argv);
    if (strcmp(c, "import") == 0)
        return cmd_import(a, argc, argv);
    if (strcmp(c, "unbind") == 0)
        return cmd_unbind(a, argc, argv);
    if (strcmp(c, "list") == 0)
        return cmd_list(a, argc, argv);
    if (strcmp(c, "show") == 0)
        return cmd_show(a, argc, argv);
    if (strcmp(c, "pause") == 0)
        return cmd_pause(a, argc, argv, 1);
    if (strcmp(c, "resume") == 0)
        return cmd_pause(a, argc, argv, 0);
    if (strcmp(c, "set") == 0)
        return cmd_set(a, argc, argv);
    if (strcmp(c, "seal") == 0)
        return cmd_seal(a, argc, argv);
    return fail(EXIT_USAGE, "unknown command \"%.40s\" (try "
                "pushmail-admin help)", c);
}

static int known_command(const char *c)
{
    static const char *const cmds[] = { "bind", "import", "unbind", "list",
                                        "show", "pause", "resume", "set",
                                        "seal", NULL };
    int i;

    for (i = 0; cmds[i] != NULL; i++)
        if (strcmp(c, cmds[i]) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf = PM_SYSCONFDIR "/pushmail/pushmail.conf";
    Admin a;
    Octstr *file, *err = NULL;
    long level = GW_WARNING;
    int i = 1, st;

    gwlib_init();
    log_set_output_level(GW_WARNING);
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            conf = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "-v") == 0 && i + 1 < argc &&
                   strlen(argv[i + 1]) == 1 && argv[i + 1][0] >= '0' &&
                   argv[i + 1][0] <= '4') {
            level = argv[i + 1][0] - '0';
            i += 2;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            gwlib_shutdown();
            return EXIT_OK;
        } else {
            usage(stderr);
            gwlib_shutdown();
            return EXIT_USAGE;
        }
    }
    log_set_output_level(level);
    if (i >= argc || strcmp(argv[i], "help") == 0) {
        usage(i >= argc ? stderr : stdout);
        gwlib_shutdown();
        return i >= argc ? EXIT_USAGE : EXIT_OK;
    }
    if (!known_command(argv[i])) {
        st = fail(EXIT_USAGE, "unknown command \"%.40s\" (try "
                  "pushmail-admin help)", argv[i]);
        gwlib_shutdown();
        return st;
    }

    memset(&a, 0, sizeof(a));
    if (access(conf, R_OK) != 0) {
        /* Kannel's cfg_read() panics on a missing main file */
        st = fail(EXIT_USAGE, "cannot read the configuration file %s: %s",
                  conf, strerror(errno));
        gwlib_shutdown();
        return st;
    }
    file = octstr_create(conf);
    a.cfg = pm_cfg_load(file, &err);
    octstr_destroy(file);
    if (a.cfg == NULL) {
        st = fail(EXIT_USAGE, "%s", err ? octstr_get_cstr(err)
                                       : "cannot read the configuration");
        octstr_destroy(err);
        gwlib_shutdown();
        return st;
    }
    a.store = store_open(&a.cfg->db, a.cfg->secret_key_file, &err);
    if (a.store == NULL) {
        st = fail(EXIT_FAIL, "cannot open the store: %s",
                  err ? octstr_get_cstr(err) : "unknown error");
        octstr_destroy(err);
        pm_cfg_destroy(a.cfg);
        gwlib_shutdown();
        return st;
    }
    st = run(&a, argc - i, argv + i);
    fflush(stdout);
    store_close(&a.store);
    pm_cfg_destroy(a.cfg);
    gwlib_shutdown();
    return st;
}
