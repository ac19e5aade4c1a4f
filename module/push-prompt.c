/*
 * push-prompt.c - the texts sent to phones: new-mail prompts, summary,
 * LIST lines, the GET text and help.
 *
 * Exports: see push-prompt.h.
 *
 * One-segment texts are built as fixed parts plus variable parts
 * (sender, subject).  The coding is decided on the full text; if it does
 * not fit, the variable parts are cut with sms_text_cut in that coding.
 * Cutting only removes characters, so the result never needs a wider
 * coding than the one measured, and it fits one segment in the coding
 * sms_text_is_gsm() picks for it.
 *
 * Limits: mail numbers are printed as given (the store keeps them to
 * 1..999999999, which the fixed parts are sized for); any text that
 * would still not fit is cut by sms_text_fit as a last resort.
 * Logs nothing.
 */
#include "push-prompt.h"
#include "sms-text.h"

#define LIST_SENDER_UNITS 24

/*
 * A hostile header value made safe for one line: invalid UTF-8 ->
 * U+FFFD, C0/C1 controls and DEL -> space, whitespace runs collapsed,
 * trimmed.  Empty or NULL -> dflt (if not NULL).  New Octstr.
 */
static Octstr *one_line(const Octstr *in, const char *dflt)
{
    Octstr *out = sms_text_one_line(in);

    if (octstr_len(out) == 0 && dflt != NULL)
        octstr_append_cstr(out, dflt);
    return out;
}

static long units_of(const char *s, int gsm)
{
    Octstr *os = octstr_create(s);
    long u = sms_text_units(os, gsm);

    octstr_destroy(os);
    return u;
}

/* Last resort: make sure a text fits one segment. */
static Octstr *one_segment(Octstr *text)
{
    Octstr *out;

    if (sms_text_units(text, sms_text_is_gsm(text))
        <= sms_text_capacity(1, sms_text_is_gsm(text)))
        return text;
    out = sms_text_fit(text, 1, NULL);
    octstr_destroy(text);
    return out;
}

Octstr *push_prompt_new_mail(long n, const Octstr *sender,
                             const Octstr *subject)
{
    Octstr *from = one_line(sender, "unknown");
    Octstr *subj = one_line(subject, "(no subject)");
    Octstr *head = octstr_format("Mail %ld from ", n);
    Octstr *tail = octstr_format(" - reply GET %ld", n);
    Octstr *text, *cut;
    long cap, fixed, avail, su, fu, subj_min;
    int gsm;

    text = octstr_format("%S%S: %S%S", head, from, subj, tail);
    gsm = sms_text_is_gsm(text);
    cap = sms_text_capacity(1, gsm);
    if (sms_text_units(text, gsm) > cap) {
        fixed = sms_text_units(head, gsm) + sms_text_units(tail, gsm)
                + units_of(": ", gsm);
        avail = cap - fixed;
        fu = sms_text_units(from, gsm);
        su = sms_text_units(subj, gsm);
        /* the subject gives way first, down to a fifth of the page */
        subj_min = cap / 5;
        if (su < subj_min)
            subj_min = su;
        if (fu > avail - subj_min) {
            cut = sms_text_cut(from, avail - subj_min, gsm);
            octstr_destroy(from);
            from = cut;
            fu = sms_text_units(from, gsm);
        }
        cut = sms_text_cut(subj, avail - fu, gsm);
        octstr_destroy(subj);
        subj = cut;
        octstr_destroy(text);
        text = octstr_format("%S%S: %S%S", head, from, subj, tail);
    }
    octstr_destroy(from);
    octstr_destroy(subj);
    octstr_destroy(head);
    octstr_destroy(tail);
    return one_segment(text);
}

Octstr *push_prompt_summary(long count, const Octstr *latest_sender)
{
    Octstr *from = one_line(latest_sender, "unknown");
    Octstr *head = octstr_format(count == 1 ? "%ld more mail, latest from "
                                 : "%ld more mails, latest from ", count);
    const char *tail = " - reply LIST";
    Octstr *text, *cut;
    long cap;
    int gsm;

    text = octstr_format("%S%S%s", head, from, tail);
    gsm = sms_text_is_gsm(text);
    cap = sms_text_capacity(1, gsm);
    if (sms_text_units(text, gsm) > cap) {
        cut = sms_text_cut(from, cap - sms_text_units(head, gsm)
                           - units_of(tail, gsm), gsm);
        octstr_destroy(text);
        text = octstr_format("%S%S%s", head, cut, tail);
        octstr_destroy(cut);
    }
    octstr_destroy(from);
    octstr_destroy(head);
    return one_segment(text);
}

Octstr *push_prompt_list_line(long n, const Octstr *sender,
                              const Octstr *subject)
{
    Octstr *from = one_line(sender, "unknown");
    Octstr *subj = one_line(subject, "(no subject)");
    Octstr *f, *s, *line;

    /* UTF-16 units: about one per character */
    f = sms_text_cut(from, LIST_SENDER_UNITS, 0);
    s = sms_text_cut(subj, PUSH_PROMPT_LIST_SUBJECT, 0);
    line = octstr_format("%ld %S: %S", n, f, s);
    octstr_destroy(from);
    octstr_destroy(subj);
    octstr_destroy(f);
    octstr_destroy(s);
    return line;
}

Octstr *push_prompt_mail_text(long n, const ConvertMail *m)
{
    Octstr *text, *from, *addr, *subj, *body, *item;
    long i, count;

    from = one_line(m ? m->from : NULL, "unknown");
    addr = one_line(m ? m->from_addr : NULL, NULL);
    subj = one_line(m ? m->subject : NULL, "(no subject)");
    text = octstr_format("Mail %ld from %S", n, from);
    if (octstr_len(addr) > 0 && octstr_case_compare(addr, from) != 0)
        octstr_format_append(text, " <%S>", addr);
    octstr_format_append(text, "\nSubj: %S", subj);
    if (m != NULL && m->date != NULL && octstr_len(m->date) > 0) {
        item = one_line(m->date, NULL);
        octstr_format_append(text, "\nDate: %S", item);
        octstr_destroy(item);
    }
    octstr_append_cstr(text, "\n\n");
    if (m != NULL && m->body != NULL) {
        body = sms_text_sanitize(m->body);
        octstr_append(text, body);
        octstr_destroy(body);
    }
    count = (m != NULL && m->attachments != NULL)
            ? gwlist_len(m->attachments) : 0;
    for (i = 0; i < count; i++) {
        item = one_line(gwlist_get(m->attachments, i), "?");
        octstr_append_cstr(text, i == 0 ? "\n[Attachments: " : ", ");
        octstr_append(text, item);
        octstr_destroy(item);
    }
    if (count > 0)
        octstr_append_char(text, ']');
    octstr_destroy(from);
    octstr_destroy(addr);
    octstr_destroy(subj);
    return text;
}

Octstr *push_prompt_help(void)
{
    return octstr_create("Commands: GET n, LIST, MORE, STOP, START, HELP");
}

Octstr *push_prompt_unknown(void)
{
    return octstr_create("Unknown command. Send GET n, LIST, MORE, "
                         "REPLY n text, SEND address text, STOP, START "
                         "or HELP");
}
