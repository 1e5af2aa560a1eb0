#include "preprocess.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace salcrop {

AxisWeights AxisWeights::make(int in, int out)
{
    AxisWeights a;
    const double scale = double(in) / out;
    for (int i = 0; i < out; i++) {
        a.start.push_back(int(a.w.size()));
        if (scale >= 1.0) {
            // Area average: output i covers source [i*scale, (i+1)*scale).
            double x0 = i * scale, x1 = (i + 1) * scale;
            int s0 = int(std::floor(x0)), s1 = std::min(in, int(std::ceil(x1)));
            a.first.push_back(s0);
            a.count.push_back(s1 - s0);
            for (int s = s0; s < s1; s++) {
                double ov = std::min<double>(s + 1, x1) - std::max<double>(s, x0);
                a.w.push_back(float(std::max(0.0, ov) / scale));
            }
        } else {
            double c = (i + 0.5) * scale - 0.5;
            c = std::clamp(c, 0.0, double(in - 1));
            int i0 = int(std::floor(c));
            int i1 = std::min(i0 + 1, in - 1);
            float f = float(c - i0);
            a.first.push_back(i0);
            if (i1 == i0) {
                a.count.push_back(1);
                a.w.push_back(1.0f);
            } else {
                a.count.push_back(2);
                a.w.push_back(1.0f - f);
                a.w.push_back(f);
            }
        }
    }
    // The same taps padded to a common count, for the horizontal pass.
    for (int c : a.count)
        a.taps = std::max(a.taps, c);
    a.pad_first.resize(out);
    a.pad_w.assign(size_t(a.taps) * out, 0.0f);
    for (int i = 0; i < out; i++) {
        const int f = std::min(a.first[i], in - a.taps);
        a.pad_first[i] = f;
        for (int k = 0; k < a.count[i]; k++)
            a.pad_w[size_t(i) * a.taps + (a.first[i] - f + k)] = a.w[a.start[i] + k];
    }
    return a;
}

const std::pair<AxisWeights, AxisWeights> &Resampler::weights(int in_w, int in_h)
{
    auto key = std::make_pair(in_w, in_h);
    auto it = cache_.find(key);
    if (it == cache_.end())
        it = cache_.emplace(key, std::make_pair(AxisWeights::make(in_w, out_w_), AxisWeights::make(in_h, out_h_)))
                 .first;
    return it->second;
}

namespace {

// The two inner loops of resampling run over every source sample of every frame. Built for x86-64's baseline
// (SSE2) they are a third of the core's per-frame cost; an AVX2 clone, chosen at load time on CPUs that have it,
// halves that. Other compilers and targets get the plain version.
#if defined(__x86_64__) && defined(__has_attribute) && !defined(SALCROP_NO_SIMD_CLONES)
#if __has_attribute(target_clones)
#define SALCROP_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef SALCROP_SIMD_CLONES
#define SALCROP_SIMD_CLONES
#endif

// row[x] (+)= f * src[x] over a contiguous 8-bit source row (planar formats, the common case).
SALCROP_SIMD_CLONES void accumulate_u8(float *row, const uint8_t *src, int n, float f, bool first)
{
    if (first)
        for (int x = 0; x < n; x++)
            row[x] = f * float(src[x]);
    else
        for (int x = 0; x < n; x++)
            row[x] += f * float(src[x]);
}

// Horizontal pass over one summed row: output ox = sum over k < taps of pad_w[ox][k] * row[pad_first[ox] + k].
// A compile-time tap count (Taps > 0) unrolls the sum into contiguous loads; vectorising across outputs
// instead would need gathers, which were slower. Taps = 0 takes the count at run time.
template <int Taps>
void horizontal_fixed(float *out, const float *row, const int *first, const float *w, int out_w, int taps)
{
    const int n = Taps > 0 ? Taps : taps;
    for (int ox = 0; ox < out_w; ox++) {
        const float *r = row + first[ox];
        const float *wo = w + size_t(ox) * n;
        float acc = 0.0f;
        for (int k = 0; k < n; k++)
            acc += wo[k] * r[k];
        out[ox] = acc;
    }
}

void horizontal(float *out, const float *row, const AxisWeights &wx, int out_w)
{
    const int *first = wx.pad_first.data();
    const float *w = wx.pad_w.data();
    const int t = wx.taps;
    switch (t) {
    case 1: return horizontal_fixed<1>(out, row, first, w, out_w, t);
    case 2: return horizontal_fixed<2>(out, row, first, w, out_w, t);
    case 3: return horizontal_fixed<3>(out, row, first, w, out_w, t);
    case 4: return horizontal_fixed<4>(out, row, first, w, out_w, t);
    case 5: return horizontal_fixed<5>(out, row, first, w, out_w, t);
    case 6: return horizontal_fixed<6>(out, row, first, w, out_w, t);
    case 7: return horizontal_fixed<7>(out, row, first, w, out_w, t);
    case 8: return horizontal_fixed<8>(out, row, first, w, out_w, t);
    default: return horizontal_fixed<0>(out, row, first, w, out_w, t);
    }
}

// row[x] += src[x]: the vertical pass of a whole-pixel box in 16-bit integer sums (16 or 32 samples per
// instruction, against 8 for the float pass).
SALCROP_SIMD_CLONES void add_u8(uint16_t *row, const uint8_t *src, int n)
{
    for (int x = 0; x < n; x++)
        row[x] = uint16_t(row[x] + src[x]);
}

// Horizontal pass of a whole-pixel box: out[ox] = (row[ox*f] + ... + row[ox*f + f-1]) * scale, with f = F
// fixed at compile time (unrolled) or, for F = 0, fx.
template <int F>
void box_sums_fixed(float *out, const uint16_t *row, int out_w, int fx, float scale)
{
    const int f = F > 0 ? F : fx;
    for (int ox = 0; ox < out_w; ox++) {
        uint32_t acc = 0;
        for (int k = 0; k < f; k++)
            acc += row[ox * f + k];
        out[ox] = float(acc) * scale;
    }
}

void box_sums(float *out, const uint16_t *row, int out_w, int fx, float scale)
{
    switch (fx) {  // the thumbnail's factors at 720p (8, 4), 1080p (12, 6) and 2160p (24, 12)
    case 4: return box_sums_fixed<4>(out, row, out_w, fx, scale);
    case 6: return box_sums_fixed<6>(out, row, out_w, fx, scale);
    case 8: return box_sums_fixed<8>(out, row, out_w, fx, scale);
    case 12: return box_sums_fixed<12>(out, row, out_w, fx, scale);
    default: return box_sums_fixed<0>(out, row, out_w, fx, scale);
    }
}

template <typename T>
void accumulate_row(float *row, const T *src, int n, int step, float f, bool first)
{
    if constexpr (std::is_same_v<T, uint8_t>) {
        if (step == 1)
            return accumulate_u8(row, src, n, f, first);
    }
    for (int x = 0; x < n; x++)
        row[x] = (first ? 0.0f : row[x]) + f * float(src[size_t(x) * step]);
}

// Separable resampling: for each output row, the weighted source rows are summed into `row` (vertical pass),
// then each output sample sums its taps of `row` (horizontal pass). row_ptr(y) gives source row y.
template <typename T, typename RowPtr>
void resample_impl(const AxisWeights &wx, const AxisWeights &wy, int in_w, int step, int out_w, int out_h,
                   std::vector<float> &row, RowPtr row_ptr, float *out)
{
    row.resize(in_w);
    for (int oy = 0; oy < out_h; oy++) {
        const int y0 = wy.first[oy], ny = wy.count[oy];
        const float *wyv = &wy.w[wy.start[oy]];
        for (int k = 0; k < ny; k++)
            accumulate_row<T>(row.data(), row_ptr(y0 + k), in_w, step, wyv[k], k == 0);
        horizontal(out + size_t(oy) * out_w, row.data(), wx, out_w);
    }
}
}  // namespace

void Resampler::resample(const Component &c, float *out)
{
    const uint8_t *base = c.data;
    const size_t ls = size_t(c.linesize);
    // Shrinking planar samples by whole pixels on both axes (the thumbnail of 720p, 1080p and 2160p) is a box
    // average: the same area average, summed in integers.
    const int fx = c.width / out_w_, fy = c.height / out_h_;
    if (c.step == 1 && fx >= 1 && fy >= 1 && fx * out_w_ == c.width && fy * out_h_ == c.height && fy <= 257) {
        box_.resize(size_t(c.width));
        const float scale = 1.0f / float(fx * fy);
        for (int oy = 0; oy < out_h_; oy++) {
            std::fill(box_.begin(), box_.end(), uint16_t(0));
            for (int k = 0; k < fy; k++)
                add_u8(box_.data(), base + size_t(oy * fy + k) * ls, c.width);
            box_sums(out + size_t(oy) * out_w_, box_.data(), out_w_, fx, scale);
        }
        return;
    }
    const auto &w = weights(c.width, c.height);
    resample_impl<uint8_t>(w.first, w.second, c.width, c.step, out_w_, out_h_, row_,
                           [base, ls](int y) { return base + y * ls; }, out);
}

void Resampler::resample(const float *in, int in_w, int in_h, float *out)
{
    const auto &w = weights(in_w, in_h);
    resample_impl<float>(w.first, w.second, in_w, 1, out_w_, out_h_, row_,
                         [in, in_w](int y) { return in + size_t(y) * in_w; }, out);
}

void image_to_rgb_planes(const SalcropImage &img, Resampler &rs, float scale, float *dst)
{
    const Components comps = split_components(img.format, img.width, img.height, img.data, img.linesize);
    const size_t n = size_t(rs.out_width()) * rs.out_height();
    for (int i = 0; i < comps.count; i++)
        rs.resample(comps.c[i], dst + i * n);
    if (comps.count == 1) {
        // Gray: Y to R=G=B (limited range expanded).
        const float gain = img.full_range ? 1.0f : 255.0f / 219.0f, offset = img.full_range ? 0.0f : -16.0f * gain;
        for (size_t k = 0; k < n; k++) {
            const float g = std::clamp(dst[k] * gain + offset, 0.0f, 255.0f) * scale;
            dst[k] = dst[n + k] = dst[2 * n + k] = g;
        }
    } else if (comps.yuv) {
        const YuvMatrix::Affine a = YuvMatrix{img.full_range != 0, img.colorspace == 1}.to_rgb_affine();
        float *r = dst, *g = dst + n, *b = dst + 2 * n;
        for (size_t k = 0; k < n; k++) {
            const float y = r[k], u = g[k], v = b[k];
            r[k] = std::clamp(a.m[0][0] * y + a.m[0][1] * u + a.m[0][2] * v + a.m[0][3], 0.0f, 255.0f) * scale;
            g[k] = std::clamp(a.m[1][0] * y + a.m[1][1] * u + a.m[1][2] * v + a.m[1][3], 0.0f, 255.0f) * scale;
            b[k] = std::clamp(a.m[2][0] * y + a.m[2][1] * u + a.m[2][2] * v + a.m[2][3], 0.0f, 255.0f) * scale;
        }
    } else {
        for (size_t k = 0; k < 3 * n; k++)
            dst[k] = std::clamp(dst[k], 0.0f, 255.0f) * scale;
    }
}

std::pair<int, int> thumbnail_size(int width, int height)
{
    int tw = std::min(width, 160);
    int th = std::max(1, int(std::lround(double(height) * tw / width)));
    return {tw, th};
}

void rgb_planes_to_hsv(const float *rgb, int w, int h, Thumbnail *out)
{
    Thumbnail &t = *out;
    t.width = w;
    t.height = h;
    const size_t n = size_t(w) * h;
    t.hsv.resize(3 * n);
    for (size_t k = 0; k < n; k++) {
        const float r = rgb[k], g = rgb[n + k], b = rgb[2 * n + k];
        const float mx = std::max({r, g, b}), mn = std::min({r, g, b});
        const float d = mx - mn;
        float hue = 0.0f;
        if (d > 1e-6f) {
            if (mx == r)
                hue = 60.0f * (g - b) / d;
            else if (mx == g)
                hue = 120.0f + 60.0f * (b - r) / d;
            else
                hue = 240.0f + 60.0f * (r - g) / d;
            if (hue < 0)
                hue += 360.0f;
        }
        t.hsv[k] = hue * 0.5f;  // OpenCV's 8-bit hue scale, as PySceneDetect sees it
        t.hsv[n + k] = mx > 1e-6f ? 255.0f * d / mx : 0.0f;
        t.hsv[2 * n + k] = mx;
    }
}

namespace {

// Sum of n floats in eight running sums, which vectorise (a single one would not: float addition does not
// reassociate); the partial sums stay far inside float precision for a thumbnail of 0..255 samples.
double sum_of(const float *v, size_t n)
{
    float acc[8] = {};
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += v[k + j];
    double s = 0;
    for (float a : acc)
        s += a;
    for (; k < n; k++)
        s += v[k];
    return s;
}

}  // namespace

Thumbnailer::Thumbnailer(int src_w, int src_h)
    : rs_(thumbnail_size(src_w, src_h).first, thumbnail_size(src_w, src_h).second)
{
}

const Thumbnail &Thumbnailer::make(const SalcropImage &img)
{
    rgb_.resize(size_t(3) * rs_.out_width() * rs_.out_height());
    image_to_rgb_planes(img, rs_, 1.0f, rgb_.data());
    rgb_planes_to_hsv(rgb_.data(), rs_.out_width(), rs_.out_height(), &thumb_);
    thumb_.brightness = sum_of(rgb_.data(), rgb_.size()) / double(rgb_.size());
    return thumb_;
}

}  // namespace salcrop
