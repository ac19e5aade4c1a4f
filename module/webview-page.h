/*
 * webview-page.h - one mail as a small-screen web page (XHTML Mobile
 * Profile 1.2) and its pictures scaled for a phone.
 *
 * Exports: WebPageOpts, webview_page_render(), webview_page_image(),
 * webview_page_notice(), webview_path_parse().
 *
 * The page: subject, sender, date, the body as readable text
 * (convert-text's ConvertMail) cut into pages of about page_bytes bytes
 * at paragraph, line or word ends (links "?p=N"), and on the last page
 * the pictures (links to img_base + k, k = 1, 2 ...), the attachment
 * list and how to reply by SMS.  Everything from the mail is escaped;
 * no scripts, no external resources, no links out of the page.
 *
 * The links the page makes ("?p=N", img_base + K) are parsed back by
 * webview_path_parse(), so both ends live here.
 *
 * Limits: mails as convert_mail_parse() takes them; WEBVIEW_IMAGES_MAX
 * pictures (formats convert-image.c decodes); image boxes clamped to
 * 16..CONVERT_IMAGE_MAX_BOX.
 * Threads: any, after convert_init() and convert_image_init().
 * Logs: nothing (GMime objects and mail text stay inside).
 */
#ifndef WEBVIEW_PAGE_H
#define WEBVIEW_PAGE_H

#include "gwlib/gwlib.h"

#define WEBVIEW_PAGE_BYTES 3000     /* body text per page by default */
#define WEBVIEW_IMAGES_MAX 20
#define WEBVIEW_IMG_W 320           /* picture box by default */
#define WEBVIEW_IMG_H 480
#define WEBVIEW_PAGE_MAX 9999       /* highest ?p= accepted */
#define WEBVIEW_TOKEN_MAX 64        /* longest token segment accepted */

enum { WEBVIEW_PATH_NONE = 0, WEBVIEW_PATH_PAGE, WEBVIEW_PATH_IMAGE };

typedef struct {
    long n;                 /* the mail's number for this phone */
    long page;              /* 1-based */
    long page_bytes;        /* <= 0: WEBVIEW_PAGE_BYTES */
    long img_w, img_h;      /* <= 0: WEBVIEW_IMG_W, WEBVIEW_IMG_H */
    int trim_quotes;        /* as convert_mail_parse() */
    int cut_short;          /* the mail was fetched only in part */
    const Octstr *img_base; /* relative link prefix of pictures, e.g.
                               "TOKEN/img/" (the page is at .../TOKEN) */
    const Octstr *reply_to; /* where phones send SMS (may be NULL) */
} WebPageOpts;

/*
 * Render page o->page of the raw mail.  Returns 0 with *html_r a new
 * UTF-8 XHTML-MP document (caller destroys); 1 when the page number is
 * out of range; -1 when the mail cannot be read.  Nothing is kept.
 */
int webview_page_render(const Octstr *raw, const WebPageOpts *o,
                        Octstr **html_r);

/*
 * Picture k (1-based, in the order the page lists them) scaled to fit
 * max_w x max_h as a JPEG.  0 with *jpeg_r new; -1 when there is no
 * such picture or it cannot be converted.
 */
int webview_page_image(const Octstr *raw, long k, long max_w, long max_h,
                       Octstr **jpeg_r);

/*
 * Parse a request path (hostile input): "/m/TOKEN" with page = the ?p=
 * value (NULL when absent: page 1), or "/m/TOKEN/img/K".  TOKEN is
 * 1..WEBVIEW_TOKEN_MAX of A-Z a-z 0-9 - _ (the store checks the rest);
 * numbers are decimal without sign or leading zero, pages
 * 1..WEBVIEW_PAGE_MAX, pictures 1..WEBVIEW_IMAGES_MAX.  Returns
 * WEBVIEW_PATH_PAGE or WEBVIEW_PATH_IMAGE with *token_r new and *arg_r
 * the page or picture number, or WEBVIEW_PATH_NONE (nothing set).
 */
int webview_path_parse(const Octstr *path, const Octstr *page,
                       Octstr **token_r, long *arg_r);

/* A short XHTML-MP page with a title and one line of text (both plain
 * ASCII/UTF-8, escaped here).  New Octstr. */
Octstr *webview_page_notice(const char *title, const char *text);

#endif
