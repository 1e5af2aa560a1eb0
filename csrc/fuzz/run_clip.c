/*
 * Pushes a real clip through the whole C ABI the way the FFmpeg filter does, for the sanitizer build:
 * frames come from a raw file that build/bin/ffmpeg wrote (-f rawvideo), so nothing is decoded here.
 *
 *   run_clip RAW FORMAT WIDTH HEIGHT FPS RATIO PAD [KEEP_MAPS]
 *
 * FORMAT is an ffmpeg pix_fmt name among the ABI's (yuv420p, yuv422p, yuv444p, nv12, gray, rgb24, bgr24,
 * rgba, bgra). Every frame is copied into its own exactly-sized heap blocks (so any read past the picture
 * is an ASan report), pushed, and every decision is checked, rendered padded into an exactly-sized output
 * and, with KEEP_MAPS=1, drawn as the debug view. The crop path JSON goes to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "salcrop/salcrop.h"

static const struct {
    const char *name;
    SalcropPixelFormat format;
} formats[] = {
    { "yuv420p", SALCROP_PIX_YUV420P }, { "yuv422p", SALCROP_PIX_YUV422P }, { "yuv444p", SALCROP_PIX_YUV444P },
    { "nv12", SALCROP_PIX_NV12 },       { "gray", SALCROP_PIX_GRAY8 },      { "rgb24", SALCROP_PIX_RGB24 },
    { "bgr24", SALCROP_PIX_BGR24 },     { "rgba", SALCROP_PIX_RGBA },       { "bgra", SALCROP_PIX_BGRA },
};

/* Plane row widths in bytes and heights for a format, as ffmpeg's rawvideo packs them (no padding). */
static int layout(SalcropPixelFormat f, int w, int h, int row[4], int rows[4])
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2, n = 1;

    memset(row, 0, 4 * sizeof(*row));
    memset(rows, 0, 4 * sizeof(*rows));
    row[0] = w;
    rows[0] = h;
    switch (f) {
    case SALCROP_PIX_YUV420P: n = 3; row[1] = row[2] = cw; rows[1] = rows[2] = ch; break;
    case SALCROP_PIX_YUV422P: n = 3; row[1] = row[2] = cw; rows[1] = rows[2] = h; break;
    case SALCROP_PIX_YUV444P: n = 3; row[1] = row[2] = w; rows[1] = rows[2] = h; break;
    case SALCROP_PIX_NV12: n = 2; row[1] = 2 * cw; rows[1] = ch; break;
    case SALCROP_PIX_RGB24: case SALCROP_PIX_BGR24: row[0] = 3 * w; break;
    case SALCROP_PIX_RGBA: case SALCROP_PIX_BGRA: row[0] = 4 * w; break;
    default: break;
    }
    return n;
}

typedef struct Pic {
    uint8_t *data[4];
    int linesize[4];
} Pic;

static int pic_alloc(Pic *p, int n, const int row[4], const int rows[4])
{
    int i;
    memset(p, 0, sizeof(*p));
    for (i = 0; i < n; i++) {
        p->data[i] = malloc((size_t)row[i] * rows[i]);
        if (!p->data[i])
            return -1;
        p->linesize[i] = row[i];
    }
    return 0;
}

static void pic_free(Pic *p)
{
    int i;
    for (i = 0; i < 4; i++)
        free(p->data[i]);
    memset(p, 0, sizeof(*p));
}

int main(int argc, char **argv)
{
    SalcropOptions o;
    SalcropEngine *e;
    SalcropDecision d;
    SalcropPixelFormat f = SALCROP_PIX_NB;
    int row[4], rows[4], orow[4], orows[4], n, i, ow, oh, r, eof = 0, failures = 0;
    long long pushed = 0, popped = 0, padded = 0;
    Pic *queue;
    int qcap, qhead = 0, qlen = 0;
    FILE *in;

    if (argc < 8) {
        fprintf(stderr, "usage: %s RAW FORMAT WIDTH HEIGHT FPS RATIO PAD [KEEP_MAPS]\n", argv[0]);
        return 2;
    }
    for (i = 0; i < (int)(sizeof(formats) / sizeof(formats[0])); i++)
        if (!strcmp(argv[2], formats[i].name))
            f = formats[i].format;
    if (f == SALCROP_PIX_NB) {
        fprintf(stderr, "run_clip: unknown format %s\n", argv[2]);
        return 2;
    }
    salcrop_options_init(&o);
    o.width = atoi(argv[3]);
    o.height = atoi(argv[4]);
    o.fps = atof(argv[5]);
    o.ratio = argv[6];
    o.pad = argv[7];
    o.keep_maps = argc > 8 && atoi(argv[8]);
    /* speakers=auto for the face worker's thread under tsan (scripts/sanitize.sh) */
    if (getenv("SALCROP_RUN_CLIP_SPEAKERS") && *getenv("SALCROP_RUN_CLIP_SPEAKERS"))
        o.speakers = getenv("SALCROP_RUN_CLIP_SPEAKERS");
    o.even = f == SALCROP_PIX_YUV420P || f == SALCROP_PIX_YUV422P || f == SALCROP_PIX_NV12;
    o.threads = 1;
    e = salcrop_create(&o);
    if (!e) {
        fprintf(stderr, "run_clip: %s\n", salcrop_last_error());
        return 1;
    }
    fprintf(stderr, "%s\n", salcrop_describe(e));
    salcrop_output_size(e, &ow, &oh);
    n = layout(f, o.width, o.height, row, rows);
    layout(f, ow, oh, orow, orows);
    /* The caller keeps undecided frames, at most max_delay + 1 of them. */
    qcap = salcrop_max_delay(e) + 2;
    queue = calloc(qcap, sizeof(*queue));
    in = fopen(argv[1], "rb");
    if (!queue || !in) {
        fprintf(stderr, "run_clip: cannot open %s\n", argv[1]);
        return 1;
    }

    while (!eof) {
        Pic *p = &queue[(qhead + qlen) % qcap];
        if (qlen == qcap) {
            fprintf(stderr, "run_clip: more than max_delay + 1 = %d frames undecided\n", qcap - 1);
            return 1;
        }
        if (pic_alloc(p, n, row, rows) < 0)
            return 1;
        for (i = 0; i < n; i++)
            if (fread(p->data[i], 1, (size_t)row[i] * rows[i], in) != (size_t)row[i] * rows[i])
                eof = 1;
        if (eof) {
            pic_free(p);
            if (salcrop_flush(e) < 0) {
                fprintf(stderr, "run_clip: flush: %s\n", salcrop_last_error());
                return 1;
            }
        } else {
            SalcropImage img = { f, o.width, o.height, { p->data[0], p->data[1], p->data[2], p->data[3] },
                                 { p->linesize[0], p->linesize[1], p->linesize[2], p->linesize[3] }, 0, 0 };
            if (salcrop_push(e, &img, pushed / o.fps) < 0) {
                fprintf(stderr, "run_clip: push %lld: %s\n", pushed, salcrop_last_error());
                return 1;
            }
            pushed++;
            qlen++;
        }
        while ((r = salcrop_pop(e, &d)) == 1) {
            Pic *src = &queue[qhead], out;
            SalcropImage img = { f, o.width, o.height, { src->data[0], src->data[1], src->data[2], src->data[3] },
                                 { src->linesize[0], src->linesize[1], src->linesize[2], src->linesize[3] }, 0, 0 };
            if (d.frame != popped || d.x < 0 || d.y < 0 || d.x + d.w > o.width || d.y + d.h > o.height) {
                fprintf(stderr, "run_clip: bad decision %lld: %dx%d+%d+%d\n", (long long)d.frame, d.w, d.h, d.x, d.y);
                failures++;
            }
            /* Rendered for every decision, padded or not: the region is inside the frame either way. */
            if (pic_alloc(&out, n, orow, orows) < 0 ||
                salcrop_render_padded(e, &d, &img, out.data, out.linesize) < 0) {
                fprintf(stderr, "run_clip: render_padded %lld: %s\n", (long long)d.frame, salcrop_last_error());
                failures++;
            }
            pic_free(&out);
            if (o.keep_maps && salcrop_draw_debug(e, &d, src->data, src->linesize, f) < 0) {
                fprintf(stderr, "run_clip: draw_debug %lld: %s\n", (long long)d.frame, salcrop_last_error());
                failures++;
            }
            padded += d.padded;
            pic_free(src);
            qhead = (qhead + 1) % qcap;
            qlen--;
            popped++;
        }
        if (r < 0) {
            fprintf(stderr, "run_clip: pop: %s\n", salcrop_last_error());
            return 1;
        }
    }
    fclose(in);
    if (popped != pushed || qlen) {
        fprintf(stderr, "run_clip: %lld frames pushed, %lld decided\n", pushed, popped);
        failures++;
    }
    printf("%s\n", salcrop_path_json(e));
    fprintf(stderr, "run_clip: %lld frames %dx%d %s -> %dx%d, %lld padded, %d failures\n", pushed, o.width, o.height,
            argv[2], ow, oh, padded, failures);
    salcrop_destroy(e);
    free(queue);
    return failures ? 1 : (pushed ? 0 : 1);
}
