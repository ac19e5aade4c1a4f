/*
 * test-push-cmd.c - unit tests for push-cmd: every command, case and
 * spacing variants, bad numbers and hostile input.
 */
#include "gwlib/gwlib.h"
#include "push-cmd.h"
#include "test-common.h"

static const struct {
    const char *in;
    enum push_cmd_type type;
    long n;
    const char *address;    /* NULL: expect NULL */
    const char *text;       /* NULL: expect NULL */
} tab[] = {
    { "GET 3", PUSH_CMD_GET, 3, NULL, NULL },
    { "get 3", PUSH_CMD_GET, 3, NULL, NULL },
    { "  Get\t \n 42  \r\n", PUSH_CMD_GET, 42, NULL, NULL },
    { "get3", PUSH_CMD_GET, 3, NULL, NULL },
    { "GET", PUSH_CMD_GET, 0, NULL, NULL },
    { " get ", PUSH_CMD_GET, 0, NULL, NULL },
    { "GET 007", PUSH_CMD_GET, 7, NULL, NULL },
    { "GET 999999999", PUSH_CMD_GET, 999999999, NULL, NULL },
    { "LIST", PUSH_CMD_LIST, 0, NULL, NULL },
    { "list", PUSH_CMD_LIST, 0, NULL, NULL },
    { "More", PUSH_CMD_MORE, 0, NULL, NULL },
    { "STOP", PUSH_CMD_STOP, 0, NULL, NULL },
    { "stop please", PUSH_CMD_STOP, 0, NULL, NULL },
    { "Stop!", PUSH_CMD_STOP, 0, NULL, NULL },
    { "STOP \xff\x01", PUSH_CMD_STOP, 0, NULL, NULL },
    { "start", PUSH_CMD_START, 0, NULL, NULL },
    { "HELP?", PUSH_CMD_HELP, 0, NULL, NULL },
    { "\n\thelp\n", PUSH_CMD_HELP, 0, NULL, NULL },
    { "REPLY 3 hi there", PUSH_CMD_REPLY, 3, NULL, "hi there" },
    { "reply   3   hi\n  there  ", PUSH_CMD_REPLY, 3, NULL,
      "hi\n  there" },
    { "REPLY3 ok", PUSH_CMD_REPLY, 3, NULL, "ok" },
    { "REPLY 3", PUSH_CMD_REPLY, 3, NULL, "" },
    { "reply 5 Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80", PUSH_CMD_REPLY, 5,
      NULL, "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80" },
    { "SEND bob@x.com,ann@y.org hello", PUSH_CMD_SEND, 0,
      "bob@x.com,ann@y.org", "hello" },
    { "send bob@x.com , ann@y.org  hello you", PUSH_CMD_SEND, 0,
      "bob@x.com,ann@y.org", "hello you" },
    { "SEND bob@x.com", PUSH_CMD_SEND, 0, "bob@x.com", "" },
    { "SEND\tbob@x.com\nline1\nline2", PUSH_CMD_SEND, 0, "bob@x.com",
      "line1\nline2" },
    { "", PUSH_CMD_UNKNOWN, 0, NULL, NULL },
    { "   \n\t ", PUSH_CMD_UNKNOWN, 0, NULL, NULL },
    { "hello", PUSH_CMD_UNKNOWN, 0, NULL, NULL },
    { "GETTING 3", PUSH_CMD_UNKNOWN, 0, NULL, NULL },
    { "Stopp", PUSH_CMD_UNKNOWN, 0, NULL, NULL },
    { "Get\xc3\xa9 3", PUSH_CMD_UNKNOWN, 0, NULL, NULL },
    { "3 GET", PUSH_CMD_UNKNOWN, 0, NULL, NULL },
    { "\xff\xfe", PUSH_CMD_UNKNOWN, 0, NULL, NULL },
    { "GET 0", PUSH_CMD_BAD, 0, NULL, NULL },
    { "GET -1", PUSH_CMD_BAD, 0, NULL, NULL },
    { "GET +1", PUSH_CMD_BAD, 0, NULL, NULL },
    { "GET 1000000000", PUSH_CMD_BAD, 0, NULL, NULL },
    { "GET 99999999999999999999", PUSH_CMD_BAD, 0, NULL, NULL },
    { "GET x", PUSH_CMD_BAD, 0, NULL, NULL },
    { "GET 3x", PUSH_CMD_BAD, 0, NULL, NULL },
    { "GET 0x10", PUSH_CMD_BAD, 0, NULL, NULL },
    { "GET 3 4", PUSH_CMD_BAD, 0, NULL, NULL },
    { "GET.3", PUSH_CMD_BAD, 0, NULL, NULL },
    { "GET 3\x01", PUSH_CMD_BAD, 0, NULL, NULL },
    { "REPLY", PUSH_CMD_BAD, 0, NULL, NULL },
    { "REPLY hi", PUSH_CMD_BAD, 0, NULL, NULL },
    { "REPLY 0 hi", PUSH_CMD_BAD, 0, NULL, NULL },
    { "REPLY 3 bad\xc0\xafutf8", PUSH_CMD_BAD, 0, NULL, NULL },
    { "REPLY 3 nul\x7f", PUSH_CMD_BAD, 0, NULL, NULL },
    { "SEND", PUSH_CMD_BAD, 0, NULL, NULL },
    { "SEND hello there", PUSH_CMD_BAD, 0, NULL, NULL },
    { "SEND @x.com hi", PUSH_CMD_BAD, 0, NULL, NULL },
    { "SEND a@b@c hi", PUSH_CMD_BAD, 0, NULL, NULL },
    { "SEND bob@x.com,,ann@y.org hi", PUSH_CMD_BAD, 0, NULL, NULL },
    { "SEND bob@x.com, hi", PUSH_CMD_BAD, 0, NULL, NULL },
    { "SEND <bob@x.com> hi", PUSH_CMD_BAD, 0, NULL, NULL },
    { "SEND b\xc3\xb6" "b@x.com hi", PUSH_CMD_BAD, 0, NULL, NULL },
    { "SEND a@b.c,a@b.c,a@b.c,a@b.c,a@b.c,a@b.c,a@b.c,a@b.c,a@b.c,"
      "a@b.c,a@b.c hi", PUSH_CMD_BAD, 0, NULL, NULL },
};

static void test_table(void)
{
    size_t i;

    test_begin("command table");
    for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        Octstr *in = octstr_create(tab[i].in);
        PushCmd *c = push_cmd_parse(in);
        int ok = c->type == tab[i].type && c->n == tab[i].n;

        if (tab[i].address == NULL)
            ok = ok && c->address == NULL;
        else
            ok = ok && c->address != NULL
                 && strcmp(octstr_get_cstr(c->address),
                           tab[i].address) == 0;
        if (tab[i].text == NULL)
            ok = ok && c->text == NULL;
        else
            ok = ok && c->text != NULL
                 && strcmp(octstr_get_cstr(c->text), tab[i].text) == 0;
        ok = ok && ((c->type == PUSH_CMD_BAD) == (c->error != NULL));
        if (c->error != NULL)
            ok = ok && octstr_len(c->error) > 0
                 && octstr_len(c->error) <= 70;
        if (!ok)
            fprintf(stderr, "  case %lu \"%s\": type %s n %ld\n",
                    (unsigned long) i, tab[i].in,
                    push_cmd_type_name(c->type), c->n);
        test_assert(ok);
        push_cmd_destroy(c);
        octstr_destroy(in);
    }
    test_end();
}

static void test_messages(void)
{
    PushCmd *c;

    test_begin("error texts");
    c = push_cmd_parse(octstr_imm("GET x"));
    test_assert_str(octstr_get_cstr(c->error),
                    "GET needs a mail number, e.g. GET 3");
    push_cmd_destroy(c);
    push_cmd_destroy(NULL);
    c = push_cmd_parse(NULL);
    test_assert(c->type == PUSH_CMD_UNKNOWN);
    push_cmd_destroy(c);
    test_assert_str(push_cmd_type_name(PUSH_CMD_SEND), "SEND");
    test_end();
}

static void test_hostile(void)
{
    Octstr *in;
    PushCmd *c;
    long i, k;

    test_begin("length limit");
    in = octstr_create("REPLY 3 ");
    while (octstr_len(in) < PUSH_CMD_MAX_LEN)
        octstr_append_char(in, 'x');
    c = push_cmd_parse(in);
    test_assert(c->type == PUSH_CMD_REPLY);
    test_assert(octstr_len(c->text) == PUSH_CMD_MAX_LEN - 8);
    push_cmd_destroy(c);
    octstr_append_char(in, 'x');
    c = push_cmd_parse(in);
    test_assert(c->type == PUSH_CMD_BAD);
    test_assert_str(octstr_get_cstr(c->error), "Message too long");
    push_cmd_destroy(c);
    octstr_destroy(in);
    test_end();

    test_begin("embedded NUL and binary junk");
    in = octstr_create_from_data("GET 3\0 4", 8);
    c = push_cmd_parse(in);
    test_assert(c->type == PUSH_CMD_BAD);
    push_cmd_destroy(c);
    octstr_destroy(in);
    in = octstr_create_from_data("LIST\0", 5);
    c = push_cmd_parse(in);
    test_assert(c->type == PUSH_CMD_LIST);
    push_cmd_destroy(c);
    octstr_destroy(in);
    for (i = 0; i < 2000; i++) {
        static const char *pre[] = { "", "GET ", "REPLY ", "SEND ",
                                     "SEND a@b.c ", "REPLY 1 " };
        in = octstr_create(pre[i % 6]);
        for (k = gw_rand() % 60; k > 0; k--)
            octstr_append_char(in, gw_rand() & 0xFF);
        c = push_cmd_parse(in);
        test_assert(c != NULL);
        test_assert((c->type == PUSH_CMD_BAD) == (c->error != NULL));
        push_cmd_destroy(c);
        octstr_destroy(in);
    }
    test_end();
}

int main(void)
{
    int r;

    gwlib_init();
    log_set_output_level(GW_WARNING);
    test_table();
    test_messages();
    test_hostile();
    r = test_exit();
    gwlib_shutdown();
    return r;
}
