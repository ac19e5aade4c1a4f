/*
 * bench-convert.c - how many mails per second convert_mms_build turns
 * into MMs, and the peak memory it takes.  Not a test; built with
 * `make tests/bench/bench-convert`.
 *
 * Usage:
 *   bench-convert --generate FILE
 *       write a ~1 MB mail: a text part and two 2000x1500 JPEG photos
 *       (fractal texture, ~450 KB each), for the runs below
 *   bench-convert [-n COUNT] [-t THREADS] [-s MAX_SIZE] FILE
 *       convert FILE COUNT times in each of THREADS threads (default
 *       50, 1, 307200; images fit 640x480) and print conversions per
 *       second, per thread and in total, the MM size and the peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <vips/vips.h>

#include "gwlib/gwlib.h"
#include "convert-image.h"
#include "convert-mms.h"
#include "convert-text.h"

typedef struct {
    Octstr *raw;
    ConvertMmsOpts o;
    long count;
    long failed;
    long mm_size;
    long images;
} Job;

static double now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* A photo-like 2000x1500 texture: three fractal surfaces and a little
 * grain, saved at the JPEG quality that gives 400-500 KB. */
static Octstr *photo(int seed)
{
    VipsImage *base = vips_image_new(), **t, *band[3];
    void *buf = NULL;
    size_t len = 0;
    Octstr *out = NULL;
    int i, q;

    t = (VipsImage **) vips_object_local_array(VIPS_OBJECT(base), 12);
    for (i = 0; i < 3; i++) {
        if (vips_fractsurf(&t[i], 2000, 1500, 2.3 + 0.1 * ((seed + i) % 4),
                           NULL)
            || vips_linear1(t[i], &t[3 + i], 18.0, 110.0 + 20 * i, NULL))
            goto out;
        band[i] = t[3 + i];
    }
    if (vips_bandjoin(band, &t[6], 3, NULL)
        || vips_gaussnoise(&t[7], 2000, 1500, "sigma", 3.0, "mean", 0.0,
                           NULL)
        || vips_add(t[6], t[7], &t[8], NULL)
        || vips_cast_uchar(t[8], &t[9], NULL)
        || vips_copy(t[9], &t[10], "interpretation",
                     VIPS_INTERPRETATION_sRGB, NULL))
        goto out;
    for (q = 95; q >= 40; q -= 5) {
        g_free(buf);
        buf = NULL;
        if (vips_jpegsave_buffer(t[10], &buf, &len, "Q", q, NULL) != 0)
            goto out;
        if (len <= 500 * 1024)
            break;
    }
    out = octstr_create_from_data(buf, len);
out:
    g_free(buf);
    g_object_unref(base);
    return out;
}

static int generate(const char *file)
{
    Octstr *mail, *img;
    FILE *f;
    int i;

    mail = octstr_create("From: Bench <bench@example.org>\r\n"
                         "To: bob@example.com\r\n"
                         "Subject: Holiday photos\r\n"
                         "Date: Fri, 27 Nov 2026 14:02:00 +0100\r\n"
                         "MIME-Version: 1.0\r\n"
                         "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
                         "\r\n--b1\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                         "Hi Bob,\r\n\r\nhere are two photos from the "
                         "beach.\r\n\r\nCheers\r\n");
    for (i = 0; i < 2; i++) {
        img = photo(i);
        if (img == NULL) {
            fprintf(stderr, "cannot make a photo\n");
            return 1;
        }
        fprintf(stderr, "photo %d: %ld bytes\n", i + 1, octstr_len(img));
        octstr_binary_to_base64(img);
        octstr_format_append(mail, "--b1\r\nContent-Type: image/jpeg\r\n"
                             "Content-Disposition: attachment; "
                             "filename=\"photo%d.jpg\"\r\n"
                             "Content-Transfer-Encoding: base64\r\n\r\n%S",
                             i + 1, img);
        octstr_destroy(img);
    }
    octstr_append_cstr(mail, "--b1--\r\n");
    f = fopen(file, "wb");
    if (f == NULL || fwrite(octstr_get_cstr(mail), 1, octstr_len(mail), f)
                     != (size_t) octstr_len(mail) || fclose(f) != 0) {
        perror(file);
        return 1;
    }
    fprintf(stderr, "%s: %ld bytes\n", file, octstr_len(mail));
    octstr_destroy(mail);
    return 0;
}

static void run(void *arg)
{
    Job *j = arg;
    ConvertMms *m;
    Octstr *err = NULL;
    long i;

    for (i = 0; i < j->count; i++) {
        m = convert_mms_build(j->raw, i + 1, &j->o, &err);
        if (m == NULL) {
            j->failed++;
            octstr_destroy(err);
            err = NULL;
            continue;
        }
        j->mm_size = octstr_len(m->body);
        j->images = m->images;
        convert_mms_destroy(m);
    }
}

int main(int argc, char **argv)
{
    long count = 50, threads = 1, max_size = 307200, i, total = 0, failed = 0;
    Octstr *raw;
    Job *jobs;
    long *ids;
    struct rusage ru;
    double t0, dt;
    int opt, rc = 0;

    if (argc == 3 && strcmp(argv[1], "--generate") == 0) {
        if (VIPS_INIT(argv[0]) != 0)
            return 1;
        gwlib_init();
        rc = generate(argv[2]);
        gwlib_shutdown();
        return rc;
    }
    while ((opt = getopt(argc, argv, "n:t:s:")) != -1) {
        if (opt == 'n')
            count = atol(optarg);
        else if (opt == 't')
            threads = atol(optarg);
        else if (opt == 's')
            max_size = atol(optarg);
        else
            return 2;
    }
    if (optind != argc - 1 || count < 1 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: %s [-n COUNT] [-t THREADS] [-s MAX_SIZE] "
                "FILE\n       %s --generate FILE\n", argv[0], argv[0]);
        return 2;
    }
    gwlib_init();
    log_set_output_level(GW_WARNING);
    convert_init();
    convert_image_init();
    raw = octstr_read_file(argv[optind]);
    if (raw == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[optind]);
        return 1;
    }
    jobs = gw_malloc(sizeof(*jobs) * threads);
    ids = gw_malloc(sizeof(*ids) * threads);
    t0 = now();
    for (i = 0; i < threads; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].raw = raw;
        jobs[i].count = count;
        jobs[i].o.max_size = max_size;
        jobs[i].o.max_width = 640;
        jobs[i].o.max_height = 480;
        ids[i] = gwthread_create(run, &jobs[i]);
    }
    for (i = 0; i < threads; i++) {
        gwthread_join(ids[i]);
        total += jobs[i].count - jobs[i].failed;
        failed += jobs[i].failed;
    }
    dt = now() - t0;
    getrusage(RUSAGE_SELF, &ru);
    printf("mail %ld bytes, %ld thread(s) x %ld: %ld converted, %ld failed "
           "in %.2f s\n", octstr_len(raw), threads, count, total, failed, dt);
    printf("%.1f conversions/s total, %.1f per thread; MM %ld bytes with "
           "%ld images (limit %ld); peak RSS %ld KB\n", total / dt,
           total / dt / threads, jobs[0].mm_size, jobs[0].images, max_size,
           (long) ru.ru_maxrss);
    gw_free(jobs);
    gw_free(ids);
    octstr_destroy(raw);
    convert_image_deinit();
    convert_deinit();
    gwlib_shutdown();
    return failed > 0;
}
