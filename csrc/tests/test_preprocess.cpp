// Every pixel format gives the model the same picture: an RGB test image is written in each SalcropPixelFormat
// (through the core's own BT.601/709 matrices, limited and full range) and the model inputs are compared.
#include <cmath>
#include <cstdio>
#include <vector>

#include "image.h"
#include "preprocess.h"

using namespace salcrop;

namespace {

constexpr int W = 96, H = 64, OW = 32, OH = 16;

float rgb_at(int x, int y, int c)
{
    // Smooth colour ramps: chroma subsampling then loses almost nothing.
    const float v[3] = {float(40 + 150 * x / W), float(60 + 120 * y / H), float(200 - 150 * (x + y) / (W + H))};
    return v[c];
}

struct Picture {
    std::vector<std::vector<uint8_t>> planes;
    const uint8_t *data[4] = {};
    int linesize[4] = {};
};

uint8_t u8(float v)
{
    return uint8_t(std::lround(std::fmin(255.0f, std::fmax(0.0f, v))));
}

Picture make(SalcropPixelFormat f, bool full, bool bt709)
{
    Picture p;
    YuvMatrix m{full, bt709};
    auto yuv = [&](int x, int y, float out[3]) {
        float rgb[3] = {rgb_at(x, y, 0), rgb_at(x, y, 1), rgb_at(x, y, 2)};
        m.from_rgb(rgb, out);
    };
    float c[3];
    switch (f) {
    case SALCROP_PIX_YUV420P:
    case SALCROP_PIX_YUV422P:
    case SALCROP_PIX_YUV444P: {
        const int sx = f == SALCROP_PIX_YUV444P ? 1 : 2, sy = f == SALCROP_PIX_YUV420P ? 2 : 1;
        p.planes = {std::vector<uint8_t>(W * H), std::vector<uint8_t>(W / sx * H / sy), std::vector<uint8_t>(W / sx * H / sy)};
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                yuv(x, y, c);
                p.planes[0][y * W + x] = u8(c[0]);
            }
        for (int y = 0; y < H / sy; y++)
            for (int x = 0; x < W / sx; x++) {
                yuv(x * sx + sx / 2, y * sy + sy / 2, c);
                p.planes[1][y * (W / sx) + x] = u8(c[1]);
                p.planes[2][y * (W / sx) + x] = u8(c[2]);
            }
        for (int i = 0; i < 3; i++) {
            p.data[i] = p.planes[i].data();
            p.linesize[i] = i ? W / sx : W;
        }
        break;
    }
    case SALCROP_PIX_NV12:
        p.planes = {std::vector<uint8_t>(W * H), std::vector<uint8_t>(W * H / 2)};
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                yuv(x, y, c);
                p.planes[0][y * W + x] = u8(c[0]);
                if (x % 2 == 0 && y % 2 == 0) {
                    yuv(x + 1, y + 1, c);
                    p.planes[1][(y / 2) * W + x] = u8(c[1]);
                    p.planes[1][(y / 2) * W + x + 1] = u8(c[2]);
                }
            }
        p.data[0] = p.planes[0].data();
        p.data[1] = p.planes[1].data();
        p.linesize[0] = p.linesize[1] = W;
        break;
    default: {
        const int bpp = (f == SALCROP_PIX_RGBA || f == SALCROP_PIX_BGRA) ? 4 : 3;
        const bool bgr = f == SALCROP_PIX_BGR24 || f == SALCROP_PIX_BGRA;
        p.planes = {std::vector<uint8_t>(W * H * bpp + 7, 255)};  // padded rows are fine too
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int k = 0; k < 3; k++)
                    p.planes[0][y * W * bpp + x * bpp + (bgr ? 2 - k : k)] = u8(rgb_at(x, y, k));
        p.data[0] = p.planes[0].data();
        p.linesize[0] = W * bpp;
    }
    }
    return p;
}

std::vector<float> input_of(SalcropPixelFormat f, bool full, bool bt709)
{
    Picture p = make(f, full, bt709);
    SalcropImage img{};
    img.format = f;
    img.width = W;
    img.height = H;
    for (int i = 0; i < 4; i++) {
        img.data[i] = p.data[i];
        img.linesize[i] = p.linesize[i];
    }
    img.full_range = full;
    img.colorspace = bt709;
    Resampler to_input(OW, OH);
    std::vector<float> out(3 * OW * OH);
    image_to_rgb_planes(img, to_input, 1.0f / 255.0f, out.data());
    return out;
}

}  // namespace

int main()
{
    int failures = 0;
    const std::vector<float> ref = input_of(SALCROP_PIX_RGB24, true, false);
    const char *names[] = {"yuv420p", "yuv422p", "yuv444p", "nv12", "gray8", "rgb24", "bgr24", "rgba", "bgra"};
    for (int f = 0; f < SALCROP_PIX_NB; f++) {
        if (f == SALCROP_PIX_GRAY8)
            continue;  // no colour to compare
        for (int full = 0; full < 2; full++)
            for (int bt709 = 0; bt709 < 2; bt709++) {
                const std::vector<float> got = input_of(SalcropPixelFormat(f), full, bt709);
                double worst = 0;
                for (size_t k = 0; k < ref.size(); k++)
                    worst = std::fmax(worst, std::fabs(got[k] - ref[k]) * 255.0);
                const bool ok = worst <= 4.0;  // 8-bit YUV round trip and chroma siting
                std::printf("%-8s full=%d bt709=%d max diff %.2f grey levels %s\n", names[f], full, bt709, worst,
                            ok ? "ok" : "FAIL");
                failures += !ok;
            }
    }
    return failures ? 1 : 0;
}
