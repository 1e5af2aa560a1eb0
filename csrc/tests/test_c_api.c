/*
 * The C ABI from C: option errors name the option, a synthetic clip (a bright square moving right over a
 * dark background, a hard cut half-way) gives one decision per frame, in order, inside the frame, with a
 * new shot at the cut, and a crop path JSON; several ratios from one engine, each output's decisions those
 * of a one-ratio engine. Exit 77 (skipped) when no model is installed yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "salcrop/salcrop.h"

#define W 320
#define H 180
#define N 60
#define CUT 30

static int failures;

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)

static void expect_refused(const char *name, SalcropOptions o)
{
    SalcropEngine *e = salcrop_create(&o);
    CHECK(e == NULL);
    if (e)
        salcrop_destroy(e);
    else if (!strstr(salcrop_last_error(), name))
        fprintf(stderr, "error for %s does not name it: %s\n", name, salcrop_last_error()), failures++;
}

static void make_frame(unsigned char *y, unsigned char *u, unsigned char *v, int i)
{
    int bg = i < CUT ? 40 : 90, sx = 10 + i * 4, x, yy;
    memset(y, bg, W * H);
    memset(u, i < CUT ? 100 : 160, W * H / 4);
    memset(v, 128, W * H / 4);
    for (yy = 60; yy < 120; yy++)
        for (x = sx; x < sx + 40 && x < W; x++)
            y[yy * W + x] = 235;
}

int main(void)
{
    static unsigned char y[W * H], u[W * H / 4], v[W * H / 4];
    SalcropOptions o;
    SalcropEngine *e;
    SalcropDecision d;
    int i, popped = 0, r, ow, oh, last_shot = 0;
    SalcropDecision single[N];

    salcrop_options_init(&o);
    o.width = W;
    o.height = H;
    o.fps = 25;
    o.even = 1;

    { SalcropOptions b = o; b.ratio = "0"; expect_refused("ratio", b); }
    { SalcropOptions b = o; b.ratio = "1/1000"; expect_refused("ratio", b); }
    { SalcropOptions b = o; b.ratio = "9:16|18/32"; expect_refused("same ratio", b); }
    { SalcropOptions b = o; b.ratio = "9:16||1"; expect_refused("empty item", b); }
    { SalcropOptions b = o; b.ratio = "9:16|1"; b.keep_maps = 1; expect_refused("one ratio", b); }
    { SalcropOptions b = o; b.stride = 31; expect_refused("stride", b); }
    { SalcropOptions b = o; b.lookahead = 0; expect_refused("lookahead", b); }
    { SalcropOptions b = o; b.device = "tpu"; expect_refused("device", b); }
    { SalcropOptions b = o; b.mode = "zoom"; expect_refused("mode", b); }
    { SalcropOptions b = o; b.pad = "white"; expect_refused("pad", b); }
    { SalcropOptions b = o; b.abi_version = 0; expect_refused("abi_version", b); }
    { SalcropOptions b = o; b.model = "/nonexistent/model.onnx"; expect_refused("/nonexistent/model.onnx", b); }

    e = salcrop_create(&o);
    if (!e) {
        if (strstr(salcrop_last_error(), "does not exist")) {
            fprintf(stderr, "skipped: %s\n", salcrop_last_error());
            return failures ? 1 : 77;
        }
        fprintf(stderr, "salcrop_create: %s\n", salcrop_last_error());
        return 1;
    }
    printf("%s\n", salcrop_describe(e));
    salcrop_output_size(e, &ow, &oh);
    CHECK(oh == H && ow == 102);
    /* The frames the caller keeps: this size fits any machine, a terabyte per frame none, and a check
     * without an engine or with a size of nothing is an error. */
    CHECK(salcrop_check_buffer(e, (int64_t)W * H * 3 / 2) == 0);
    CHECK(salcrop_check_buffer(e, (int64_t)1 << 40) < 0 && strstr(salcrop_last_error(), "lookahead"));
    CHECK(salcrop_check_buffer(e, 0) < 0);
    CHECK(salcrop_check_buffer(NULL, 1000) < 0);

    for (i = 0; i <= N; i++) {
        if (i < N) {
            SalcropImage img = {SALCROP_PIX_YUV420P, W, H, {y, u, v, NULL}, {W, W / 2, W / 2, 0}, 0, 0};
            make_frame(y, u, v, i);
            CHECK(salcrop_push(e, &img, i / 25.0) == 0);
            CHECK(i + 1 - popped <= salcrop_max_delay(e) + 1);
        } else {
            CHECK(salcrop_flush(e) == 0);
        }
        while ((r = salcrop_pop(e, &d)) == 1) {
            CHECK(d.frame == popped);
            CHECK(d.x >= 0 && d.y >= 0 && d.x + d.w <= W && d.y + d.h <= H);
            CHECK(d.w == ow && d.h == oh && d.x % 2 == 0);
            if (d.frame == CUT)
                CHECK(d.shot == last_shot + 1);
            else if (d.frame > 0)
                CHECK(d.shot == last_shot);
            last_shot = d.shot;
            if (popped < N)
                single[popped] = d;
            popped++;
        }
        CHECK(r == 0);
    }
    CHECK(popped == N);
    {
        SalcropImage bad = {SALCROP_PIX_YUV420P, W + 2, H, {y, u, v, NULL}, {W, W / 2, W / 2, 0}, 0, 0};
        CHECK(salcrop_push(e, &bad, 0) < 0);
    }
    {
        const char *json = salcrop_path_json(e);
        CHECK(json && strncmp(json, "{\"version\":2,\"source\":{\"width\":320,\"height\":180,\"fps\":25}", 55) == 0);
        CHECK(json && strstr(json, "\"ratio\":\"9:16\""));
    }
    salcrop_destroy(e);

    /* Three ratios from one engine: output 0 decides exactly as the 9:16 engine above, every output decides
     * the same frame at the same push, each has its ratio's size and its own path. */
    {
        SalcropOptions b = o;
        int k, sizes[3][2], num, den, n = 0;
        b.ratio = "9:16|1|16:9";
        e = salcrop_create(&b);
        CHECK(e != NULL);
        if (e) {
            CHECK(salcrop_output_count(e) == 3);
            for (k = 0; k < 3; k++)
                salcrop_output_size_at(e, k, &sizes[k][0], &sizes[k][1]);
            CHECK(sizes[0][0] == ow && sizes[0][1] == oh);
            CHECK(sizes[1][0] == H && sizes[1][1] == H && sizes[2][0] == W && sizes[2][1] == H);
            salcrop_output_ratio_at(e, 2, &num, &den);
            CHECK(num == 16 && den == 9);
            salcrop_output_size_at(e, 3, &sizes[0][0], &sizes[0][1]);
            CHECK(sizes[0][0] == 0 && sizes[0][1] == 0);
            for (i = 0; i <= N; i++) {
                if (i < N) {
                    SalcropImage img = {SALCROP_PIX_YUV420P, W, H, {y, u, v, NULL}, {W, W / 2, W / 2, 0}, 0, 0};
                    make_frame(y, u, v, i);
                    CHECK(salcrop_push(e, &img, i / 25.0) == 0);
                } else {
                    CHECK(salcrop_flush(e) == 0);
                }
                while (salcrop_pop_at(e, 0, &d) == 1) {
                    CHECK(n < N && d.frame == n && d.x == single[n].x && d.y == single[n].y && d.shot == single[n].shot);
                    for (k = 1; k < 3; k++) {
                        SalcropDecision dk;
                        CHECK(salcrop_pop_at(e, k, &dk) == 1 && dk.frame == d.frame && dk.shot == d.shot);
                        CHECK(dk.w == sizes[k][0] && dk.h == sizes[k][1]);
                    }
                    n++;
                }
            }
            CHECK(n == N);
            CHECK(salcrop_pop_at(e, 1, &d) == 0 && salcrop_pop_at(e, 3, &d) < 0);
            CHECK(strstr(salcrop_path_json_at(e, 1), "\"ratio\":\"1:1\""));
            CHECK(salcrop_path_json_at(e, 3) == NULL && strstr(salcrop_last_error(), "output 3"));
            salcrop_destroy(e);
        }
    }

    /* Odd frame size, every picture drawn by the core: the debug view and padded rendering, in place on
     * the planes the filter would hand over (here under the sanitizers in the SALCROP_SANITIZE build). */
    {
        enum { OW2 = 321, OH2 = 181, CW = (OW2 + 1) / 2, CH = (OH2 + 1) / 2 };
        static unsigned char py[OW2 * OH2], pu[CW * CH], pv[CW * CH], dy[OW2 * OH2], du[CW * CH], dv[CW * CH];
        uint8_t *planes[4] = {py, pu, pv, NULL}, *dst[4] = {dy, du, dv, NULL};
        int ls[4] = {OW2, CW, CW, 0}, outw, outh, drawn = 0;
        SalcropOptions b = o;
        b.width = OW2;
        b.height = OH2;
        b.keep_maps = 1;
        b.pad = "blur";
        e = salcrop_create(&b);
        CHECK(e != NULL);
        if (e) {
            salcrop_output_size(e, &outw, &outh);
            CHECK(outw % 2 == 0 && outh % 2 == 0 && outw <= OW2 && outh <= OH2);
            for (i = 0; i <= 12; i++) {
                SalcropImage img = {SALCROP_PIX_YUV420P, OW2, OH2, {py, pu, pv, NULL}, {OW2, CW, CW, 0}, 0, 0};
                if (i < 12) {
                    memset(py, 30 + i * 10, sizeof(py));
                    memset(pu, 90, sizeof(pu));
                    memset(pv, 160, sizeof(pv));
                    CHECK(salcrop_push(e, &img, i / 25.0) == 0);
                } else {
                    CHECK(salcrop_flush(e) == 0);
                }
                while (salcrop_pop(e, &d) == 1) {
                    int dls[4] = {outw, outw / 2, outw / 2, 0};
                    CHECK(salcrop_render_padded(e, &d, &img, dst, dls) == 0);
                    CHECK(salcrop_draw_debug(e, &d, planes, ls, SALCROP_PIX_YUV420P) == 0);
                    drawn++;
                }
            }
            CHECK(drawn == 12);
            salcrop_destroy(e);
        }
    }
    /* Audio for who speaks: packed and planar blocks on the frames' clock; malformed blocks refused with a
     * message that names the problem; nothing after salcrop_audio_end(). */
    e = salcrop_create(&o);
    CHECK(e != NULL);
    if (e) {
        static short packed[2 * 1024];
        static float left[1024], right[1024];
        const uint8_t *packed_planes[1] = {(const uint8_t *)packed};
        const uint8_t *float_planes[2] = {(const uint8_t *)left, (const uint8_t *)right};
        SalcropAudio a = {SALCROP_SAMPLE_S16, 48000, 2, 1024, packed_planes};
        SalcropAudio f = {SALCROP_SAMPLE_FLTP, 44100, 2, 1024, float_planes};
        SalcropAudio bad = a;

        for (i = 0; i < 1024; i++) {
            packed[2 * i] = packed[2 * i + 1] = (short)(i * 16);
            left[i] = right[i] = (float)i / 2048.0f;
        }
        CHECK(salcrop_push_audio(e, &a, 0.0) == 0);
        CHECK(salcrop_push_audio(e, &f, 0.5) == 0);
        CHECK(salcrop_push_audio(e, NULL, 1.0) < 0 && strstr(salcrop_last_error(), "audio"));
        bad.sample_rate = 4000;
        CHECK(salcrop_push_audio(e, &bad, 1.0) < 0 && strstr(salcrop_last_error(), "sample rate 4000"));
        bad = a;
        bad.channels = 65;
        CHECK(salcrop_push_audio(e, &bad, 1.0) < 0 && strstr(salcrop_last_error(), "65 channels"));
        bad = a;
        bad.format = SALCROP_SAMPLE_NB;
        CHECK(salcrop_push_audio(e, &bad, 1.0) < 0 && strstr(salcrop_last_error(), "sample format"));
        bad = a;
        bad.data = NULL;
        CHECK(salcrop_push_audio(e, &bad, 1.0) < 0 && strstr(salcrop_last_error(), "no data"));
        CHECK(salcrop_audio_end(e) == 0);
        CHECK(salcrop_push_audio(e, &a, 2.0) < 0 && strstr(salcrop_last_error(), "after the end"));
        CHECK(salcrop_audio_end(NULL) < 0);
        for (i = 0; i < 10; i++) {
            SalcropImage img = {SALCROP_PIX_YUV420P, W, H, {y, u, v, NULL}, {W, W / 2, W / 2, 0}, 0, 0};
            make_frame(y, u, v, i);
            CHECK(salcrop_push(e, &img, i / 25.0) == 0);
        }
        CHECK(salcrop_flush(e) == 0);
        for (popped = 0; salcrop_pop(e, &d) == 1; popped++)
            ;
        CHECK(popped == 10);
        salcrop_destroy(e);
    }

    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
