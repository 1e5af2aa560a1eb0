#include "image.h"

#include <stdexcept>
#include <string>

namespace salcrop {

Components split_components(SalcropPixelFormat format, int w, int h, const uint8_t *const data[4],
                            const int linesize[4])
{
    Components r;
    auto plane = [&](int i, int pw, int ph, int step = 1, int offset = 0) {
        if (!data[i] || linesize[i] == 0)
            throw std::invalid_argument("image plane " + std::to_string(i) + " is missing");
        if (linesize[i] < 0)
            throw std::invalid_argument("image plane " + std::to_string(i) + " has a negative linesize " +
                                        std::to_string(linesize[i]) + " (a bottom-up picture): give rows top-down");
        // A row holds every byte of its pixels (all channels of a packed format, both of NV12's UV pair).
        if (int64_t(linesize[i]) < int64_t(pw) * step)
            throw std::invalid_argument("image plane " + std::to_string(i) + " linesize " + std::to_string(linesize[i]) +
                                        " is too small for " + std::to_string(pw) + " pixels of " +
                                        std::to_string(step) + " bytes");
        Component c;
        c.data = const_cast<uint8_t *>(data[i]) + offset;
        c.linesize = linesize[i];
        c.width = pw;
        c.height = ph;
        c.step = step;
        return c;
    };
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    switch (format) {
    case SALCROP_PIX_YUV420P:
        r = {true, 3, {plane(0, w, h), plane(1, cw, ch), plane(2, cw, ch)}};
        break;
    case SALCROP_PIX_YUV422P:
        r = {true, 3, {plane(0, w, h), plane(1, cw, h), plane(2, cw, h)}};
        break;
    case SALCROP_PIX_YUV444P:
        r = {true, 3, {plane(0, w, h), plane(1, w, h), plane(2, w, h)}};
        break;
    case SALCROP_PIX_NV12:
        r = {true, 3, {plane(0, w, h), plane(1, cw, ch, 2, 0), plane(1, cw, ch, 2, 1)}};
        break;
    case SALCROP_PIX_GRAY8:
        r.yuv = true;
        r.count = 1;
        r.c[0] = plane(0, w, h);
        break;
    case SALCROP_PIX_RGB24:
        r = {false, 3, {plane(0, w, h, 3, 0), plane(0, w, h, 3, 1), plane(0, w, h, 3, 2)}};
        break;
    case SALCROP_PIX_BGR24:
        r = {false, 3, {plane(0, w, h, 3, 2), plane(0, w, h, 3, 1), plane(0, w, h, 3, 0)}};
        break;
    case SALCROP_PIX_RGBA:
        r = {false, 3, {plane(0, w, h, 4, 0), plane(0, w, h, 4, 1), plane(0, w, h, 4, 2)}};
        break;
    case SALCROP_PIX_BGRA:
        r = {false, 3, {plane(0, w, h, 4, 2), plane(0, w, h, 4, 1), plane(0, w, h, 4, 0)}};
        break;
    default:
        throw std::invalid_argument("unknown pixel format " + std::to_string(int(format)));
    }
    for (int i = 0; i < r.count; i++) {
        const Component &c = r.c[i];
        if (c.linesize < (c.width - 1) * c.step + 1)
            throw std::invalid_argument("image plane linesize " + std::to_string(c.linesize) +
                                        " is too small for width " + std::to_string(w));
    }
    return r;
}

void check_image(const SalcropImage &img, int width, int height)
{
    if (img.width != width || img.height != height)
        throw std::invalid_argument("frame size " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                                    " differs from the engine's " + std::to_string(width) + "x" +
                                    std::to_string(height));
    if (int(img.format) < 0 || img.format >= SALCROP_PIX_NB)
        throw std::invalid_argument("unknown pixel format " + std::to_string(int(img.format)));
    split_components(img.format, img.width, img.height, img.data, img.linesize);
}

namespace {
struct Coeffs {
    double kr, kb;
};
Coeffs coeffs(bool bt709)
{
    return bt709 ? Coeffs{0.2126, 0.0722} : Coeffs{0.299, 0.114};
}
}  // namespace

void YuvMatrix::to_rgb(float y, float u, float v, float rgb[3]) const
{
    const Coeffs k = coeffs(bt709);
    const double kg = 1.0 - k.kr - k.kb;
    double Y, Cb, Cr;
    if (full_range) {
        Y = y;
        Cb = u - 128.0;
        Cr = v - 128.0;
    } else {
        Y = (y - 16.0) * (255.0 / 219.0);
        Cb = (u - 128.0) * (255.0 / 224.0);
        Cr = (v - 128.0) * (255.0 / 224.0);
    }
    double r = Y + 2.0 * (1.0 - k.kr) * Cr;
    double b = Y + 2.0 * (1.0 - k.kb) * Cb;
    double g = (Y - k.kr * r - k.kb * b) / kg;
    rgb[0] = float(r);
    rgb[1] = float(g);
    rgb[2] = float(b);
}

YuvMatrix::Affine YuvMatrix::to_rgb_affine() const
{
    // to_rgb is affine: its value at the origin and its steps along Y, U and V give the matrix exactly.
    Affine a{};
    float base[3], unit[3];
    to_rgb(0, 0, 0, base);
    for (int axis = 0; axis < 3; axis++) {
        to_rgb(axis == 0, axis == 1, axis == 2, unit);
        for (int c = 0; c < 3; c++)
            a.m[c][axis] = unit[c] - base[c];
    }
    for (int c = 0; c < 3; c++)
        a.m[c][3] = base[c];
    return a;
}

void YuvMatrix::from_rgb(const float rgb[3], float yuv[3]) const
{
    const Coeffs k = coeffs(bt709);
    const double kg = 1.0 - k.kr - k.kb;
    double Y = k.kr * rgb[0] + kg * rgb[1] + k.kb * rgb[2];
    double Cb = (rgb[2] - Y) / (2.0 * (1.0 - k.kb));
    double Cr = (rgb[0] - Y) / (2.0 * (1.0 - k.kr));
    if (full_range) {
        yuv[0] = float(Y);
        yuv[1] = float(Cb + 128.0);
        yuv[2] = float(Cr + 128.0);
    } else {
        yuv[0] = float(16.0 + Y * 219.0 / 255.0);
        yuv[1] = float(128.0 + Cb * 224.0 / 255.0);
        yuv[2] = float(128.0 + Cr * 224.0 / 255.0);
    }
}

}  // namespace salcrop
