/*
 * test-mailurl.c - unit tests for mailurl.c: schemes, defaults, user
 * encodings, IPv6, folders, tls parameter, canonical form, hostile URLs.
 */
#include "gwlib/gwlib.h"
#include "mailurl.h"
#include "test-common.h"

static MailUrl *parse(const char *s, Octstr **err_r)
{
    Octstr *o = octstr_create(s);
    MailUrl *u = mailurl_parse(o, err_r);
    octstr_destroy(o);
    return u;
}

/* Parsing must fail with a message containing `needle` (or any). */
static int fails(const char *s, const char *needle)
{
    Octstr *err = NULL;
    MailUrl *u = parse(s, &err);
    int ok = u == NULL && err != NULL && octstr_len(err) > 0 &&
             (needle == NULL ||
              octstr_search(err, octstr_imm(needle), 0) >= 0);

    if (!ok)
        fprintf(stderr, "  \"%s\": err %s\n", s,
                err ? octstr_get_cstr(err) : "(none)");
    mailurl_destroy(u);
    octstr_destroy(err);
    return ok;
}

/* parse(s) formats as `canon`, and parse(canon) formats the same. */
static int canon(const char *s, const char *want)
{
    MailUrl *u = parse(s, NULL), *u2;
    Octstr *f, *f2;
    int ok;

    if (u == NULL) {
        fprintf(stderr, "  \"%s\" did not parse\n", s);
        return 0;
    }
    f = mailurl_format(u);
    u2 = mailurl_parse(f, NULL);
    f2 = u2 ? mailurl_format(u2) : NULL;
    ok = octstr_str_compare(f, want) == 0 && f2 != NULL &&
         octstr_compare(f, f2) == 0 && u2->port == u->port &&
         u2->tls == u->tls && octstr_compare(u2->user, u->user) == 0;
    if (!ok)
        fprintf(stderr, "  \"%s\" -> \"%s\" (want \"%s\")\n", s,
                octstr_get_cstr(f), want);
    octstr_destroy(f);
    octstr_destroy(f2);
    mailurl_destroy(u);
    mailurl_destroy(u2);
    return ok;
}

static int smtp(const char *s)
{
    Octstr *o = octstr_create(s), *err = NULL;
    int r = mailurl_check_smtp(o, &err);

    if (r == 0 && err != NULL)
        r = -2;
    if (r == -1 && err == NULL)
        r = -2;
    octstr_destroy(o);
    octstr_destroy(err);
    return r;
}

int main(void)
{
    MailUrl *u;
    Octstr *err = NULL, *big;
    long i;

    gwlib_init();

    test_begin("imap defaults");
    u = parse("imap://ann@mail.example.com", &err);
    test_assert(u != NULL && err == NULL);
    if (u != NULL) {
        test_assert(u->proto == MAILURL_IMAP);
        test_assert(u->tls == MAILURL_TLS_STARTTLS);
        test_assert(u->port == 143);
        test_assert_str(octstr_get_cstr(u->user), "ann");
        test_assert_str(octstr_get_cstr(u->host), "mail.example.com");
        test_assert_str(octstr_get_cstr(u->folder), "INBOX");
    }
    mailurl_destroy(u);
    test_end();

    test_begin("other schemes and ports");
    u = parse("IMAPS://Ann%40Example.com@IMAP.Example.COM", NULL);
    test_assert(u != NULL && u->tls == MAILURL_TLS_IMPLICIT &&
                u->port == 993);
    if (u != NULL) {
        test_assert_str(octstr_get_cstr(u->user), "Ann@Example.com");
        test_assert_str(octstr_get_cstr(u->host), "imap.example.com");
    }
    mailurl_destroy(u);
    u = parse("pop3://bob@10.0.0.1:1110?tls=none", NULL);
    test_assert(u != NULL && u->proto == MAILURL_POP3 &&
                u->tls == MAILURL_TLS_NONE && u->port == 1110 &&
                u->folder == NULL);
    mailurl_destroy(u);
    u = parse("pop3s://bob@pop.example.net/", NULL);
    test_assert(u != NULL && u->port == 995 &&
                u->tls == MAILURL_TLS_IMPLICIT);
    mailurl_destroy(u);
    u = parse("imap://ann@example.com@[::1]:1143/Work%2FMail?tls=none",
              NULL);
    test_assert(u != NULL);
    if (u != NULL) {
        test_assert_str(octstr_get_cstr(u->user), "ann@example.com");
        test_assert_str(octstr_get_cstr(u->host), "::1");
        test_assert_str(octstr_get_cstr(u->folder), "Work/Mail");
        test_assert(u->port == 1143 && u->tls == MAILURL_TLS_NONE);
    }
    mailurl_destroy(u);
    u = parse("imap://a@h/Sent%20Items?tls=STARTTLS", NULL);
    test_assert(u != NULL && u->tls == MAILURL_TLS_STARTTLS);
    if (u != NULL)
        test_assert_str(octstr_get_cstr(u->folder), "Sent Items");
    mailurl_destroy(u);
    test_end();

    test_begin("canonical form round trip");
    test_assert(canon("imap://ann@example.com@Mail.Example.com",
                      "imap://ann%40example.com@mail.example.com"));
    test_assert(canon("imaps://ann%40example.com@h:993/inbox",
                      "imaps://ann%40example.com@h"));
    test_assert(canon("imap://u@h:1143/Work/Sent%20Items?tls=none",
                      "imap://u@h:1143/Work/Sent%20Items?tls=none"));
    test_assert(canon("pop3://u+tag@[2001:DB8::1]:1110",
                      "pop3://u+tag@[2001:db8::1]:1110"));
    test_assert(canon("pop3s://u@h:110", "pop3s://u@h:110"));
    test_assert(canon("imap://%C3%A5sa@h/Bj%C3%B6rn",
                      "imap://%C3%A5sa@h/Bj%C3%B6rn"));
    test_end();

    test_begin("password refused");
    test_assert(fails("imap://ann:secret@example.com", "standard input"));
    test_assert(fails("imaps://ann@x.org:pw@example.com", "password"));
    test_end();

    test_begin("hostile and malformed URLs");
    test_assert(fails("", NULL));
    test_assert(fails("http://u@h", "scheme"));
    test_assert(fails("imap:/u@h", NULL));
    test_assert(fails("imap://example.com", "user"));
    test_assert(fails("imap://@example.com", NULL));
    test_assert(fails("imap://u@", "host"));
    test_assert(fails("imap://u@h:0", "port"));
    test_assert(fails("imap://u@h:65536", "port"));
    test_assert(fails("imap://u@h:99999999999999999999", "port"));
    test_assert(fails("imap://u@h:", "port"));
    test_assert(fails("imap://u@h:-1", "port"));
    test_assert(fails("imap://u@h_x", "host"));
    test_assert(fails("imap://u@h..x", "host"));
    test_assert(fails("imap://u@-h", "host"));
    test_assert(fails("imap://u@[::1", "IPv6"));
    test_assert(fails("imap://u@[zz::1]", "IPv6"));
    test_assert(fails("imap://u@[::1]x", NULL));
    test_assert(fails("imap://u@h/a b", "space"));
    test_assert(fails("imap://u@h/a%0Db", "control"));
    test_assert(fails("imap://u@h/a%0", NULL));
    test_assert(fails("imap://u@h/a%zz", NULL));
    test_assert(fails("imap://u%00x@h", NULL));
    test_assert(fails("imap://u@h\r\nA1 LOGOUT", NULL));
    test_assert(fails("imap://u@h?tls=maybe", "tls"));
    test_assert(fails("imaps://u@h?tls=none", "tls"));
    test_assert(fails("imap://u@h#frag", "fragment"));
    test_assert(fails("pop3://u@h/INBOX", "POP3"));
    test_assert(fails("imap://u@h/\xc3\xa5", "non-ASCII"));
    big = octstr_create("imap://u@h/");
    for (i = 0; i < 201; i++)
        octstr_append_char(big, 'f');
    u = mailurl_parse(big, &err);
    test_assert(u == NULL && err != NULL &&
                octstr_search(err, octstr_imm("200"), 0) >= 0);
    octstr_destroy(err);
    err = NULL;
    for (i = 0; i < 1000; i++)
        octstr_append_char(big, 'f');
    u = mailurl_parse(big, &err);
    test_assert(u == NULL && err != NULL &&
                octstr_search(err, octstr_imm("1024"), 0) >= 0);
    octstr_destroy(err);
    err = NULL;
    octstr_destroy(big);
    test_assert(mailurl_parse(NULL, NULL) == NULL);
    test_end();

    test_begin("smtp urls");
    test_assert(smtp("smtp://mail.example.com") == 0);
    test_assert(smtp("smtps://ann%40example.com@mail.example.com:465") == 0);
    test_assert(smtp("smtp://ann@example.com@127.0.0.1:2525/") == 0);
    test_assert(smtp("smtp://[::1]:25") == 0);
    test_assert(smtp("smtp://u:p@h") == -1);
    test_assert(smtp("imap://u@h") == -1);
    test_assert(smtp("smtp://h/path") == -1);
    test_assert(smtp("smtp://h?x=1") == -1);
    test_assert(smtp("smtp://h:0") == -1);
    test_assert(smtp("smtp://") == -1);
    test_end();

    gwlib_shutdown();
    return test_exit();
}
