/*
 * convert-mms.h - a mail (RFC 5322 + MIME) as a multimedia message
 * (MM): multipart/related with an OMA-subset SMIL presentation, UTF-8
 * text slides and scaled JPEG/GIF/PNG image slides, fitted to a size.
 *
 * Exports: convert_mms_build, convert_mms_destroy.
 *
 * The MM: a SMIL part (start), then one slide per text chunk and per
 * image.  Slide 1 is "From / Subject / Date"; the body (HTML turned to
 * text by convert-text) follows in chunks of CONVERT_MMS_SLIDE_TEXT
 * bytes cut at whitespace; each image gets its own slide with a caption.
 * Attachments that are not images are listed by name, type and size,
 * never sent.  Every part has a Content-ID "<pNNN.nN@pushmail>" (unique
 * and prefix-free: Mbuni matches them by prefix) and a
 * Content-Location; text is 8bit (base64 when a line is too long for
 * 8bit), images base64, never quoted-printable.
 *
 * Size: the body bytes never exceed o->max_size.  Images are made to
 * fit o->max_width x o->max_height (kept as they are when JPEG, GIF or
 * PNG already inside the box and small enough), then the JPEG quality
 * falls step by step, then the dimensions, then images are dropped
 * largest first, each named in the text ("[image dropped: x.jpg, too
 * large]"); the text itself is cut when it alone is too large.
 *
 * Images under 48x48 pixels, or under 8 pixels either way (icons,
 * rules, tracking pixels), are left out without a word.
 *
 * Limits: those of convert-text.h for the mail; CONVERT_MMS_MAX_IMAGES
 * images decoded per mail (the rest are named as not sent);
 * CONVERT_MMS_MAX_IMAGE_BYTES of image input in total per mail.
 *
 * Logs: debug under "convert.mms" (counts and sizes, never content).
 * GMime and libvips objects never leave convert-mms.c/convert-image.c.
 */
#ifndef CONVERT_MMS_H
#define CONVERT_MMS_H

#include "gwlib/gwlib.h"

#define CONVERT_MMS_MAX_IMAGES      20
#define CONVERT_MMS_MAX_IMAGE_BYTES (40L * 1024 * 1024)
#define CONVERT_MMS_SLIDE_TEXT      3000
#define CONVERT_MMS_MIN_SIZE        2048   /* smaller max_size: refused */

typedef struct {
    long max_size;               /* whole MM body, bytes */
    long max_width, max_height;  /* image box, pixels */
    int trim_quotes;             /* drop quoted replies and signature */
} ConvertMmsOpts;

typedef struct {
    /* full value: multipart/related; type="application/smil";
     * start="<...>"; boundary="..." (one line, no folding) */
    Octstr *content_type;
    Octstr *body;       /* the MIME body bytes (after the top header) */
    Octstr *subject;    /* decoded UTF-8 subject, "" if none */
    long parts;         /* MIME parts in body, SMIL included */
    long images;        /* images sent */
    long images_dropped;        /* images named but not sent */
    long attachments_listed;    /* other attachments named in the text */
} ConvertMms;

/*
 * Convert mail number `n` (used in the text and the Content-IDs) from
 * `raw_mail` (not modified, not kept).  Returns a new ConvertMms
 * (caller frees with convert_mms_destroy) or NULL with *err_r (if not
 * NULL) a new Octstr short reason (not a mail, max_size below
 * CONVERT_MMS_MIN_SIZE, ...).  Hostile mail gives a result or an
 * error, with bounded work.  Thread-safe after convert_init() and
 * convert_image_init().
 */
ConvertMms *convert_mms_build(const Octstr *raw_mail, long n,
                              const ConvertMmsOpts *o, Octstr **err_r);
void convert_mms_destroy(ConvertMms *m);    /* NULL is fine */

#endif
