#include "preprocess.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#if defined(__x86_64__) && !defined(SALCROP_NO_SIMD_CLONES)
#include <immintrin.h>
#define SALCROP_AVX2_BOX 1
#endif

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
    switch (fx) {  // the thumbnail at 720p (8, 4), 1080p (12, 6), 2160p (24, 12); its finer sums (4, 2; 6, 3);
                   // 1: the face detector's chroma at 720p (640x360 into 640x360)
    case 1: return box_sums_fixed<1>(out, row, out_w, fx, scale);
    case 3: return box_sums_fixed<3>(out, row, out_w, fx, scale);
    case 4: return box_sums_fixed<4>(out, row, out_w, fx, scale);
    case 6: return box_sums_fixed<6>(out, row, out_w, fx, scale);
    case 8: return box_sums_fixed<8>(out, row, out_w, fx, scale);
    case 12: return box_sums_fixed<12>(out, row, out_w, fx, scale);
    default: return box_sums_fixed<0>(out, row, out_w, fx, scale);
    }
}

// One output row of a whole-pixel box average: the fy source rows from src (ls bytes apart) summed in 16-bit
// integers into box, then each run of fx sums. The portable loops; the reference the AVX2 version must equal.
void box_row_portable(float *out, uint16_t *box, const uint8_t *src, size_t ls, int width, int fy, int out_w,
                      int fx, float scale)
{
    std::fill(box, box + width, uint16_t(0));
    for (int k = 0; k < fy; k++)
        add_u8(box, src + size_t(k) * ls, width);
    box_sums(out, box, out_w, fx, scale);
}

#ifdef SALCROP_AVX2_BOX
// The same sums with AVX2 (the thumbnail reads every source sample of every frame: this is the core's one
// per-frame pass). Each 32-column strip sums its fy rows in registers (no 16-bit row stored and reloaded per
// source row), and the horizontal sums of the 720p factors (2, 4, 8) add pairs with vpmaddwd and vphaddd
// instead of a scalar loop per output. Integer sums in any order are the same sums: the floats out are the
// portable version's, bit for bit (test_per_frame_cost.py checks it on real frames).
__attribute__((target("avx2"))) void box_row_avx2(float *out, uint16_t *box, const uint8_t *src, size_t ls,
                                                  int width, int fy, int out_w, int fx, float scale)
{
    int x = 0;
    for (; x + 32 <= width; x += 32) {
        __m256i lo = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(src + x)));
        __m256i hi = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(src + x + 16)));
        // The frame comes from outside this core's caches (the decoder's threads wrote it): the pass waits on
        // memory. Asking for every row's line 512 bytes ahead, once per 64-byte line, takes ~20% off it
        // (BENCHMARKS.md, issue 27 stop 31); a prefetch never faults, past the end of a row or of the picture.
        if ((x & 63) == 0)
            for (int k = 0; k < fy; k++)
                _mm_prefetch(reinterpret_cast<const char *>(src + size_t(k) * ls + x + 512), _MM_HINT_T0);
        for (int k = 1; k < fy; k++) {
            const uint8_t *r = src + size_t(k) * ls + x;
            lo = _mm256_add_epi16(lo, _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(r))));
            hi = _mm256_add_epi16(hi, _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(r + 16))));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(box + x), lo);
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(box + x + 16), hi);
    }
    for (; x < width; x++) {
        uint16_t acc = 0;
        for (int k = 0; k < fy; k++)
            acc = uint16_t(acc + src[size_t(k) * ls + x]);
        box[x] = acc;
    }
    // vpmaddwd reads the sums as signed 16-bit: at most 255 * fy, so fy <= 128.
    int ox = 0;
    if (fx == 1) {  // no horizontal sum (the face detector's chroma at 720p): each 16-bit sum to float, scaled
        const __m256 vscale = _mm256_set1_ps(scale);
        for (; ox + 8 <= out_w; ox += 8) {
            const __m256i sums = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(box + ox)));
            _mm256_storeu_ps(out + ox, _mm256_mul_ps(_mm256_cvtepi32_ps(sums), vscale));
        }
    } else if ((fx == 2 || fx == 4 || fx == 8) && fy <= 128) {
        const __m256i ones = _mm256_set1_epi16(1);
        const __m256 vscale = _mm256_set1_ps(scale);
        const __m256i order8 = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        for (; ox + 8 <= out_w; ox += 8) {
            const uint16_t *b = box + size_t(ox) * fx;
            // The 8 sums of adjacent pairs of b[16j .. 16j+15] (a macro: a lambda would not be built for AVX2).
#define SALCROP_PAIRS(j) _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(b + 16 * (j))), ones)
            __m256i sums;
            if (fx == 2) {
                sums = SALCROP_PAIRS(0);
            } else if (fx == 4) {  // hadd leaves the 128-bit halves' quads as 0 1 4 5 | 2 3 6 7
                sums = _mm256_permute4x64_epi64(_mm256_hadd_epi32(SALCROP_PAIRS(0), SALCROP_PAIRS(1)), 0xD8);
            } else {  // two hadds: outputs 0 2 4 6 | 1 3 5 7
                const __m256i q01 = _mm256_hadd_epi32(SALCROP_PAIRS(0), SALCROP_PAIRS(1));
                const __m256i q23 = _mm256_hadd_epi32(SALCROP_PAIRS(2), SALCROP_PAIRS(3));
                sums = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(q01, q23), order8);
            }
            _mm256_storeu_ps(out + ox, _mm256_mul_ps(_mm256_cvtepi32_ps(sums), vscale));
#undef SALCROP_PAIRS
        }
    }
    if (ox < out_w)
        box_sums(out + ox, box + size_t(ox) * fx, out_w - ox, fx, scale);
}

bool have_avx2()
{
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}
#endif

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

namespace {

// Whether c shrinks to out_w x out_h by whole pixels on both axes, within box_row's 16-bit column sums.
bool whole_pixel_box(const Component &c, int out_w, int out_h)
{
    const int fx = c.width / out_w, fy = c.height / out_h;
    return c.step == 1 && fx >= 1 && fy >= 1 && fx * out_w == c.width && fy * out_h == c.height && fy <= 257;
}

// The box average of c at out_w x out_h (whole_pixel_box must hold), times scale * fx * fy: scale = 1 gives the
// integer box sums themselves (exact in float below 2^24).
void box_plane(const Component &c, int out_w, int out_h, float scale, std::vector<uint16_t> &box, bool portable,
               float *out)
{
    const size_t ls = size_t(c.linesize);
    const int fx = c.width / out_w, fy = c.height / out_h;
    box.resize(size_t(c.width));
    auto row = box_row_portable;
#ifdef SALCROP_AVX2_BOX
    if (!portable && have_avx2())
        row = box_row_avx2;
#endif
    for (int oy = 0; oy < out_h; oy++)
        row(out + size_t(oy) * out_w, box.data(), c.data + size_t(oy) * fy * ls, ls, c.width, fy, out_w, fx, scale);
}

// out (w x h) = scale * the sums of 2x2 blocks of f (2w x 2h): two rows added, then adjacent pairs, each a loop
// that vectorises. The sums are integers below 2^24, exact in float in any order.
SALCROP_SIMD_CLONES void pair_sums(const float *f, int w, int h, float scale, std::vector<float> &rows, float *out)
{
    const int fw = 2 * w;
    rows.resize(size_t(fw));
    float *t = rows.data();
    for (int y = 0; y < h; y++) {
        const float *a = f + size_t(2 * y) * fw, *b = a + fw;
        for (int x = 0; x < fw; x++)
            t[x] = a[x] + b[x];
        float *o = out + size_t(y) * w;
        for (int x = 0; x < w; x++)
            o[x] = (t[2 * x] + t[2 * x + 1]) * scale;
    }
}

}  // namespace

void Resampler::resample(const Component &c, float *out)
{
    // Shrinking planar samples by whole pixels on both axes (the thumbnail of 720p, 1080p and 2160p) is a box
    // average: the same area average, summed in integers.
    if (whole_pixel_box(c, out_w_, out_h_)) {
        const int fx = c.width / out_w_, fy = c.height / out_h_;
        box_plane(c, out_w_, out_h_, 1.0f / float(fx * fy), box_, portable_, out);
        return;
    }
    const uint8_t *base = c.data;
    const size_t ls = size_t(c.linesize);
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

namespace {

// The resampled components (n samples each, 0..255) in the planes r, g, b (components 0, 1, 2) to RGB in place,
// times scale. Converting after resampling is exact: the conversion is affine. Every frame's thumbnail goes through
// it: an AVX2 clone (no FMA: the same multiplications and additions as the baseline build, so the same bits), and
// ivdep because the three planes do not overlap, which GCC cannot prove.
SALCROP_SIMD_CLONES void components_to_rgb(const SalcropImage &img, const Components &comps, size_t n, float scale,
                                           float *r, float *g, float *b)
{
    if (comps.count == 1) {
        // Gray: Y to R=G=B (limited range expanded).
        const float gain = img.full_range ? 1.0f : 255.0f / 219.0f, offset = img.full_range ? 0.0f : -16.0f * gain;
        for (size_t k = 0; k < n; k++) {
            const float v = std::clamp(r[k] * gain + offset, 0.0f, 255.0f) * scale;
            r[k] = g[k] = b[k] = v;
        }
    } else if (comps.yuv) {
        const YuvMatrix::Affine a = YuvMatrix{img.full_range != 0, img.colorspace == 1}.to_rgb_affine();
#pragma GCC ivdep
        for (size_t k = 0; k < n; k++) {
            const float y = r[k], u = g[k], v = b[k];
            r[k] = std::clamp(a.m[0][0] * y + a.m[0][1] * u + a.m[0][2] * v + a.m[0][3], 0.0f, 255.0f) * scale;
            g[k] = std::clamp(a.m[1][0] * y + a.m[1][1] * u + a.m[1][2] * v + a.m[1][3], 0.0f, 255.0f) * scale;
            b[k] = std::clamp(a.m[2][0] * y + a.m[2][1] * u + a.m[2][2] * v + a.m[2][3], 0.0f, 255.0f) * scale;
        }
    } else {
        for (float *plane : {r, g, b})
            for (size_t k = 0; k < n; k++)
                plane[k] = std::clamp(plane[k], 0.0f, 255.0f) * scale;
    }
}

// The same for three planes one after the other from dst.
void components_to_rgb(const SalcropImage &img, const Components &comps, size_t n, float scale, float *dst)
{
    components_to_rgb(img, comps, n, scale, dst, dst + n, dst + 2 * n);
}

}  // namespace

void image_to_rgb_planes(const SalcropImage &img, Resampler &rs, float scale, float *const planes[3])
{
    const Components comps = split_components(img.format, img.width, img.height, img.data, img.linesize);
    const size_t n = size_t(rs.out_width()) * rs.out_height();
    for (int i = 0; i < comps.count; i++)
        rs.resample(comps.c[i], planes[i]);
    components_to_rgb(img, comps, n, scale, planes[0], planes[1], planes[2]);
}

void image_to_rgb_planes(const SalcropImage &img, Resampler &rs, float scale, float *dst)
{
    const size_t n = size_t(rs.out_width()) * rs.out_height();
    float *const planes[3] = {dst, dst + n, dst + 2 * n};
    image_to_rgb_planes(img, rs, scale, planes);
}

std::pair<int, int> thumbnail_size(int width, int height)
{
    int tw = std::min(width, 160);
    int th = std::max(1, int(std::lround(double(height) * tw / width)));
    return {tw, th};
}

namespace {

#ifdef SALCROP_AVX2_BOX
// rgb_planes_to_hsv eight pixels at a time (the reference's branches on which channel is the largest were
// mispredicted on every other pixel of real video, and GCC does not if-convert them). Every value comes from the
// same float operations in the same order as in the reference loop, with selects for branches: the thumbnail is
// the reference's bit for bit (test_per_frame_cost.py checks it on real frames). The last n % 8 pixels: the
// reference.
__attribute__((target("avx2"))) size_t hsv_avx2(const float *rgb, size_t n, float *hsv)
{
    const __m256 eps = _mm256_set1_ps(1e-6f), one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    const __m256 c60 = _mm256_set1_ps(60.0f), c120 = _mm256_set1_ps(120.0f), c240 = _mm256_set1_ps(240.0f);
    const __m256 c360 = _mm256_set1_ps(360.0f), c255 = _mm256_set1_ps(255.0f), half = _mm256_set1_ps(0.5f);
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        const __m256 r = _mm256_loadu_ps(rgb + k), g = _mm256_loadu_ps(rgb + n + k), b = _mm256_loadu_ps(rgb + 2 * n + k);
        // std::max({r, g, b}) keeps the first of equals: (a < b) ? b : a; std::min: (b < a) ? b : a.
        const __m256 mrg = _mm256_blendv_ps(r, g, _mm256_cmp_ps(r, g, _CMP_LT_OQ));
        const __m256 mx = _mm256_blendv_ps(mrg, b, _mm256_cmp_ps(mrg, b, _CMP_LT_OQ));
        const __m256 nrg = _mm256_blendv_ps(r, g, _mm256_cmp_ps(g, r, _CMP_LT_OQ));
        const __m256 mn = _mm256_blendv_ps(nrg, b, _mm256_cmp_ps(b, nrg, _CMP_LT_OQ));
        const __m256 d = _mm256_sub_ps(mx, mn);
        const __m256 is_r = _mm256_cmp_ps(mx, r, _CMP_EQ_OQ);
        const __m256 is_g = _mm256_andnot_ps(is_r, _mm256_cmp_ps(mx, g, _CMP_EQ_OQ));
        const __m256 num = _mm256_blendv_ps(_mm256_blendv_ps(_mm256_sub_ps(r, g), _mm256_sub_ps(b, r), is_g),
                                            _mm256_sub_ps(g, b), is_r);
        const __m256 has_hue = _mm256_cmp_ps(d, eps, _CMP_GT_OQ);
        const __m256 q = _mm256_div_ps(_mm256_mul_ps(c60, num), _mm256_blendv_ps(one, d, has_hue));
        __m256 hue = _mm256_blendv_ps(_mm256_add_ps(_mm256_blendv_ps(c240, c120, is_g), q), q, is_r);
        hue = _mm256_and_ps(hue, has_hue);  // 0 where d <= 1e-6
        hue = _mm256_blendv_ps(hue, _mm256_add_ps(hue, c360), _mm256_cmp_ps(hue, zero, _CMP_LT_OQ));
        const __m256 lit = _mm256_cmp_ps(mx, eps, _CMP_GT_OQ);
        const __m256 sat = _mm256_and_ps(_mm256_div_ps(_mm256_mul_ps(c255, d), _mm256_blendv_ps(one, mx, lit)), lit);
        _mm256_storeu_ps(hsv + k, _mm256_mul_ps(hue, half));
        _mm256_storeu_ps(hsv + n + k, sat);
        _mm256_storeu_ps(hsv + 2 * n + k, mx);
    }
    return k;
}
#endif

// One pixel of the reference: OpenCV's scales (H 0..180, S and V 0..255).
inline void hsv_pixel(const float *rgb, size_t n, size_t k, float *hsv)
{
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
    hsv[k] = hue * 0.5f;  // OpenCV's 8-bit hue scale, as PySceneDetect sees it
    hsv[n + k] = mx > 1e-6f ? 255.0f * d / mx : 0.0f;
    hsv[2 * n + k] = mx;
}

}  // namespace

void rgb_planes_to_hsv(const float *rgb, int w, int h, Thumbnail *out, bool portable)
{
    Thumbnail &t = *out;
    t.width = w;
    t.height = h;
    const size_t n = size_t(w) * h;
    t.hsv.resize(3 * n);
    size_t k = 0;
#ifdef SALCROP_AVX2_BOX
    if (!portable && have_avx2())
        k = hsv_avx2(rgb, n, t.hsv.data());
#else
    (void)portable;
#endif
    for (; k < n; k++)
        hsv_pixel(rgb, n, k, t.hsv.data());
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

Thumbnailer::Thumbnailer(int src_w, int src_h, bool portable, bool keep_sums)
    : rs_(thumbnail_size(src_w, src_h).first, thumbnail_size(src_w, src_h).second), portable_(portable),
      keep_sums_(keep_sums && !portable)
{
    rs_.set_portable(portable);
}

const Thumbnail &Thumbnailer::make(const SalcropImage &img)
{
    const int tw = rs_.out_width(), th = rs_.out_height();
    const size_t n = size_t(tw) * th;
    rgb_.resize(3 * n);
    comps_ = split_components(img.format, img.width, img.height, img.data, img.linesize);
    // The finer sums need every component to shrink to twice the thumbnail's size by whole pixels (and to the
    // thumbnail itself, so that it stays the box average it was). The portable mode is the reference: one box.
    fine_of_ = nullptr;
    bool fine = keep_sums_;
    for (int i = 0; i < comps_.count && fine; i++) {
        const Component &c = comps_.c[i];
        fine = whole_pixel_box(c, tw, th) && whole_pixel_box(c, 2 * tw, 2 * th);
    }
    if (!fine) {
        image_to_rgb_planes(img, rs_, 1.0f, rgb_.data());
    } else {
        const int fw = 2 * tw;
        for (int i = 0; i < comps_.count; i++) {
            const Component &c = comps_.c[i];
            const int fx = c.width / tw, fy = c.height / th;
            fine_[i].resize(size_t(fw) * 2 * th);
            box_plane(c, fw, 2 * th, 1.0f, box_, false, fine_[i].data());
            fine_norm_[i] = 4.0f / float(fx * fy);
            // Each thumbnail sample is the sum of four finer sums: integers below 2^24, so exact in float and
            // in any order, and float(sum) * scale is the one-box path's value bit for bit.
            const float scale = 1.0f / float(fx * fy);
            pair_sums(fine_[i].data(), tw, th, scale, rows_, rgb_.data() + i * n);
        }
        components_to_rgb(img, comps_, n, 1.0f, rgb_.data());
        fine_of_ = img.data[0];
    }
    rgb_planes_to_hsv(rgb_.data(), tw, th, &thumb_, portable_);
    thumb_.brightness = sum_of(rgb_.data(), rgb_.size()) / double(rgb_.size());
    return thumb_;
}

bool Thumbnailer::model_input(const SalcropImage &img, Resampler &rs, float scale, float *dst)
{
    const int fw = 2 * rs_.out_width(), fh = 2 * rs_.out_height();
    if (fine_of_ == nullptr || img.data[0] != fine_of_ || rs.out_width() > fw || rs.out_height() > fh)
        return false;
    const size_t n = size_t(rs.out_width()) * rs.out_height();
    for (int i = 0; i < comps_.count; i++) {
        float *o = dst + i * n;
        rs.resample(fine_[i].data(), fw, fh, o);
        for (size_t k = 0; k < n; k++)
            o[k] *= fine_norm_[i];
    }
    components_to_rgb(img, comps_, n, scale, dst);
    return true;
}

}  // namespace salcrop
