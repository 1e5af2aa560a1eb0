/*
 * Fuzz target for the salcrop C ABI: one input is a small program that the bytes spell out.
 *
 * The first bytes choose the options (valid values, edge values and nonsense: zero, negative, NaN, strings
 * that are not ratios, unknown devices...), the rest is a sequence of operations: push a frame of some
 * size/format/linesize/content/time, pop everything ready (drawing the debug view and rendering padded
 * decisions on exactly-sized buffers, so the sanitizers see any byte written or read outside them), flush,
 * ask for the path JSON, or hand the core a decision it never made.
 *
 * Beyond "no crash" (ASan/UBSan do that part) the harness checks the ABI's promises and abort()s when one
 * breaks: a refused call sets salcrop_last_error(); a well-formed frame of the engine's size is accepted
 * (until the flush); a malformed one is refused; decisions come out once per accepted frame, in order,
 * inside the frame, never more than salcrop_max_delay() behind; the path JSON is version 2.
 *
 * Built two ways from this one file: with -DSALCROP_LIBFUZZER it is a libFuzzer target
 * (clang -fsanitize=fuzzer), otherwise fuzz_main.c drives it with seeded random inputs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "salcrop/salcrop.h"
#include "fuzz_c_api.h"

/* Bounds that keep one input fast: frames are preprocessed on the CPU. */
#define MAX_SIDE   320
#define MAX_PUSHES 160

/* What the inputs so far reached, so a run can show it explored more than option errors. */
static struct {
    long long inputs, engines, pushes, refused_pushes, decisions, padded, debug_views, forged;
} stats;

typedef struct Bytes {
    const uint8_t *p;
    size_t n;
} Bytes;

static unsigned take(Bytes *b, unsigned bytes)
{
    unsigned v = 0;
    while (bytes--) {
        v <<= 8;
        if (b->n) {
            v |= *b->p++;
            b->n--;
        }
    }
    return v;
}

static int pick(Bytes *b, int n)
{
    return (int)(take(b, 1) % (unsigned)n);
}

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "salcrop fuzz: contract broken: %s (%s)\n", what, detail ? detail : "");
    abort();
}

#define EXPECT(cond, detail) do { if (!(cond)) fail(#cond, detail); } while (0)

/* A refused call must say why. */
static void expect_error_set(void)
{
    const char *e = salcrop_last_error();
    EXPECT(e && *e, "refused without salcrop_last_error()");
}

/* One picture in its own exactly-sized heap blocks, so any access outside it is an ASan report. */
typedef struct Picture {
    SalcropImage img;
    uint8_t *planes[4];
    int valid;  /* well-formed for its declared format and size */
} Picture;

typedef struct Layout {
    int nb_planes;
    int row_bytes[4];
    int rows[4];
} Layout;

static int layout_of(SalcropPixelFormat f, int w, int h, Layout *l)
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2, i;

    memset(l, 0, sizeof(*l));
    switch (f) {
    case SALCROP_PIX_YUV420P: l->nb_planes = 3; l->row_bytes[0] = w; l->rows[0] = h;
        for (i = 1; i < 3; i++) { l->row_bytes[i] = cw; l->rows[i] = ch; } break;
    case SALCROP_PIX_YUV422P: l->nb_planes = 3; l->row_bytes[0] = w; l->rows[0] = h;
        for (i = 1; i < 3; i++) { l->row_bytes[i] = cw; l->rows[i] = h; } break;
    case SALCROP_PIX_YUV444P: l->nb_planes = 3;
        for (i = 0; i < 3; i++) { l->row_bytes[i] = w; l->rows[i] = h; } break;
    case SALCROP_PIX_NV12: l->nb_planes = 2; l->row_bytes[0] = w; l->rows[0] = h;
        l->row_bytes[1] = 2 * cw; l->rows[1] = ch; break;
    case SALCROP_PIX_GRAY8: l->nb_planes = 1; l->row_bytes[0] = w; l->rows[0] = h; break;
    case SALCROP_PIX_RGB24: case SALCROP_PIX_BGR24: l->nb_planes = 1; l->row_bytes[0] = 3 * w; l->rows[0] = h; break;
    case SALCROP_PIX_RGBA: case SALCROP_PIX_BGRA: l->nb_planes = 1; l->row_bytes[0] = 4 * w; l->rows[0] = h; break;
    default: return 0;
    }
    return 1;
}

static void picture_free(Picture *p)
{
    int i;
    for (i = 0; i < 4; i++)
        free(p->planes[i]);
    memset(p, 0, sizeof(*p));
}

/* Allocates a picture; 'damage' (0 = none) makes it malformed in one of several ways. */
static int picture_alloc(Picture *p, SalcropPixelFormat f, int w, int h, int damage, Bytes *b)
{
    Layout l;
    int i, extra = pick(b, 4) ? 0 : pick(b, 64);

    memset(p, 0, sizeof(*p));
    p->img.format = f;
    p->img.width = w;
    p->img.height = h;
    p->img.full_range = pick(b, 2);
    p->img.colorspace = pick(b, 2);
    p->valid = 1;
    if (!layout_of(f, w, h, &l) || w < 1 || h < 1) {
        p->valid = 0;
        return 0;  /* nothing to allocate: an unknown format or an empty size */
    }
    for (i = 0; i < l.nb_planes; i++) {
        int ls = l.row_bytes[i] + extra;
        size_t size;
        uint8_t fill = (uint8_t)take(b, 1);
        size_t k;

        if (damage == 1 && i == pick(b, l.nb_planes))
            ls = l.row_bytes[i] - 1 - pick(b, 3);  /* rows overlap */
        else if (damage == 2 && i == l.nb_planes - 1)
            ls = 0;
        if (ls < l.row_bytes[i])
            p->valid = 0;
        /* An exact allocation: rows at linesize apart, the last one only as long as the picture needs. */
        size = ls > 0 ? (size_t)ls * (size_t)(l.rows[i] - 1) + (size_t)l.row_bytes[i] : (size_t)l.row_bytes[i];
        p->planes[i] = malloc(size);
        if (!p->planes[i])
            return -1;
        for (k = 0; k < size; k++)
            p->planes[i][k] = (uint8_t)(fill + k * (fill | 1));  /* some texture for the network to look at */
        p->img.data[i] = p->planes[i];
        p->img.linesize[i] = ls;
    }
    if (damage == 3) {
        free(p->planes[l.nb_planes - 1]);
        p->planes[l.nb_planes - 1] = NULL;
        p->img.data[l.nb_planes - 1] = NULL;  /* a missing plane */
        p->valid = 0;
    }
    return 0;
}

static const char *const ratios[] = {
    "9:16", "4/5", "1", "16:9", "0.5625", "10:1", "1:10", "21:9", "0", "-1", "abc", "1/1000", "1000/1", "",
    "9:", ":16", "1e308:1", "nan", "inf", "3:0", "0.1", "10.0000001", "9::16", "9/16/2", " 9:16", NULL,
};
static const char *const devices[] = { "auto", "cpu", "tpu", "", "CPU", "gpu", NULL };
static const char *const modes[] = { "auto", "stationary", "pan", "track", "zoom", "", NULL };
static const char *const pads[] = { "none", "blur", "black", "white", "", NULL };
static const double fpss[] = { 25, 30, 24000.0 / 1001, 1, 1000, 0.5, 60, 0, -1, 1e-9, 1001, -INFINITY };
static const double lookaheads[] = { 1, 0.1, 0.5, 2, 60, 0, 61, -1, 0.09 };

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Picks from the first 'valid' entries of a table, or (wild inputs) from all of it. */
#define CHOOSE(b, wild, table, valid) ((table)[pick(b, (wild) ? COUNT(table) : (valid))])

static void options_from(Bytes *b, SalcropOptions *o)
{
    static const int sides[] = { 2, 3, 16, 17, 64, 97, 160, 240, 320, 1, 0, -5, 16385 };
    static const int strides[] = { 1, 2, 3, 5, 30, 0, 31, -1 };
    static const double thresholds[] = { 0, 5, 12, 30, 100, -1, 101 };
    static const double smoothings[] = { 0, 0.3, 0.7, 1, -0.1, 1.5 };
    /* A third of the inputs get wild options (mostly refused at create), the rest only valid ones so
     * that they reach the streaming part. */
    const int wild = pick(b, 3) == 0;

    salcrop_options_init(o);
    o->width  = pick(b, 4) ? 2 + (int)(take(b, 2) % (MAX_SIDE - 1)) : CHOOSE(b, wild, sides, 9);
    o->height = pick(b, 4) ? 2 + (int)(take(b, 2) % (MAX_SIDE - 1)) : CHOOSE(b, wild, sides, 9);
    o->fps = wild && pick(b, 8) == 0 ? NAN : CHOOSE(b, wild, fpss, 7);
    o->ratio = CHOOSE(b, wild, ratios, 8);
    if (pick(b, 4) == 0)
        o->device = CHOOSE(b, wild, devices, 2);
    if (pick(b, 3) == 0)
        o->mode = CHOOSE(b, wild, modes, 4);
    if (pick(b, 3) == 0)
        o->pad = CHOOSE(b, wild, pads, 3);
    if (pick(b, 2))
        o->stride = CHOOSE(b, wild, strides, 5);
    if (pick(b, 3) == 0)
        o->lookahead = wild && pick(b, 8) == 0 ? NAN : CHOOSE(b, wild, lookaheads, 5);
    if (pick(b, 4) == 0)
        o->scene_threshold = CHOOSE(b, wild, thresholds, 5);
    if (pick(b, 4) == 0)
        o->smoothing = CHOOSE(b, wild, smoothings, 4);
    if (wild && pick(b, 8) == 0)
        o->model = pick(b, 2) ? "/nonexistent/salcrop.onnx" : "/dev/null";
    /* One inference thread: the fuzzer runs beside other work and this is not about speed. */
    o->threads = wild && pick(b, 8) == 0 ? (pick(b, 2) ? -1 : 257) : 1;
    o->even = pick(b, 2);
    o->keep_maps = pick(b, 2);
}

int salcrop_fuzz_one(const uint8_t *data, size_t size)
{
    Bytes b = { data, size };
    SalcropOptions o;
    SalcropEngine *e;
    SalcropDecision d;
    Picture last = { 0 };
    int out_w, out_h, pushes = 0, flushed = 0, max_delay, r;
    int64_t accepted = 0, popped = 0;
    char msg[160];

    stats.inputs++;
    options_from(&b, &o);
    e = salcrop_create(&o);
    if (!e) {
        expect_error_set();
        return 0;
    }
    stats.engines++;
    salcrop_output_size(e, &out_w, &out_h);
    snprintf(msg, sizeof(msg), "%dx%d -> %dx%d ratio %s", o.width, o.height, out_w, out_h, o.ratio ? o.ratio : "NULL");
    EXPECT(out_w >= 1 && out_h >= 1 && out_w <= o.width && out_h <= o.height, msg);
    EXPECT(!o.even || (out_w % 2 == 0 && out_h % 2 == 0) || out_w == o.width || out_h == o.height, msg);
    EXPECT(salcrop_describe(e) && *salcrop_describe(e), msg);
    max_delay = salcrop_max_delay(e);
    EXPECT(max_delay >= 1, msg);

    while (b.n && pushes < MAX_PUSHES) {
        int op = pick(&b, 16);

        if (op < 9) {  /* push */
            Picture p;
            SalcropPixelFormat f = pick(&b, 4) ? SALCROP_PIX_YUV420P : (SalcropPixelFormat)pick(&b, SALCROP_PIX_NB + 2);
            int w = o.width, h = o.height, damage = pick(&b, 24);
            double t = pick(&b, 16) ? pushes / o.fps : (pick(&b, 2) ? -1.0 : NAN);

            if (damage == 4)
                w += pick(&b, 2) ? 1 : -1;  /* not the engine's size */
            if (damage == 5)
                h += 2;
            if (picture_alloc(&p, f, w, h, damage <= 3 ? damage : 0, &b) < 0) {
                picture_free(&p);
                break;
            }
            p.valid = p.valid && w == o.width && h == o.height;
            r = salcrop_push(e, &p.img, t);
            pushes++;
            stats.pushes++;
            if (r < 0) {
                stats.refused_pushes++;
                expect_error_set();
                snprintf(msg, sizeof(msg), "format %d %dx%d linesizes %d/%d/%d refused: %s", f, w, h,
                         p.img.linesize[0], p.img.linesize[1], p.img.linesize[2], salcrop_last_error());
                EXPECT(!p.valid || flushed, msg);
                picture_free(&p);
            } else {
                snprintf(msg, sizeof(msg), "format %d %dx%d linesizes %d/%d/%d damage %d accepted", f, w, h,
                         p.img.linesize[0], p.img.linesize[1], p.img.linesize[2], damage);
                EXPECT(p.valid && !flushed, msg);
                accepted++;
                picture_free(&last);
                last = p;
            }
        } else if (op < 13) {  /* pop what is ready, drawing each decision like the filter does */
            while ((r = salcrop_pop(e, &d)) == 1) {
                snprintf(msg, sizeof(msg), "decision %lld %dx%d+%d+%d in %dx%d, expected frame %lld",
                         (long long)d.frame, d.w, d.h, d.x, d.y, o.width, o.height, (long long)popped);
                EXPECT(d.frame == popped, msg);
                EXPECT(d.x >= 0 && d.y >= 0 && d.w >= 1 && d.h >= 1, msg);
                EXPECT(d.x + d.w <= o.width && d.y + d.h <= o.height, msg);
                EXPECT(d.padded || (d.w == out_w && d.h == out_h), msg);
                EXPECT(d.mode >= SALCROP_MODE_STATIONARY && d.mode <= SALCROP_MODE_TRACK, msg);
                popped++;
                stats.decisions++;
                stats.padded += d.padded;
                if (o.keep_maps && pick(&b, 2)) {
                    Picture canvas;
                    SalcropPixelFormat f = (SalcropPixelFormat)pick(&b, SALCROP_PIX_NB);
                    if (picture_alloc(&canvas, f, o.width, o.height, 0, &b) == 0) {
                        if (salcrop_draw_debug(e, &d, canvas.planes, canvas.img.linesize, f) < 0)
                            fail("draw_debug refused the decision just popped", salcrop_last_error());
                        stats.debug_views++;
                    }
                    picture_free(&canvas);
                }
                if (last.planes[0] && (d.padded || pick(&b, 8) == 0)) {
                    Picture dst;
                    if (picture_alloc(&dst, last.img.format, out_w, out_h, 0, &b) == 0) {
                        r = salcrop_render_padded(e, &d, &last.img, dst.planes, dst.img.linesize);
                        if (r < 0)
                            expect_error_set();
                        if (d.padded && r < 0)
                            fail("render_padded refused a padded decision", salcrop_last_error());
                    }
                    picture_free(&dst);
                }
            }
            if (r < 0)
                fail("salcrop_pop failed", salcrop_last_error());
            /* Frame i is decided once frame i + max_delay has been pushed. */
            snprintf(msg, sizeof(msg), "%lld frames accepted, %lld decided, max_delay %d", (long long)accepted,
                     (long long)popped, max_delay);
            EXPECT(accepted - popped <= max_delay, msg);
        } else if (op == 13) {
            if (pick(&b, 4) == 0) {  /* rarely: the frames after it only test the refusal */
                EXPECT(salcrop_flush(e) == 0, salcrop_last_error());
                flushed = 1;
            }
        } else if (op == 14) {
            const char *json = salcrop_path_json(e);
            EXPECT(json && strncmp(json, "{\"version\":2,", 12) == 0, json);
        } else if (last.planes[0]) {  /* a decision the core never made: refused or harmless */
            Picture dst;
            stats.forged++;
            d.frame = (int64_t)take(&b, 1) - 8;
            d.x = (int)(int16_t)take(&b, 2);
            d.y = (int)(int16_t)take(&b, 2);
            d.w = (int)(int16_t)take(&b, 2);
            d.h = (int)(int16_t)take(&b, 2);
            d.padded = pick(&b, 2);
            d.shot = (int)take(&b, 1);
            d.mode = (SalcropShotMode)pick(&b, 3);
            d.t = 0;
            if (picture_alloc(&dst, last.img.format, out_w, out_h, 0, &b) == 0 &&
                salcrop_render_padded(e, &d, &last.img, dst.planes, dst.img.linesize) < 0)
                expect_error_set();
            picture_free(&dst);
            if (o.keep_maps && picture_alloc(&dst, last.img.format, o.width, o.height, 0, &b) == 0 &&
                salcrop_draw_debug(e, &d, dst.planes, dst.img.linesize, last.img.format) < 0)
                expect_error_set();
            picture_free(&dst);
        }
    }

    EXPECT(salcrop_flush(e) == 0, salcrop_last_error());
    EXPECT(salcrop_flush(e) == 0, "a second flush must be harmless");
    while ((r = salcrop_pop(e, &d)) == 1) {
        EXPECT(d.frame == popped, "decisions out of order after the flush");
        EXPECT(d.x >= 0 && d.y >= 0 && d.x + d.w <= o.width && d.y + d.h <= o.height, "window outside the frame");
        popped++;
        stats.decisions++;
    }
    EXPECT(r == 0, salcrop_last_error());
    snprintf(msg, sizeof(msg), "%lld frames accepted, %lld decisions", (long long)accepted, (long long)popped);
    EXPECT(popped == accepted, msg);
    {
        const char *json = salcrop_path_json(e);
        EXPECT(json && strncmp(json, "{\"version\":2,", 12) == 0, json);
    }
    if (last.planes[0])
        EXPECT(salcrop_push(e, &last.img, 1e9) < 0, "push after the flush accepted");
    picture_free(&last);
    salcrop_destroy(e);
    return 0;
}

void salcrop_fuzz_report(FILE *f)
{
    fprintf(f, "%lld inputs, %lld engines created, %lld pushes (%lld refused), %lld decisions (%lld padded), "
            "%lld debug views, %lld forged decisions\n", stats.inputs, stats.engines, stats.pushes,
            stats.refused_pushes, stats.decisions, stats.padded, stats.debug_views, stats.forged);
}

#ifdef SALCROP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return salcrop_fuzz_one(data, size);
}
#endif
