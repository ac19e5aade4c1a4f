/*
 * wap-si.c - SI documents and their WSP push over SMS.
 *
 * Exports: wap_si_created(), wap_si_document(), wap_si_sms() (see
 * wap-si.h).
 *
 * The WBXML comes from Kannel's own SI compiler (libgw's si_compile()),
 * the same one wapbox's PPG uses, so what a phone gets from us matches
 * what it gets from Kannel.  The WSP push header is written here: it is
 * a handful of fixed bytes (WAP-230 8.4: well-known values as short
 * integers, the content type in the general form because of its
 * charset parameter).
 *
 * Limits: see wap-si.h.  Logs: nothing (si_compile logs its failures).
 */
#include <string.h>
#include <time.h>

#include "gw/wap_push_si_compiler.h"
#include "wap-si.h"

#define WSP_PDU_PUSH 0x06
#define WSP_CT_SIC 0x2E             /* application/vnd.wap.sic */
#define WSP_PARAM_CHARSET 0x01
#define WSP_CHARSET_UTF8 106
#define WSP_SHORT(v) ((v) | 0x80)   /* short-integer encoding */

static const unsigned char si_udh[] = {
    0x06,                   /* UDH length */
    0x05, 0x04,             /* IEI 5: 16-bit application ports, 4 bytes */
    0x0B, 0x84,             /* destination port 2948 (WAP push) */
    0x23, 0xF0              /* source port 9200 */
};

Octstr *wap_si_created(long t)
{
    time_t tt = (time_t) t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
        tm.tm_year + 1900 < 1970)
        return octstr_create("1970-01-01T00:00:00Z");
    return octstr_format("%04d-%02d-%02dT%02d:%02d:%02dZ",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* 1 if s is 1..max printable ASCII bytes without spaces. */
static int ascii_ok(const Octstr *s, long max)
{
    long i;

    if (s == NULL || octstr_len(s) == 0 || octstr_len(s) > max)
        return 0;
    for (i = 0; i < octstr_len(s); i++) {
        int c = octstr_get_char(s, i);

        if (c <= 0x20 || c >= 0x7f)
            return 0;
    }
    return 1;
}

static int href_ok(const Octstr *href)
{
    if (!ascii_ok(href, WAP_SI_HREF_MAX))
        return 0;
    return octstr_case_search(href, octstr_imm("http://"), 0) == 0 ||
           octstr_case_search(href, octstr_imm("https://"), 0) == 0;
}

/* Length of the UTF-8 sequence at s[i] (a code point XML allows), or 0
 * when it is not valid UTF-8 or not an XML character. */
static long utf8_char(const Octstr *s, long i, long *cp_r)
{
    long len = octstr_len(s), n, k, cp;
    int c = octstr_get_char(s, i);

    if (c < 0x80) {
        *cp_r = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > len)
        return 0;
    for (k = 1; k < n; k++) {
        int cc = octstr_get_char(s, i + k);

        if ((cc & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    *cp_r = cp;
    return n;
}

/* Append s XML-escaped (for text and attribute values).  For text,
 * control characters become spaces and the result is cut after
 * `max` input bytes at a character boundary.  -1 on invalid UTF-8. */
static int xml_append(Octstr *out, const Octstr *s, long max)
{
    long i = 0, n, cp;

    while (i < octstr_len(s)) {
        n = utf8_char(s, i, &cp);
        if (n == 0)
            return -1;
        if (i + n > max)
            break;
        switch (cp) {
        case '&': octstr_append_cstr(out, "&amp;"); break;
        case '<': octstr_append_cstr(out, "&lt;"); break;
        case '>': octstr_append_cstr(out, "&gt;"); break;
        case '"': octstr_append_cstr(out, "&quot;"); break;
        case '\'': octstr_append_cstr(out, "&apos;"); break;
        default:
            if (cp < 0x20 || cp == 0x7f)
                octstr_append_char(out, ' ');
            else
                octstr_append_data(out, octstr_get_cstr(s) + i, n);
        }
        i += n;
    }
    return 0;
}

Octstr *wap_si_document(const Octstr *href, const Octstr *si_id,
                        long created, const Octstr *text)
{
    Octstr *doc, *when;

    if (!href_ok(href) || !ascii_ok(si_id, WAP_SI_ID_MAX) || text == NULL)
        return NULL;
    when = wap_si_created(created);
    doc = octstr_create("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<!DOCTYPE si PUBLIC \"-//WAPFORUM//DTD SI 1.0//EN\""
                        " \"http://www.wapforum.org/DTD/si.dtd\">\n"
                        "<si>\n<indication href=\"");
    xml_append(doc, href, WAP_SI_HREF_MAX);
    octstr_append_cstr(doc, "\" si-id=\"");
    xml_append(doc, si_id, WAP_SI_ID_MAX);
    octstr_format_append(doc, "\" created=\"%S\" action=\"signal-medium\">",
                         when);
    octstr_destroy(when);
    if (xml_append(doc, text, WAP_SI_TEXT_MAX) < 0) {
        octstr_destroy(doc);
        return NULL;
    }
    octstr_append_cstr(doc, "</indication>\n</si>\n");
    return doc;
}

/* WAP-230 8.1.2 uintvar: 7 bits per byte, most significant first. */
static void append_uintvar(Octstr *out, unsigned long v)
{
    unsigned char b[5];
    int n = 0;

    do {
        b[n++] = v & 0x7F;
        v >>= 7;
    } while (v != 0 && n < 5);
    while (n > 1)
        octstr_append_char(out, b[--n] | 0x80);
    octstr_append_char(out, b[0]);
}

/* The connectionless WSP Push PDU header, up to the data. */
static Octstr *wsp_push_header(int tid)
{
    Octstr *h = octstr_create(""), *pdu = octstr_create("");

    /* Content-Type, general form: value length, media, parameter */
    octstr_append_char(h, 3);
    octstr_append_char(h, WSP_SHORT(WSP_CT_SIC));
    octstr_append_char(h, WSP_SHORT(WSP_PARAM_CHARSET));
    octstr_append_char(h, WSP_SHORT(WSP_CHARSET_UTF8));
    /* no X-Wap-Application-Id: without one the phone assumes wml.ua
     * (WAP-251 6.2.2.1), which is what Kannel's PPG does for wml.ua */

    octstr_append_char(pdu, tid & 0xFF);
    octstr_append_char(pdu, WSP_PDU_PUSH);
    append_uintvar(pdu, (unsigned long) octstr_len(h));
    octstr_append(pdu, h);
    octstr_destroy(h);
    return pdu;
}

int wap_si_sms(const Octstr *href, const Octstr *si_id, long created,
               const Octstr *text, Octstr **udh_r, Octstr **body_r)
{
    Octstr *doc, *wbxml = NULL, *charset, *body;
    int r;

    doc = wap_si_document(href, si_id, created, text);
    if (doc == NULL)
        return -1;
    /* si_compile changes its input and needs a mutable charset */
    charset = octstr_create("UTF-8");
    r = si_compile(doc, charset, &wbxml);
    octstr_destroy(charset);
    octstr_destroy(doc);
    if (r < 0 || wbxml == NULL || octstr_len(wbxml) == 0) {
        octstr_destroy(wbxml);
        return -1;
    }
    /* the TID only pairs a push with a confirmation, which
     * connectionless push has none of: any value will do */
    body = wsp_push_header((int) (created & 0xFF));
    octstr_append(body, wbxml);
    octstr_destroy(wbxml);
    *udh_r = octstr_create_from_data((const char *) si_udh, sizeof(si_udh));
    *body_r = body;
    return 0;
}
