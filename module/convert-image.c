/*
 * convert-image.c - mail images to small baseline JPEGs with libvips.
 *
 * Exports: convert_image_init, convert_image_deinit, convert_image_fit,
 *          convert_image_probe, convert_image_load, convert_image_encode,
 *          convert_image_verify, convert_image_size,
 *          convert_image_destroy (convert-image.h).
 *
 * How: the format is sniffed from the magic bytes (JPEG, PNG, GIF,
 * WebP, TIFF only), the header is read lazily and checked against the
 * pixel limits, then the image is decoded with shrink-on-load where
 * the format has it (JPEG by 2, 4 or 8 in the DCT, keeping at least
 * SHRINK_SLACK of the fitted size; WebP to the exact scale), turned
 * upright (EXIF orientation), converted to sRGB (embedded profile,
 * CMYK, grey, 16-bit), flattened onto white, and resized with a cubic
 * kernel to fit the box.  The result is 3-band 8-bit sRGB held in
 * memory, and each encode is a baseline, Huffman-optimised JPEG with
 * metadata stripped.  (vips_thumbnail_buffer does much the same but
 * with a lanczos3 resize from 1/2 scale: about twice the time.)
 *
 * Limits: see convert-image.h.  Logs nothing; libvips' error buffer is
 * cleared after a failure and never copied into our reasons.
 *
 * Threads: init/deinit from the main thread; the rest only touches
 * objects it created, so it is thread-safe (libvips is).
 */
#include <string.h>

#include <vips/vips.h>

#include "convert-image.h"

/* Shrink JPEGs on load as long as the result keeps this share of the
 * size that fits the box: decoding a 2000x1500 photo at 1/4 (500x375
 * for a 640x480 box) takes half the time of 1/2 and a resize. */
#define SHRINK_SLACK 0.75

struct ConvertImage {
    VipsImage *mem;     /* 3-band uchar sRGB, decoded in memory */
};

static void drop_log(const gchar *domain, GLogLevelFlags level,
                     const gchar *message, gpointer data)
{
}

void convert_image_init(void)
{
    if (VIPS_INIT("pushmail") != 0)
        panic(0, "convert.image: cannot start libvips");
    /* one worker per operation: many conversions run in parallel on
     * our own threads, and memory stays predictable */
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    /* libvips warns on stderr about damaged input: peer data, dropped */
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE
                      | G_LOG_LEVEL_INFO, drop_log, NULL);
    /* defence in depth: our magic-byte check already keeps input away
     * from ImageMagick, PDF, SVG and friends */
    vips_block_untrusted_set(TRUE);
}

void convert_image_deinit(void)
{
    vips_shutdown();
}

static void set_error(Octstr **err_r, const char *why)
{
    if (err_r != NULL)
        *err_r = octstr_create(why);
}

static const char *sniff(const Octstr *in)
{
    const unsigned char *d;
    long n = octstr_len(in);

    if (n < 12)
        return NULL;
    d = (const unsigned char *) octstr_get_cstr(in);
    if (d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return "image/jpeg";
    if (memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)
        return "image/gif";
    if (memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
        return "image/webp";
    if (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0)
        return "image/tiff";
    return NULL;
}

typedef struct {
    const char *type;   /* sniffed MIME type */
    long w, h;          /* as stored */
    int swap;           /* EXIF orientation turns it by 90 degrees */
} Header;

/* Sniff and check the header; 0 ok, -1 with a static reason. */
static int check_header(const Octstr *in, Header *hd, const char **why_r)
{
    VipsImage *hdr;

    if (in == NULL || octstr_len(in) == 0) {
        *why_r = "empty image";
        return -1;
    }
    if (octstr_len(in) > CONVERT_IMAGE_MAX_INPUT) {
        *why_r = "image file too large";
        return -1;
    }
    hd->type = sniff(in);
    if (hd->type == NULL) {
        *why_r = "not a supported image format";
        return -1;
    }
    /* lazy: reads the header only, keeps a pointer to the bytes */
    hdr = vips_image_new_from_buffer(octstr_get_cstr(in), octstr_len(in),
                                     "", "access", VIPS_ACCESS_SEQUENTIAL,
                                     NULL);
    if (hdr == NULL) {
        vips_error_clear();
        *why_r = "damaged image header";
        return -1;
    }
    hd->w = vips_image_get_width(hdr);
    hd->h = vips_image_get_height(hdr);
    hd->swap = vips_image_get_orientation_swap(hdr);
    g_object_unref(hdr);
    if (hd->w < 1 || hd->h < 1 || hd->w > CONVERT_IMAGE_MAX_SIDE
        || hd->h > CONVERT_IMAGE_MAX_SIDE
        || hd->w > CONVERT_IMAGE_MAX_PIXELS / hd->h) {
        *why_r = "image dimensions too large";
        return -1;
    }
    return 0;
}

int convert_image_probe(const Octstr *in, const char **type_r,
                        long *w_r, long *h_r, const char **why_r)
{
    const char *why;
    Header hd;

    if (check_header(in, &hd, &why) != 0) {
        if (why_r != NULL)
            *why_r = why;
        return -1;
    }
    if (type_r != NULL)
        *type_r = hd.type;
    if (w_r != NULL)
        *w_r = hd.w;
    if (h_r != NULL)
        *h_r = hd.h;
    return 0;
}

int convert_image_verify(const Octstr *in)
{
    const char *why;
    Header hd;
    VipsImage *img;
    double avg;
    int rc;

    if (check_header(in, &hd, &why) != 0)
        return -1;
    img = vips_image_new_from_buffer(octstr_get_cstr(in), octstr_len(in),
                                     "", "access", VIPS_ACCESS_SEQUENTIAL,
                                     "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    if (img == NULL) {
        vips_error_clear();
        return -1;
    }
    rc = vips_avg(img, &avg, NULL);     /* reads every pixel */
    g_object_unref(img);
    if (rc != 0)
        vips_error_clear();
    return rc == 0 ? 0 : -1;
}

static long clamp_box(long v)
{
    if (v < 1)
        return 1;
    return v > CONVERT_IMAGE_MAX_BOX ? CONVERT_IMAGE_MAX_BOX : v;
}

/* After an operation img -> *out returning rc: replace *img by *out
 * (taking over its reference); -1 if the operation failed.  `out` is
 * read here, after the call, not as an argument value. */
static int step(VipsImage **img, int rc, VipsImage **out)
{
    g_object_unref(*img);
    *img = rc == 0 ? *out : NULL;
    *out = NULL;
    return rc == 0 ? 0 : -1;
}

static double fit_scale(long w, long h, long max_w, long max_h)
{
    double sx = (double) max_w / w, sy = (double) max_h / h;
    double s = sx < sy ? sx : sy;

    return s < 1.0 ? s : 1.0;
}

/* JPEG shrink-on-load: the largest of 8, 4, 2 that leaves at least
 * SHRINK_SLACK of the size that fits the box, else 1. */
static int jpeg_shrink(double fit)
{
    int s;

    for (s = 8; s > 1; s /= 2)
        if (s * fit * SHRINK_SLACK <= 1.0)
            return s;
    return 1;
}

/* Open for decoding, shrinking on load where the format can. */
static VipsImage *open_scaled(const Octstr *in, const Header *hd,
                              long max_w, long max_h)
{
    void *buf = octstr_get_cstr(in);
    size_t len = octstr_len(in);
    /* rotating needs random access; else stream (less memory) */
    VipsAccess access = hd->swap ? VIPS_ACCESS_RANDOM
                                 : VIPS_ACCESS_SEQUENTIAL;
    double fit;

    fit = hd->swap ? fit_scale(hd->h, hd->w, max_w, max_h)
                   : fit_scale(hd->w, hd->h, max_w, max_h);
    if (strcmp(hd->type, "image/jpeg") == 0)
        return vips_image_new_from_buffer(buf, len, "", "access", access,
                                          "shrink", jpeg_shrink(fit), NULL);
    if (strcmp(hd->type, "image/webp") == 0 && fit < 1.0)
        return vips_image_new_from_buffer(buf, len, "", "access", access,
                                          "scale", fit, NULL);
    return vips_image_new_from_buffer(buf, len, "", "access", access, NULL);
}

/* To sRGB: the embedded profile if it works, else the colour space. */
static int to_srgb(VipsImage **img)
{
    VipsImage *out = NULL;

    if (vips_image_get_typeof(*img, VIPS_META_ICC_NAME) != 0) {
        if (vips_icc_transform(*img, &out, "srgb", "embedded", TRUE,
                               NULL) == 0)
            return step(img, 0, &out);
        vips_error_clear();
    }
    if (vips_image_get_interpretation(*img) == VIPS_INTERPRETATION_sRGB)
        return 0;
    return step(img, vips_colourspace(*img, &out, VIPS_INTERPRETATION_sRGB,
                                      NULL), &out);
}

/* Decode, upright, sRGB, on white, 3-band uchar, fitted to the box; a
 * new image in memory or NULL. */
static VipsImage *decode(const Octstr *in, const Header *hd,
                         long max_w, long max_h)
{
    VipsImage *img, *out = NULL;
    VipsArrayDouble *white;
    double s;
    int rc;

    img = open_scaled(in, hd, max_w, max_h);
    if (img == NULL)
        return NULL;
    if (hd->swap && step(&img, vips_autorot(img, &out, NULL), &out) != 0)
        return NULL;
    if (to_srgb(&img) != 0)
        return NULL;
    if (vips_image_hasalpha(img)) {
        white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
        rc = vips_flatten(img, &out, "background", white, NULL);
        vips_area_unref(VIPS_AREA(white));
        if (step(&img, rc, &out) != 0)
            return NULL;
    }
    if (vips_image_get_bands(img) > 3
        && step(&img, vips_extract_band(img, &out, 0, "n", 3, NULL),
                &out) != 0)
        return NULL;
    if (vips_image_get_bands(img) != 3) {
        g_object_unref(img);
        return NULL;
    }
    if (vips_image_get_format(img) != VIPS_FORMAT_UCHAR
        && step(&img, vips_cast_uchar(img, &out, NULL), &out) != 0)
        return NULL;
    s = fit_scale(vips_image_get_width(img), vips_image_get_height(img),
                  max_w, max_h);
    if (s < 1.0 && step(&img, vips_resize(img, &out, s, "kernel",
                                          VIPS_KERNEL_CUBIC, NULL),
                        &out) != 0)
        return NULL;
    /* rounding must never leave us a pixel over the box */
    if ((vips_image_get_width(img) > max_w
         || vips_image_get_height(img) > max_h)
        && step(&img, vips_crop(img, &out, 0, 0,
                                VIPS_MIN(vips_image_get_width(img), max_w),
                                VIPS_MIN(vips_image_get_height(img), max_h),
                                NULL), &out) != 0)
        return NULL;
    /* decode now, once: every encode below reads this memory copy */
    out = vips_image_copy_memory(img);
    g_object_unref(img);
    return out;
}

ConvertImage *convert_image_load(const Octstr *in, long max_w, long max_h,
                                 Octstr **err_r)
{
    ConvertImage *ci;
    VipsImage *mem;
    const char *why;
    Header hd;

    if (err_r != NULL)
        *err_r = NULL;
    if (check_header(in, &hd, &why) != 0) {
        set_error(err_r, why);
        return NULL;
    }
    mem = decode(in, &hd, clamp_box(max_w), clamp_box(max_h));
    if (mem == NULL) {
        vips_error_clear();
        set_error(err_r, "damaged or unsupported image");
        return NULL;
    }
    ci = gw_malloc(sizeof(*ci));
    ci->mem = mem;
    return ci;
}

void convert_image_size(const ConvertImage *ci, long *w_r, long *h_r)
{
    if (w_r != NULL)
        *w_r = ci ? vips_image_get_width(ci->mem) : 0;
    if (h_r != NULL)
        *h_r = ci ? vips_image_get_height(ci->mem) : 0;
}

int convert_image_encode(ConvertImage *ci, double scale, int quality,
                         Octstr **out_r, long *w_r, long *h_r,
                         Octstr **err_r)
{
    VipsImage *img, *small = NULL;
    void *buf = NULL;
    size_t len = 0;
    int rc;

    if (err_r != NULL)
        *err_r = NULL;
    *out_r = NULL;
    if (ci == NULL) {
        set_error(err_r, "no image");
        return -1;
    }
    if (quality < 1)
        quality = 1;
    if (quality > 100)
        quality = 100;
    img = ci->mem;
    g_object_ref(img);
    if (scale > 0 && scale < 1.0) {
        /* keep at least one pixel each way */
        if (scale * vips_image_get_width(img) < 1)
            scale = 1.0 / vips_image_get_width(img);
        if (scale * vips_image_get_height(img) < 1)
            scale = 1.0 / vips_image_get_height(img);
        if (step(&img, vips_resize(img, &small, scale, NULL), &small) != 0) {
            vips_error_clear();
            set_error(err_r, "cannot scale image");
            return -1;
        }
    }
    rc = vips_jpegsave_buffer(img, &buf, &len, "Q", quality,
                              "strip", TRUE, "interlace", FALSE,
                              "optimize_coding", TRUE, NULL);
    if (rc == 0) {
        *out_r = octstr_create_from_data(buf, (long) len);
        if (w_r != NULL)
            *w_r = vips_image_get_width(img);
        if (h_r != NULL)
            *h_r = vips_image_get_height(img);
    }
    g_free(buf);
    g_object_unref(img);
    if (rc != 0) {
        vips_error_clear();
        set_error(err_r, "cannot encode JPEG");
        return -1;
    }
    return 0;
}

void convert_image_destroy(ConvertImage *ci)
{
    if (ci == NULL)
        return;
    g_object_unref(ci->mem);
    gw_free(ci);
}

int convert_image_fit(const Octstr *in, long max_w, long max_h, int quality,
                      Octstr **out_r, long *w_r, long *h_r, Octstr **err_r)
{
    ConvertImage *ci;
    int rc;

    *out_r = NULL;
    ci = convert_image_load(in, max_w, max_h, err_r);
    if (ci == NULL)
        return -1;
    rc = convert_image_encode(ci, 1.0, quality, out_r, w_r, h_r, err_r);
    convert_image_destroy(ci);
    return rc;
}
