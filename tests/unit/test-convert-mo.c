/*
 * test-convert-mo.c - unit tests for convert-mo.c: address lists,
 * subjects, MMs in the example form (SMIL + 8bit text + base64 JPEG) and
 * in MMSC quirk forms (nested multiparts, quoted-printable text with and
 * without its transfer encoding, Content-ID without brackets, single
 * parts, MIBenum charsets), hostile MMs, mails built from SMS text and
 * from MMs (read back with GMime), reply drafts completed for threading.
 */
#include <gmime/gmime.h>

#include "gwlib/gwlib.h"
#include "convert-mo.h"
#include "convert-text.h"
#include "test-common.h"

#define OS(s) octstr_imm(s)

/* The 64x48 JPEG of the MM7 examples, base64 (first bytes suffice). */
#define JPEG_B64 \
    "/9j/4AAQSkZJRgABAQAAAQABAAD//gAWcHVzaG1haWwgdGVzdCB2ZWN0b3L/2wBDAAgICAgI\r\n" \
    "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAj/\r\n"

/* The MM of the example DeliverReq: related{SMIL, 8bit text, base64
 * JPEG}, start and Content-IDs in brackets. */
static const char *mm_example_ct =
    "multipart/related; type=\"application/smil\"; start=\"<smil.smil>\"; "
    "boundary=\"mms-parts-7d1f2a\"";
static const char *mm_example =
    "--mms-parts-7d1f2a\r\n"
    "Content-Type: application/smil; charset=utf-8\r\n"
    "Content-ID: <smil.smil>\r\n"
    "Content-Location: smil.smil\r\n"
    "\r\n"
    "<smil><body><par dur=\"8000ms\"><img src=\"cid:image1.jpg\"/>"
    "<text src=\"cid:text1.txt\"/></par></body></smil>\r\n"
    "\r\n"
    "--mms-parts-7d1f2a\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-ID: <text1.txt>\r\n"
    "Content-Location: text1.txt\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "REPLY 3\r\n"
    "Thanks Alice, see picture. Bob \xc3\xa9t\xc3\xa9\r\n"
    "\r\n"
    "--mms-parts-7d1f2a\r\n"
    "Content-Type: image/jpeg; name=\"image1.jpg\"\r\n"
    "Content-ID: <image1.jpg>\r\n"
    "Content-Location: image1.jpg\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    JPEG_B64
    "--mms-parts-7d1f2a--\r\n";

/* Mbuni-like: mixed{related{text QP with CTE, text QP without CTE},
 * amr by Content-Location, video named by a Content-ID without
 * brackets}, LF line ends. */
static const char *mm_quirky_ct = "multipart/mixed; boundary=outer";
static const char *mm_quirky =
    "--outer\n"
    "Content-Type: multipart/related; boundary=\"inner\"\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain; charset=\"UTF-8\"\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Gr=C3=BC=C3=9Fe aus M=C3=BCnchen, this line is long enough to need a so=\n"
    "ft break.\n"
    "--inner\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Caf=C3=A9 au lait =3D 2 euros\n"
    "--inner--\n"
    "--outer\n"
    "Content-Type: audio/amr\n"
    "Content-Location: voice.amr\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "IyFBTVIK\n"
    "--outer\n"
    "Content-Type: video/3gpp\n"
    "Content-ID: clip-01\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "AAAAGGZ0eXAzZ3A0\n"
    "--outer--\n";

static void test_addresses(void)
{
    List *l;
    Octstr *err = NULL;

    test_begin("addresses: list, spaces, duplicates");
    l = convert_mo_addresses(OS(" bob@example.com, ann.lee+x@mail.example"
                                ".org ,,BOB@example.com "), &err);
    test_assert(l != NULL && err == NULL);
    test_assert(l != NULL && gwlist_len(l) == 2);
    if (l != NULL && gwlist_len(l) == 2) {
        test_assert_str(octstr_get_cstr(gwlist_get(l, 0)),
                        "bob@example.com");
        test_assert_str(octstr_get_cstr(gwlist_get(l, 1)),
                        "ann.lee+x@mail.example.org");
    }
    gwlist_destroy(l, octstr_destroy_item);
    test_end();

    test_begin("addresses: bad ones are named");
    l = convert_mo_addresses(OS("bob@example.com,carl@localhost"), &err);
    test_assert(l == NULL && err != NULL &&
                octstr_search(err, OS("\"carl@localhost\""), 0) >= 0);
    octstr_destroy(err);
    l = convert_mo_addresses(OS("bob"), &err);
    test_assert(l == NULL && err != NULL &&
                octstr_search(err, OS("\"bob\""), 0) >= 0);
    octstr_destroy(err);
    l = convert_mo_addresses(OS(" , "), &err);
    test_assert(l == NULL && err != NULL);
    octstr_destroy(err);
    l = convert_mo_addresses(OS("a@b.org,c@d.org,e@f.org,g@h.org,i@j.org,"
                                "k@l.org,m@n.org,o@p.org,q@r.org,s@t.org,"
                                "u@v.org"), &err);
    test_assert(l == NULL && err != NULL &&
                octstr_search(err, OS("10"), 0) >= 0);
    octstr_destroy(err);
    test_assert(convert_mo_address_ok(OS("a@b.co")));
    test_assert(!convert_mo_address_ok(OS("a b@c.org")));
    test_assert(!convert_mo_address_ok(OS("\"a\"@c.org")));
    test_assert(!convert_mo_address_ok(OS("a@c..org")));
    test_assert(!convert_mo_address_ok(OS("a@-c.org")));
    test_assert(!convert_mo_address_ok(OS("a.@c.org")));
    test_assert(!convert_mo_address_ok(OS("a@[1.2.3.4]")));
    test_assert(!convert_mo_address_ok(OS("a@c.org\r\nRCPT TO:<x@y.z>")));
    test_assert(!convert_mo_address_ok(OS("<a@c.org>")));
    test_assert(!convert_mo_address_ok(OS("a@c.org.")));
    test_assert(!convert_mo_address_ok(OS("r\xc3\xa9@c.org")));
    test_assert(!convert_mo_address_ok(NULL));
    test_end();
}

static void test_subject(void)
{
    Octstr *s;

    test_begin("subject: first words");
    s = convert_mo_subject(OS("  Lunch   at noon\ntomorrow by the fountain"),
                           3);
    test_assert_str(octstr_get_cstr(s), "Lunch at noon...");
    octstr_destroy(s);
    s = convert_mo_subject(OS("Lunch at noon"), 3);
    test_assert_str(octstr_get_cstr(s), "Lunch at noon");
    octstr_destroy(s);
    s = convert_mo_subject(OS("Gr\xc3\xbc\xc3\x9f" "e  dich"), 6);
    test_assert_str(octstr_get_cstr(s), "Gr\xc3\xbc\xc3\x9f" "e dich");
    octstr_destroy(s);
    s = convert_mo_subject(OS(" \n "), 6);
    test_assert_str(octstr_get_cstr(s), "");
    octstr_destroy(s);
    s = convert_mo_subject(NULL, 6);
    test_assert_str(octstr_get_cstr(s), "");
    octstr_destroy(s);
    test_end();

    test_begin("subject: a huge word is cut at a character");
    {
        Octstr *w = octstr_create("");
        long i;

        for (i = 0; i < 300; i++)
            octstr_append_cstr(w, "\xc3\xa9");
        s = convert_mo_subject(w, 6);
        test_assert(octstr_len(s) <= CONVERT_MO_SUBJECT_MAX);
        test_assert(octstr_len(s) > 150);
        test_assert(octstr_search(s, OS("..."), 0) == octstr_len(s) - 3);
        test_assert((octstr_get_char(s, octstr_len(s) - 5) & 0xff) == 0xc3);
        octstr_destroy(s);
        octstr_destroy(w);
    }
    test_end();
}

static ConvertMoPart *part_at(ConvertMm *m, long i)
{
    return m != NULL && i < gwlist_len(m->parts) ? gwlist_get(m->parts, i)
                                                 : NULL;
}

static void test_mm(void)
{
    ConvertMm *m;
    ConvertMoPart *p;
    Octstr *err = NULL, *jpeg;

    jpeg = octstr_create(JPEG_B64);
    octstr_base64_to_binary(jpeg);

    test_begin("MM: the example form (SMIL dropped, text, JPEG)");
    m = convert_mm_parse(OS(mm_example_ct), OS(mm_example), &err);
    test_assert(m != NULL && err == NULL);
    if (m != NULL) {
        test_assert_str(octstr_get_cstr(m->text), "REPLY 3\nThanks Alice, "
                        "see picture. Bob \xc3\xa9t\xc3\xa9");
        test_assert(gwlist_len(m->parts) == 1 && m->dropped == 1);
        p = part_at(m, 0);
        test_assert(p != NULL && octstr_str_compare(p->name,
                                                    "image1.jpg") == 0);
        test_assert(p != NULL && octstr_str_compare(p->type,
                                                    "image/jpeg") == 0);
        test_assert(p != NULL && octstr_compare(p->data, jpeg) == 0);
    }
    convert_mm_destroy(m);
    test_end();

    test_begin("MM: nested, QP with and without CTE, names");
    m = convert_mm_parse(OS(mm_quirky_ct), OS(mm_quirky), &err);
    test_assert(m != NULL && err == NULL);
    if (m != NULL) {
        test_assert_str(octstr_get_cstr(m->text), "Gr\xc3\xbc\xc3\x9f" "e "
                        "aus M\xc3\xbcnchen, this line is long enough to "
                        "need a soft break.\n\nCaf\xc3\xa9 au lait = 2 "
                        "euros");
        test_assert(gwlist_len(m->parts) == 2);
        p = part_at(m, 0);
        test_assert(p != NULL && octstr_str_compare(p->name,
                                                    "voice.amr") == 0);
        test_assert(p != NULL && octstr_str_compare(p->type,
                                                    "audio/amr") == 0);
        test_assert(p != NULL && octstr_str_compare(p->data,
                                                    "#!AMR\n") == 0);
        p = part_at(m, 1);
        test_assert(p != NULL && octstr_str_compare(p->name,
                                                    "clip-01.3gp") == 0);
        test_assert(p != NULL && octstr_str_compare(p->type,
                                                    "video/3gpp") == 0);
    }
    convert_mm_destroy(m);
    test_end();

    test_begin("MM: text that only looks like QP stays as it is");
    m = convert_mm_parse(OS("text/plain"), OS("E=MC2 and a=b, 1+1=2\r\n"),
                         &err);
    test_assert(m != NULL &&
                octstr_str_compare(m->text, "E=MC2 and a=b, 1+1=2") == 0);
    convert_mm_destroy(m);
    m = convert_mm_parse(OS("text/plain"), OS("x=41 y=42"), &err);
    test_assert(m != NULL && octstr_str_compare(m->text, "x=41 y=42") == 0);
    convert_mm_destroy(m);
    test_end();

    test_begin("MM: single parts, charsets, no type");
    m = convert_mm_parse(OS("text/plain; charset=106"),
                         OS("Hej p\xc3\xa5 dig"), &err);
    test_assert(m != NULL && octstr_str_compare(m->text,
                                                "Hej p\xc3\xa5 dig") == 0);
    convert_mm_destroy(m);
    m = convert_mm_parse(OS("text/plain; charset=iso-8859-1"),
                         OS("Hej p\xe5 dig"), &err);
    test_assert(m != NULL && octstr_str_compare(m->text,
                                                "Hej p\xc3\xa5 dig") == 0);
    convert_mm_destroy(m);
    m = convert_mm_parse(NULL, OS("plain words"), &err);
    test_assert(m != NULL && octstr_str_compare(m->text,
                                                "plain words") == 0);
    convert_mm_destroy(m);
    m = convert_mm_parse(OS("image/jpeg"), jpeg, &err);
    test_assert(m != NULL && gwlist_len(m->parts) == 1 &&
                octstr_len(m->text) == 0);
    p = part_at(m, 0);
    test_assert(p != NULL && octstr_str_compare(p->name, "part1.jpg") == 0);
    test_assert(p != NULL && octstr_compare(p->data, jpeg) == 0);
    convert_mm_destroy(m);
    m = convert_mm_parse(OS("text/html; charset=utf-8"),
                         OS("<html><body><p>Hi <b>there</b></p></body>"
                            "</html>"), &err);
    test_assert(m != NULL && octstr_str_compare(m->text, "Hi there") == 0);
    convert_mm_destroy(m);
    m = convert_mm_parse(OS("multipart/alternative; boundary=b"),
                         OS("--b\r\nContent-Type: text/html\r\n\r\n<p>html"
                            "</p>\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
                            "plain\r\n--b--\r\n"), &err);
    test_assert(m != NULL && octstr_str_compare(m->text, "plain") == 0);
    convert_mm_destroy(m);
    m = convert_mm_parse(OS("multipart/mixed; boundary=b"), NULL, &err);
    test_assert(m != NULL && octstr_len(m->text) == 0 &&
                gwlist_len(m->parts) == 0);
    convert_mm_destroy(m);
    test_end();

    test_begin("MM: hostile names, types and structure");
    m = convert_mm_parse(OS("multipart/mixed; boundary=b"),
                         OS("--b\r\nContent-Type: image/gif; name=\"../../"
                            "etc/passwd\"\r\n\r\nGIF89a\r\n--b\r\n"
                            "Content-Type: bad type here\r\nContent-"
                            "Location: ..hidden\r\n\r\nxx\r\n--b\r\n"
                            "Content-Type: application/pdf\r\nContent-"
                            "Disposition: attachment; filename=\"=?utf-8?"
                            "B?w6l0w6kucGRm?=\"\r\n\r\n%PDF\r\n--b--\r\n"),
                         &err);
    test_assert(m != NULL && gwlist_len(m->parts) == 3);
    p = part_at(m, 0);
    test_assert(p != NULL && octstr_str_compare(p->name,
                                                "passwd.gif") == 0);
    p = part_at(m, 1);
    test_assert(p != NULL && octstr_str_compare(p->name, "hidden") == 0);
    test_assert(p != NULL && octstr_str_compare(p->type,
                "text/plain") != 0);
    p = part_at(m, 2);
    test_assert(p != NULL && octstr_str_compare(p->name,
                "\xc3\xa9t\xc3\xa9.pdf") == 0);
    convert_mm_destroy(m);
    {
        Octstr *deep = octstr_create(""), *ct;
        long i;

        for (i = 0; i < 150; i++)
            octstr_format_append(deep, "--b%ld\r\nContent-Type: multipart/"
                                 "mixed; boundary=b%ld\r\n\r\n", i, i + 1);
        ct = octstr_create("multipart/mixed; boundary=b0");
        m = convert_mm_parse(ct, deep, &err);
        test_assert(m == NULL && err != NULL);
        octstr_destroy(err);
        err = NULL;
        octstr_truncate(deep, 0);
        for (i = 0; i < 40; i++)
            octstr_format_append(deep, "--b%ld\r\nContent-Type: multipart/"
                                 "mixed; boundary=b%ld\r\n\r\n", i, i + 1);
        octstr_append_cstr(deep, "--b40\r\nContent-Type: text/plain\r\n\r\n"
                           "deep text\r\n--b40--\r\n");
        m = convert_mm_parse(ct, deep, &err);
        test_assert(m != NULL && m->dropped > 0 &&
                    octstr_len(m->text) == 0);
        convert_mm_destroy(m);
        octstr_destroy(ct);
        octstr_destroy(deep);
    }
    m = convert_mm_parse(OS("multipart/related; boundary=nothere"),
                         OS("no boundary at all\r\n"), &err);
    test_assert(m != NULL && gwlist_len(m->parts) == 0);
    convert_mm_destroy(m);
    test_end();
    octstr_destroy(jpeg);
}

/* --- reading built mail back with GMime ------------------------------ */

static GMimeMessage *parse_msg(const Octstr *raw)
{
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(
        octstr_get_cstr(raw), octstr_len(raw));
    GMimeParser *p = g_mime_parser_new_with_stream(s);
    GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

    g_object_unref(p);
    g_object_unref(s);
    return m;
}

static const char *hdr(GMimeMessage *m, const char *name)
{
    return g_mime_object_get_header(GMIME_OBJECT(m), name);
}

static int crlf_only(const Octstr *raw)
{
    long i;

    for (i = 0; i < octstr_len(raw); i++)
        if (octstr_get_char(raw, i) == '\n' &&
            (i == 0 || octstr_get_char(raw, i - 1) != '\r'))
            return 0;
    return 1;
}

/* 1 if every line of the header block is 7-bit. */
static int header_7bit(const Octstr *raw)
{
    long end = octstr_search(raw, OS("\r\n\r\n"), 0), i;

    for (i = 0; i < end; i++)
        if (octstr_get_char(raw, i) >= 0x80)
            return 0;
    return end > 0;
}

static void test_build(void)
{
    ConvertMoHead h;
    List *to = gwlist_create();
    Octstr *raw, *id = NULL, *err = NULL;
    ConvertMail *cm;
    GMimeMessage *msg;
    ConvertMm *mm;

    gwlist_append(to, octstr_create("bob@example.com"));
    gwlist_append(to, octstr_create("carl@example.org"));
    memset(&h, 0, sizeof(h));
    h.from = OS("ann@mail.example.net");
    h.to = to;
    h.subject = OS("Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen");
    h.date = 1700000000;

    test_begin("build: SMS text mail");
    raw = convert_mo_build(&h, OS("Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen"
                                  "\nSee you at 5."), NULL, &id, &err);
    test_assert(raw != NULL && err == NULL && id != NULL);
    test_assert(raw != NULL && crlf_only(raw) && header_7bit(raw));
    test_assert(id != NULL &&
                octstr_search(id, OS("@mail.example.net"), 0) > 0);
    cm = raw ? convert_mail_parse(raw, 0, NULL) : NULL;
    test_assert(cm != NULL);
    if (cm != NULL) {
        test_assert_str(octstr_get_cstr(cm->from_addr),
                        "ann@mail.example.net");
        test_assert_str(octstr_get_cstr(cm->subject),
                        "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen");
        test_assert_str(octstr_get_cstr(cm->body), "Gr\xc3\xbc\xc3\x9f" "e "
                        "aus M\xc3\xbcnchen\nSee you at 5.");
        test_assert(cm->date_t == 1700000000);
        test_assert(octstr_compare(cm->message_id, id) == 0);
        test_assert(cm->to != NULL &&
                    octstr_search(cm->to, OS("carl@example.org"), 0) >= 0);
        test_assert(gwlist_len(cm->attachments) == 0);
    }
    convert_mail_destroy(cm);
    test_assert(raw && octstr_search(raw, OS("charset=utf-8"), 0) > 0);
    test_assert(raw && octstr_search(raw, OS("X-Pushmail-Reply"), 0) < 0);
    test_assert(convert_mo_draft_n(raw) == 0);
    octstr_destroy(raw);
    octstr_destroy(id);
    test_end();

    test_begin("build: bad heads refused");
    h.from = OS("ann");
    raw = convert_mo_build(&h, OS("x"), NULL, NULL, &err);
    test_assert(raw == NULL && err != NULL);
    octstr_destroy(err);
    h.from = OS("ann@mail.example.net");
    h.to = NULL;
    raw = convert_mo_build(&h, OS("x"), NULL, NULL, &err);
    test_assert(raw == NULL && err != NULL);
    octstr_destroy(err);
    err = NULL;
    h.to = to;
    gwlist_append(to, octstr_create("x@y.org\r\nBcc: evil@z.org"));
    raw = convert_mo_build(&h, OS("x"), NULL, NULL, &err);
    test_assert(raw == NULL && err != NULL);
    octstr_destroy(err);
    err = NULL;
    octstr_destroy(gwlist_get(to, 2));
    gwlist_delete(to, 2, 1);
    test_end();

    test_begin("build: MM mail with attachments, read back");
    mm = convert_mm_parse(OS(mm_example_ct), OS(mm_example), NULL);
    h.subject = OS("Photo & notes <today>");
    raw = mm ? convert_mo_build(&h, mm->text, mm->parts, NULL, &err) : NULL;
    test_assert(raw != NULL && crlf_only(raw));
    msg = raw ? parse_msg(raw) : NULL;
    test_assert(msg != NULL);
    if (msg != NULL && mm != NULL) {
        GMimeObject *top = g_mime_message_get_mime_part(msg);
        test_assert_str(g_mime_message_get_subject(msg),
                        "Photo & notes <today>");
        test_assert(GMIME_IS_MULTIPART(top) &&
                    g_mime_multipart_get_count(GMIME_MULTIPART(top)) == 2);
        if (GMIME_IS_MULTIPART(top) &&
            g_mime_multipart_get_count(GMIME_MULTIPART(top)) == 2) {
            GMimeObject *img = g_mime_multipart_get_part(
                                   GMIME_MULTIPART(top), 1);
            ConvertMoPart *want = gwlist_get(mm->parts, 0);
            GMimeStream *s = g_mime_stream_mem_new();
            GByteArray *ba;

            test_assert_str(g_mime_part_get_filename(GMIME_PART(img)),
                            "image1.jpg");
            test_assert(g_mime_content_type_is_type(
                g_mime_object_get_content_type(img), "image", "jpeg"));
            g_mime_data_wrapper_write_to_stream(
                g_mime_part_get_content(GMIME_PART(img)), s);
            ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
            test_assert((long) ba->len == octstr_len(want->data) &&
                        memcmp(ba->data, octstr_get_cstr(want->data),
                               ba->len) == 0);
            g_object_unref(s);
        }
    }
    if (msg != NULL)
        g_object_unref(msg);
    cm = raw ? convert_mail_parse(raw, 0, NULL) : NULL;
    test_assert(cm != NULL && octstr_search(cm->body,
                OS("Thanks Alice, see picture."), 0) >= 0);
    test_assert(cm != NULL && gwlist_len(cm->attachments) == 1);
    convert_mail_destroy(cm);
    octstr_destroy(raw);
    convert_mm_destroy(mm);
    test_end();
    gwlist_destroy(to, octstr_destroy_item);
}

static const char *original_mail =
    "From: Alice Smith <alice@example.com>\r\n"
    "Reply-To: Alice Lists <alice-replies@example.com>\r\n"
    "To: bob@example.org\r\n"
    "Subject: =?utf-8?q?Q2_figures_=E2=82=AC?=\r\n"
    "Message-ID: <orig-42@example.com>\r\n"
    "References: <first-1@example.com>\r\n <second-2@example.com>\r\n"
    "Date: Tue, 14 May 2024 10:00:00 +0000\r\n"
    "\r\n"
    "The figures.\r\n";

static void test_reply(void)
{
    ConvertMoHead h;
    ConvertMm *mm;
    Octstr *draft, *done, *to = NULL, *err = NULL, *orig;
    GMimeMessage *msg;
    ConvertMail *cm;

    memset(&h, 0, sizeof(h));
    h.from = OS("bob@example.org");
    h.draft_n = 3;
    mm = convert_mm_parse(OS(mm_example_ct), OS(mm_example), NULL);

    test_begin("reply: a draft completed from the original");
    draft = convert_mo_build(&h, mm ? mm->text : NULL,
                             mm ? mm->parts : NULL, NULL, &err);
    test_assert(draft != NULL && convert_mo_draft_n(draft) == 3);
    done = draft ? convert_mo_reply_complete(draft, OS(original_mail), &to,
                                             &err) : NULL;
    test_assert(done != NULL && err == NULL);
    test_assert(to != NULL && octstr_str_compare(to,
                "alice-replies@example.com") == 0);
    test_assert(done != NULL && crlf_only(done));
    test_assert(done != NULL && convert_mo_draft_n(done) == 0);
    msg = done ? parse_msg(done) : NULL;
    test_assert(msg != NULL);
    if (msg != NULL) {
        GMimeObject *top = g_mime_message_get_mime_part(msg);
        char *refs;
        test_assert_str(g_mime_message_get_subject(msg),
                        "Re: Q2 figures \xe2\x82\xac");
        test_assert_str(hdr(msg, "In-Reply-To"), "<orig-42@example.com>");
        refs = g_mime_utils_header_unfold(hdr(msg, "References"));
        g_strdelimit(refs, "\t", ' ');
        test_assert_str(refs, "<first-1@example.com> <second-2@example.com>"
                        " <orig-42@example.com>");
        g_free(refs);
        test_assert(hdr(msg, "X-Pushmail-Reply") == NULL);
        test_assert(GMIME_IS_MULTIPART(top) &&
                    g_mime_multipart_get_count(GMIME_MULTIPART(top)) == 2);
        g_object_unref(msg);
    }
    cm = done ? convert_mail_parse(done, 0, NULL) : NULL;
    test_assert(cm != NULL && octstr_str_compare(cm->reply_to == NULL ?
                cm->from_addr : cm->from_addr, "bob@example.org") == 0);
    test_assert(cm != NULL && octstr_search(cm->body, OS("Thanks Alice"),
                                            0) >= 0);
    convert_mail_destroy(cm);
    octstr_destroy(done);
    octstr_destroy(to);
    to = NULL;
    test_end();

    test_begin("reply: From when no Reply-To; Re: kept; no Message-ID");
    orig = octstr_create("From: carl@example.net\r\nSubject: RE: lunch\r\n"
                         "\r\nbody\r\n");
    done = convert_mo_reply_complete(draft, orig, &to, &err);
    test_assert(done != NULL && to != NULL &&
                octstr_str_compare(to, "carl@example.net") == 0);
    msg = done ? parse_msg(done) : NULL;
    test_assert(msg != NULL && strcmp(g_mime_message_get_subject(msg),
                                      "RE: lunch") == 0);
    test_assert(msg != NULL && hdr(msg, "In-Reply-To") == NULL &&
                hdr(msg, "References") == NULL);
    if (msg != NULL)
        g_object_unref(msg);
    octstr_destroy(done);
    octstr_destroy(to);
    octstr_destroy(orig);
    to = NULL;
    test_end();

    test_begin("reply: no address to reply to, not a draft");
    done = convert_mo_reply_complete(draft, OS("Subject: x\r\n\r\nb\r\n"),
                                     &to, &err);
    test_assert(done == NULL && to == NULL && err != NULL &&
                octstr_search(err, OS("mail 3"), 0) >= 0);
    octstr_destroy(err);
    err = NULL;
    done = convert_mo_reply_complete(OS("Subject: x\r\n\r\nX-Pushmail-Reply:"
                                        " 4\r\n"), OS(original_mail), &to,
                                     &err);
    test_assert(done == NULL && err != NULL);
    octstr_destroy(err);
    test_assert(convert_mo_draft_n(OS("x-pushmail-reply: 12\r\n\r\n")) == 12);
    test_assert(convert_mo_draft_n(OS("X-Pushmail-Reply: 1x\r\n\r\n")) == 0);
    test_end();
    octstr_destroy(draft);
    convert_mm_destroy(mm);
}

int main(void)
{
    gwlib_init();
    log_set_output_level(GW_WARNING);
    convert_init();
    test_addresses();
    test_subject();
    test_mm();
    test_build();
    test_reply();
    convert_deinit();
    gwlib_shutdown();
    return test_exit();
}
