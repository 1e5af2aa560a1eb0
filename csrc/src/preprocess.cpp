#include "preprocess.h"

#include <algorithm>
#include <cmath>

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
template <typename Sample>
void resample_impl(const AxisWeights &wx, const AxisWeights &wy, int in_w, int out_w, int out_h,
                   std::vector<float> &row, Sample sample, float *out)
{
    row.assign(in_w, 0.0f);
    for (int oy = 0; oy < out_h; oy++) {
        std::fill(row.begin(), row.end(), 0.0f);
        const int y0 = wy.first[oy], ny = wy.count[oy];
        const float *wyv = &wy.w[wy.start[oy]];
        for (int k = 0; k < ny; k++) {
            const float f = wyv[k];
            for (int x = 0; x < in_w; x++)
                row[x] += f * sample(x, y0 + k);
        }
        for (int ox = 0; ox < out_w; ox++) {
            const int x0 = wx.first[ox], nx = wx.count[ox];
            const float *wxv = &wx.w[wx.start[ox]];
            float acc = 0.0f;
            for (int k = 0; k < nx; k++)
                acc += wxv[k] * row[x0 + k];
            out[size_t(oy) * out_w + ox] = acc;
        }
    }
}
}  // namespace

void Resampler::resample(const Component &c, float *out)
{
    const auto &w = weights(c.width, c.height);
    const uint8_t *base = c.data;
    const int ls = c.linesize, step = c.step;
    resample_impl(w.first, w.second, c.width, out_w_, out_h_, row_,
                  [base, ls, step](int x, int y) { return float(base[size_t(y) * ls + size_t(x) * step]); }, out);
}

void Resampler::resample(const float *in, int in_w, int in_h, float *out)
{
    const auto &w = weights(in_w, in_h);
    resample_impl(w.first, w.second, in_w, out_w_, out_h_, row_,
                  [in, in_w](int x, int y) { return in[size_t(y) * in_w + x]; }, out);
}

void image_to_rgb_planes(const SalcropImage &img, Resampler &rs, float scale, float *dst)
{
    const Components comps = split_components(img.format, img.width, img.height, img.data, img.linesize);
    const size_t n = size_t(rs.out_width()) * rs.out_height();
    for (int i = 0; i < comps.count; i++)
        rs.resample(comps.c[i], dst + i * n);
    if (comps.count == 1) {
        // Gray: Y to R=G=B (limited range expanded).
        for (size_t k = 0; k < n; k++) {
            float y = dst[k];
            if (!img.full_range)
                y = (y - 16.0f) * (255.0f / 219.0f);
            dst[k] = dst[n + k] = dst[2 * n + k] = y;
        }
    } else if (comps.yuv) {
        YuvMatrix m{img.full_range != 0, img.colorspace == 1};
        float rgb[3];
        for (size_t k = 0; k < n; k++) {
            m.to_rgb(dst[k], dst[n + k], dst[2 * n + k], rgb);
            dst[k] = rgb[0];
            dst[n + k] = rgb[1];
            dst[2 * n + k] = rgb[2];
        }
    }
    for (size_t k = 0; k < 3 * n; k++)
        dst[k] = std::clamp(dst[k], 0.0f, 255.0f) * scale;
}

std::pair<int, int> thumbnail_size(int width, int height)
{
    int tw = std::min(width, 160);
    int th = std::max(1, int(std::lround(double(height) * tw / width)));
    return {tw, th};
}

Thumbnail rgb_planes_to_hsv(const float *rgb, int w, int h)
{
    Thumbnail t;
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
    return t;
}

Preprocessor::Preprocessor(int src_w, int src_h, int model_w, int model_h)
    : model_rs_(model_w, model_h), thumb_rs_(thumbnail_size(src_w, src_h).first, thumbnail_size(src_w, src_h).second)
{
}

void Preprocessor::model_input(const SalcropImage &img, float *frame)
{
    image_to_rgb_planes(img, model_rs_, 1.0f / 255.0f, frame);
}

Thumbnail Preprocessor::thumbnail(const SalcropImage &img)
{
    tmp_.resize(size_t(3) * thumb_rs_.out_width() * thumb_rs_.out_height());
    image_to_rgb_planes(img, thumb_rs_, 1.0f, tmp_.data());
    Thumbnail t = rgb_planes_to_hsv(tmp_.data(), thumb_rs_.out_width(), thumb_rs_.out_height());
    double sum = 0;
    for (float v : tmp_)
        sum += v;
    t.brightness = sum / double(tmp_.size());
    return t;
}

}  // namespace salcrop
