/*
 * convert-image.h - decode, scale and re-encode mail images with
 * libvips for MMS: fit a box, never enlarge, alpha flattened onto
 * white, sRGB, metadata stripped, baseline JPEG out.
 *
 * Exports: convert_image_init, convert_image_deinit, convert_image_fit,
 *          convert_image_probe, convert_image_load, convert_image_encode,
 *          convert_image_verify, convert_image_size,
 *          convert_image_destroy.
 *
 * Limits: input at most CONVERT_IMAGE_MAX_INPUT bytes; images whose
 * header says more than CONVERT_IMAGE_MAX_PIXELS pixels (or a side over
 * CONVERT_IMAGE_MAX_SIDE) are refused before any pixel is decoded;
 * only JPEG, PNG, GIF, WebP and TIFF are decoded (sniffed by magic
 * bytes; vector and script formats never reach libvips); boxes are
 * clamped to CONVERT_IMAGE_MAX_BOX; JPEG quality to 1..100.
 *
 * Logs: nothing (errors are returned as short fixed reasons; libvips'
 * own messages are discarded so that no peer data reaches a log).
 *
 * Threads: convert_image_init/deinit from the main thread only, once,
 * before/after every other call; everything else is thread-safe.
 * libvips objects never leave convert-image.c.
 */
#ifndef CONVERT_IMAGE_H
#define CONVERT_IMAGE_H

#include "gwlib/gwlib.h"

#define CONVERT_IMAGE_MAX_INPUT  (20L * 1024 * 1024)
#define CONVERT_IMAGE_MAX_PIXELS (50L * 1000 * 1000)
#define CONVERT_IMAGE_MAX_SIDE   30000L
#define CONVERT_IMAGE_MAX_BOX    4096L

/*
 * Start libvips (vips_init) with one worker thread per operation and
 * the operation cache off, so memory stays low.  Panics if libvips
 * cannot start (start-up only).  convert_image_deinit shuts it down.
 */
void convert_image_init(void);
void convert_image_deinit(void);

/*
 * Scale `in` (image file bytes, not kept) to fit max_w x max_h keeping
 * the aspect ratio (never enlarge) and re-encode it as a baseline JPEG
 * at `quality`.  A large JPEG may come out up to 25% smaller than the
 * box when that lets it decode at 1/2, 1/4 or 1/8 scale (much
 * faster).  Returns 0 with *out_r a new Octstr (caller destroys) and
 * *w_r / *h_r (if not NULL) the output size; -1 when it is not an
 * image, an unsupported or damaged one, or too large, with *err_r (if
 * not NULL) a new Octstr short reason.  Thread-safe.
 */
int convert_image_fit(const Octstr *in, long max_w, long max_h, int quality,
                      Octstr **out_r, long *w_r, long *h_r, Octstr **err_r);

/*
 * Sniff the format and read the header only (cheap).  Returns 0 with
 * *type_r a static MIME type ("image/jpeg", "image/png", "image/gif",
 * "image/webp", "image/tiff") and the size in *w_r / *h_r; -1 when it
 * is not a supported image or the header is bad or over the limits,
 * with *why_r a static short reason.  Any out-parameter may be NULL.
 * Thread-safe.
 */
int convert_image_probe(const Octstr *in, const char **type_r,
                        long *w_r, long *h_r, const char **why_r);

/*
 * Decode every pixel (no scaling) and fail on truncation or a decoder
 * error, so that an image can be passed on as it is: 0 clean, -1 not.
 * Meant for images already within an MMS box (cost grows with pixels).
 * Thread-safe.
 */
int convert_image_verify(const Octstr *in);

/*
 * A decoded image held in memory, already scaled to fit a box, that
 * can be encoded several times (at falling qualities or sizes) without
 * decoding the input again.  convert_image_load returns a new
 * ConvertImage (free with convert_image_destroy; NULL is fine) or NULL
 * with *err_r as convert_image_fit.  convert_image_encode writes a
 * baseline JPEG at `quality` of the image scaled by `scale` (0 < scale
 * <= 1; the result is at least 1x1): 0 with *out_r new, or -1 with
 * *err_r new.  One ConvertImage must not be used by two threads at
 * once; different ones may.
 */
typedef struct ConvertImage ConvertImage;

ConvertImage *convert_image_load(const Octstr *in, long max_w, long max_h,
                                 Octstr **err_r);
int convert_image_encode(ConvertImage *ci, double scale, int quality,
                         Octstr **out_r, long *w_r, long *h_r,
                         Octstr **err_r);
void convert_image_size(const ConvertImage *ci, long *w_r, long *h_r);
void convert_image_destroy(ConvertImage *ci);

#endif
