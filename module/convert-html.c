/*
 * convert-html.c - HTML to readable UTF-8 text for SMS, with libxml2's
 * HTML parser.
 *
 * Exports: convert_html_to_text (declared in convert-text.h).
 *
 * Rules: block elements end lines (paragraph-like ones leave a blank
 * line), <br> breaks a line, <li> starts "- ", table cells are
 * separated by spaces, <img alt> shows as "[alt]", <blockquote> lines
 * get "> " (so quote trimming works on HTML mails too), <pre> keeps
 * its line breaks.  Links become "text (url)" when the url differs
 * from the text; only http(s) and mailto urls up to MAX_URL bytes are
 * shown (long tracking urls would eat the SMS budget).  script, style,
 * head, noscript, template, object, svg and elements hidden with the
 * "hidden" attribute or "display:none" are dropped.  Entities are
 * decoded by libxml2.
 *
 * Limits: the parser runs with HTML_PARSE_NONET (no network, no
 * external entities) and HTML_PARSE_IGNORE_ENC (input is UTF-8, any
 * meta charset is ignored).  The tree is walked without recursion, so
 * deep nesting cannot exhaust the stack.
 *
 * Logs nothing.  Thread-safe once convert_init() has called
 * xmlInitParser().
 */
#include <string.h>
#include <strings.h>
#include <limits.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "convert-text.h"
#include "sms-text.h"

#define MAX_URL 120

typedef struct {
    Octstr *out;
    int space;          /* a space is pending */
    int nl;             /* newlines pending (0..2) */
    int quote;          /* blockquote depth */
    int pre;            /* inside <pre> */
    long a_start;       /* output length when the open <a> began */
    xmlNode *a_node;    /* the open <a>, or NULL */
} Html;

static const char *skip_tags[] = {
    "script", "style", "head", "title", "noscript", "template", "object",
    "svg", "iframe", "embed", "applet", "frameset", NULL
};

/* blocks that leave a blank line */
static const char *para_tags[] = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre",
    "hr", "dl", "blockquote", NULL
};

/* blocks that end a line */
static const char *line_tags[] = {
    "div", "li", "tr", "dt", "dd", "section", "article", "header",
    "footer", "nav", "aside", "form", "address", "figure", "figcaption",
    "center", "main", "caption", "fieldset", "legend", "body", "html",
    "tbody", "thead", "tfoot", "details", "summary", NULL
};

static int in_list(const char *name, const char **list)
{
    int i;

    for (i = 0; list[i] != NULL; i++)
        if (strcasecmp(name, list[i]) == 0)
            return 1;
    return 0;
}

static void block(Html *h, int n)
{
    if (h->nl < n)
        h->nl = n;
    h->space = 0;
}

/* Write pending separators before the next visible character. */
static void flush(Html *h)
{
    int i;

    if (octstr_len(h->out) == 0) {
        h->nl = 0;
        h->space = 0;
    }
    if (h->nl > 0) {
        for (i = 0; i < h->nl; i++)
            octstr_append_char(h->out, '\n');
        for (i = 0; i < h->quote; i++)
            octstr_append_cstr(h->out, "> ");
    } else if (h->space) {
        octstr_append_char(h->out, ' ');
    } else if (octstr_len(h->out) == 0) {
        for (i = 0; i < h->quote; i++)
            octstr_append_cstr(h->out, "> ");
    }
    h->nl = 0;
    h->space = 0;
}

static void emit(Html *h, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;

    for (; p != NULL && *p != '\0'; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f'
            || *p == '\n') {
            if (h->pre && *p == '\n') {
                if (h->nl < 2)
                    h->nl++;
                h->space = 0;
            } else if (h->nl == 0) {
                h->space = 1;
            }
            continue;
        }
        if (h->nl > 0 || h->space || octstr_len(h->out) == 0)
            flush(h);
        octstr_append_char(h->out, *p);
    }
}

static int has_attr(xmlNode *n, const char *name)
{
    return xmlHasProp(n, (const xmlChar *) name) != NULL;
}

/* An attribute's value as a new Octstr, or NULL. */
static Octstr *attr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *) name);
    Octstr *os;

    if (v == NULL)
        return NULL;
    os = octstr_create((const char *) v);
    xmlFree(v);
    return os;
}

static int is_hidden(xmlNode *n)
{
    Octstr *style;
    int hidden = 0;

    if (has_attr(n, "hidden"))
        return 1;
    style = attr(n, "style");
    if (style != NULL) {
        octstr_delete_matching(style, octstr_imm(" "));
        hidden = octstr_case_search(style, octstr_imm("display:none"), 0)
                 >= 0;
        octstr_destroy(style);
    }
    return hidden;
}

/* Returns 1 if the node was entered (leave() will be called). */
static int enter(Html *h, xmlNode *n)
{
    const char *name;
    Octstr *alt;

    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        emit(h, (const char *) n->content);
        return 0;
    }
    if (n->type != XML_ELEMENT_NODE || n->name == NULL)
        return 0;
    name = (const char *) n->name;
    if (in_list(name, skip_tags) || is_hidden(n))
        return 0;
    if (strcasecmp(name, "br") == 0) {
        if (h->nl < 2)
            h->nl++;
        h->space = 0;
    } else if (in_list(name, para_tags)) {
        block(h, 2);
    } else if (in_list(name, line_tags)) {
        block(h, 1);
    } else if (strcasecmp(name, "td") == 0 || strcasecmp(name, "th") == 0) {
        if (h->nl == 0)
            h->space = 1;
    } else if (strcasecmp(name, "img") == 0) {
        alt = attr(n, "alt");
        if (alt != NULL) {
            octstr_strip_blanks(alt);
            if (octstr_len(alt) > 0) {
                emit(h, "[");
                emit(h, octstr_get_cstr(alt));
                emit(h, "]");
            }
            octstr_destroy(alt);
        }
    } else if (strcasecmp(name, "a") == 0) {
        h->a_node = n;
        h->a_start = octstr_len(h->out);
    }
    if (strcasecmp(name, "li") == 0)
        emit(h, "- ");
    if (strcasecmp(name, "blockquote") == 0)
        h->quote++;
    if (strcasecmp(name, "pre") == 0)
        h->pre++;
    return 1;
}

/* Strip "scheme://", "mailto:" and a trailing '/' for comparing. */
static Octstr *bare_url(const Octstr *url)
{
    Octstr *u = octstr_duplicate(url);
    long p = octstr_search(u, octstr_imm("://"), 0);

    if (p >= 0 && p < 10)
        octstr_delete(u, 0, p + 3);
    else if (octstr_case_search(u, octstr_imm("mailto:"), 0) == 0)
        octstr_delete(u, 0, 7);
    if (octstr_len(u) > 0 && octstr_get_char(u, octstr_len(u) - 1) == '/')
        octstr_delete(u, octstr_len(u) - 1, 1);
    if (octstr_case_search(u, octstr_imm("www."), 0) == 0)
        octstr_delete(u, 0, 4);
    return u;
}

static void link_done(Html *h, xmlNode *n)
{
    Octstr *href, *text, *a, *b;
    int show;

    h->a_node = NULL;
    href = attr(n, "href");
    if (href == NULL)
        return;
    octstr_strip_blanks(href);
    show = octstr_len(href) <= MAX_URL
           && (octstr_case_search(href, octstr_imm("http://"), 0) == 0
               || octstr_case_search(href, octstr_imm("https://"), 0) == 0
               || octstr_case_search(href, octstr_imm("mailto:"), 0) == 0);
    if (show) {
        text = octstr_copy(h->out, h->a_start,
                           octstr_len(h->out) - h->a_start);
        octstr_strip_blanks(text);
        octstr_strip_crlfs(text);
        a = bare_url(href);
        b = bare_url(text);
        show = octstr_case_compare(a, b) != 0;
        if (octstr_case_search(href, octstr_imm("mailto:"), 0) == 0) {
            octstr_delete(href, 0, 7);
            show = show && octstr_len(text) > 0;
        }
        if (show) {
            emit(h, " (");
            emit(h, octstr_get_cstr(href));
            emit(h, ")");
        }
        octstr_destroy(a);
        octstr_destroy(b);
        octstr_destroy(text);
    }
    octstr_destroy(href);
}

static void leave(Html *h, xmlNode *n)
{
    const char *name;

    if (n->type != XML_ELEMENT_NODE || n->name == NULL)
        return;
    name = (const char *) n->name;
    if (strcasecmp(name, "blockquote") == 0 && h->quote > 0)
        h->quote--;
    if (strcasecmp(name, "pre") == 0 && h->pre > 0)
        h->pre--;
    if (in_list(name, para_tags))
        block(h, 2);
    else if (in_list(name, line_tags))
        block(h, 1);
    else if (n == h->a_node)
        link_done(h, n);
}

/* Walk the tree under root in document order, without recursion. */
static void walk(Html *h, xmlNode *root)
{
    xmlNode *n = root;

    while (n != NULL) {
        if (enter(h, n)) {
            if (n->children != NULL) {
                n = n->children;
                continue;
            }
            leave(h, n);
        }
        while (n != root && n->next == NULL) {
            n = n->parent;
            leave(h, n);
        }
        if (n == root)
            break;
        n = n->next;
    }
}

/* If libxml2 gives up: drop everything between '<' and '>'. */
static Octstr *strip_tags(const Octstr *html)
{
    Octstr *out = octstr_create("");
    long i;
    int c, in_tag = 0;

    for (i = 0; i < octstr_len(html); i++) {
        c = octstr_get_char(html, i);
        if (c == '<')
            in_tag = 1;
        else if (c == '>' && in_tag)
            in_tag = 0;
        else if (!in_tag)
            octstr_append_char(out, c);
    }
    return out;
}

Octstr *convert_html_to_text(const Octstr *html)
{
    Octstr *in, *text;
    htmlDocPtr doc;
    xmlNode *root;
    Html h;

    if (html == NULL || octstr_len(html) == 0)
        return octstr_create("");
    in = sms_text_sanitize(html);
    if (octstr_len(in) > INT_MAX / 2)
        octstr_truncate(in, INT_MAX / 2);
    doc = htmlReadMemory(octstr_get_cstr(in), (int) octstr_len(in), NULL,
                         "UTF-8", HTML_PARSE_NONET | HTML_PARSE_NOERROR
                         | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER
                         | HTML_PARSE_IGNORE_ENC | HTML_PARSE_NODEFDTD);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL) {
        if (doc != NULL)
            xmlFreeDoc(doc);
        text = strip_tags(in);
        octstr_destroy(in);
        in = convert_text_tidy(text);
        octstr_destroy(text);
        return in;
    }
    memset(&h, 0, sizeof(h));
    h.out = octstr_create("");
    walk(&h, root);
    xmlFreeDoc(doc);
    octstr_destroy(in);
    text = convert_text_tidy(h.out);
    octstr_destroy(h.out);
    return text;
}
