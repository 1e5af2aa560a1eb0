#include "subject_tracker.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

#include "image.h"

namespace salcrop {

namespace {

using cfloat = std::complex<float>;

constexpr int kCells = 64;               // feature grid, cells per side (a power of two: the FFT's size)
constexpr int kSamples = 2 * kCells;     // samples per side of the search window (2x2 samples per cell)
constexpr int kBins = 4;                 // gradient orientations (unsigned)
constexpr int kChannels = 1 + kBins;     // grey + the orientations
constexpr int kN = kCells * kCells;
constexpr double kPadding = 1.5;         // the search window is (1 + kPadding) times the box
constexpr float kLambda = 1e-4f;         // ridge regularisation
constexpr float kGreyWeight = 0.25f;     // the grey channel against the gradients' (normalised to 0.2 RMS)
constexpr float kKernelSigma = 0.5f;     // Gaussian kernel's width (feature units)
constexpr float kLearnRate = 0.02f;      // model update per confident frame
constexpr double kLabelSigma = 0.1;      // the regression target's width, relative to the box (in cells)
constexpr double kScaleStep = 1.03;      // the scales tried: 1/step, 1, step
constexpr double kScalePenalty = 0.985;  // a scale change must beat staying by this much
constexpr int kSidelobeExclude = 5;      // the PSR's sidelobe leaves out +-5 cells around the peak
// Lost when the PSR falls below kLostShare of the track's typical PSR (or below kPsrFloor), or the response's peak
// below kLostPeak of its typical peak; re-found when a window's peak is back above kFoundPeak of it with a PSR of
// kPsrFloor + kFoundMargin and kFoundPsrShare of the typical PSR, or a PSR of kFoundSharpShare of it (the PSR alone
// does not tell a re-appearing subject from background texture; the peak mostly does, and a static pattern
// elsewhere matches with a high peak but a far blunter response than the subject's own). Tuned on OTB "Crossing" and UAV123 "person11" with a synthetic occlusion (EVALUATION.md "Issue 26").
constexpr double kLostShare = 0.25;
constexpr double kPsrFloor = 4.0;
constexpr double kLostPeak = 0.40;
constexpr double kFoundPeak = 0.45;
constexpr double kFoundMargin = 1.5;
constexpr double kFoundPsrShare = 0.15;   // and the PSR at least this share of the typical one (with the peak),
constexpr double kFoundSharpShare = 0.35; // or this share whatever the peak
constexpr int kPsrWarmup = 5;            // frames after the first that set the typical PSR and peak
constexpr double kPsrRate = 0.1;         // then they follow confident frames at this rate
constexpr int kSearchPerFrame = 6;       // windows tried per frame while lost (beside the last position)
constexpr double kSearchStep = 0.5;      // the lost search's grid step, in search windows

// atan2 within 0.0015 rad (a rational approximation of atan on [0, 1], by octant): 16k of them per window.
inline float fast_atan2(float y, float x)
{
    const float ax = std::fabs(x), ay = std::fabs(y);
    const float mx = std::max(ax, ay), mn = std::min(ax, ay);
    const float a = mn / (mx + 1e-20f);
    const float s = a * a;
    float r = ((-0.0464964749f * s + 0.15931422f) * s - 0.327622764f) * s * a + a;
    if (ay > ax)
        r = float(M_PI_2) - r;
    if (x < 0)
        r = float(M_PI) - r;
    return y < 0 ? -r : r;
}

// In-place radix-2 FFT of kCells points with a stride.
struct Fft {
    std::array<cfloat, kCells / 2> twiddle;
    std::array<int, kCells> rev;
    Fft()
    {
        for (int k = 0; k < kCells / 2; k++)
            twiddle[size_t(k)] = std::polar(1.0f, float(-2 * M_PI * k / kCells));
        int bits = 0;
        while ((1 << bits) < kCells)
            bits++;
        for (int i = 0; i < kCells; i++) {
            int r = 0;
            for (int b = 0; b < bits; b++)
                r |= ((i >> b) & 1) << (bits - 1 - b);
            rev[size_t(i)] = r;
        }
    }
    void line(cfloat *a, int stride, bool inverse) const
    {
        for (int i = 0; i < kCells; i++) {
            const int r = rev[size_t(i)];
            if (r > i)
                std::swap(a[i * stride], a[r * stride]);
        }
        for (int len = 2; len <= kCells; len <<= 1) {
            const int half = len / 2, step = kCells / len;
            for (int i = 0; i < kCells; i += len)
                for (int k = 0; k < half; k++) {
                    cfloat w = twiddle[size_t(k * step)];
                    if (inverse)
                        w = std::conj(w);
                    cfloat &u = a[(i + k) * stride], &v = a[(i + k + half) * stride];
                    const cfloat t = v * w;
                    v = u - t;
                    u += t;
                }
        }
    }
    // 2-D, unnormalised both ways (the inverse's 1/N is applied by the callers).
    void forward(cfloat *a) const
    {
        for (int y = 0; y < kCells; y++)
            line(a + y * kCells, 1, false);
        for (int x = 0; x < kCells; x++)
            line(a + x, kCells, false);
    }
    void inverse(cfloat *a) const
    {
        for (int y = 0; y < kCells; y++)
            line(a + y * kCells, 1, true);
        for (int x = 0; x < kCells; x++)
            line(a + x, kCells, true);
    }
};

const Fft &fft()
{
    static const Fft f;
    return f;
}

const std::vector<float> &hann()
{
    static const std::vector<float> w = [] {
        std::vector<float> v(kN);
        for (int y = 0; y < kCells; y++)
            for (int x = 0; x < kCells; x++)
                v[size_t(y * kCells + x)] = float(0.25 * (1 - std::cos(2 * M_PI * x / (kCells - 1))) *
                                                  (1 - std::cos(2 * M_PI * y / (kCells - 1))));
        return v;
    }();
    return w;
}

void reduce(const GreyFrame::Level &in, GreyFrame::Level *out)
{
    out->w = std::max(1, in.w / 2);
    out->h = std::max(1, in.h / 2);
    out->px.resize(size_t(out->w) * out->h);
    for (int y = 0; y < out->h; y++) {
        const uint8_t *a = &in.px[size_t(std::min(2 * y, in.h - 1)) * in.w];
        const uint8_t *b = &in.px[size_t(std::min(2 * y + 1, in.h - 1)) * in.w];
        for (int x = 0; x < out->w; x++) {
            const int x0 = std::min(2 * x, in.w - 1), x1 = std::min(2 * x + 1, in.w - 1);
            out->px[size_t(y) * out->w + x] = uint8_t((a[x0] + a[x1] + b[x0] + b[x1] + 2) >> 2);
        }
    }
}

// Features of one search window (centre cx, cy and size ww, wh in level-0 pixels), windowed, in the Fourier
// domain: kChannels planes of kN, and the windowed features' energy.
struct Features {
    std::vector<cfloat> f = std::vector<cfloat>(size_t(kChannels) * kN);
    double energy = 0;
};

class Extractor {
public:
    void extract(const GreyFrame &frame, double cx, double cy, double ww, double wh, Features *out)
    {
        // The pyramid level whose samples are at most about as far apart as the window's samples.
        const double step = std::min(ww, wh) / kSamples;
        int lv = 0;
        while (lv < 2 && step >= double(2 << lv) && frame.level[lv + 1].w > 1)
            lv++;
        const GreyFrame::Level &L = frame.level[lv];
        const double f = 1.0 / (1 << lv);
        const double sx = ww / kSamples * f, sy = wh / kSamples * f;
        const double x0 = (cx - ww / 2) * f - 0.5 + sx / 2, y0 = (cy - wh / 2) * f - 0.5 + sy / 2;
        // Bilinear samples, edges replicated.
        for (int i = 0; i < kSamples; i++) {
            xs_[size_t(i)] = x0 + i * sx;
            const double x = std::clamp(xs_[size_t(i)], 0.0, double(L.w - 1));
            xi_[size_t(i)] = std::min(int(x), std::max(0, L.w - 2));
            xf_[size_t(i)] = float(x - xi_[size_t(i)]);
        }
        for (int j = 0; j < kSamples; j++) {
            const double y = std::clamp(y0 + j * sy, 0.0, double(L.h - 1));
            const int yi = std::min(int(y), std::max(0, L.h - 2));
            const float fy = float(y - yi);
            const uint8_t *r0 = &L.px[size_t(yi) * L.w];
            const uint8_t *r1 = L.h > 1 ? r0 + L.w : r0;
            float *row = &samples_[size_t(j) * kSamples];
            for (int i = 0; i < kSamples; i++) {
                const int xi = xi_[size_t(i)], xn = L.w > 1 ? xi + 1 : xi;
                const float fx = xf_[size_t(i)];
                const float top = r0[xi] + fx * (r0[xn] - r0[xi]);
                const float bot = r1[xi] + fx * (r1[xn] - r1[xi]);
                row[i] = (top + fy * (bot - top)) * (1.0f / 255.0f);
            }
        }
        gscale_x_ = float(1.0 / std::max(1e-6, sx));
        gscale_y_ = float(1.0 / std::max(1e-6, sy));
        // Cells: mean grey, and gradient magnitude split over four orientations (unsigned, soft bins).
        std::fill(cells_.begin(), cells_.end(), 0.0f);
        for (int j = 0; j < kSamples; j++) {
            const float *up = &samples_[size_t(std::max(0, j - 1)) * kSamples];
            const float *dn = &samples_[size_t(std::min(kSamples - 1, j + 1)) * kSamples];
            const float *row = &samples_[size_t(j) * kSamples];
            float *cell = &cells_[size_t(j / 2) * kCells * kChannels];
            for (int i = 0; i < kSamples; i++) {
                // Per pixel of the picture, not per sample: the window's samples may be further apart on one axis.
                const float gx = (row[std::min(kSamples - 1, i + 1)] - row[std::max(0, i - 1)]) * gscale_x_;
                const float gy = (dn[i] - up[i]) * gscale_y_;
                float *c = cell + (i / 2) * kChannels;
                c[0] += row[i];
                const float mag = std::sqrt(gx * gx + gy * gy);
                if (mag < 1e-6f)
                    continue;
                // Orientation in [0, kBins) bins over 180 degrees; weight shared with the next bin (cyclic).
                float o = fast_atan2(gy, gx);
                if (o < 0)
                    o += float(M_PI);
                float b = o * float(kBins / M_PI);
                if (b >= kBins)
                    b -= kBins;
                const int b0 = int(b);
                const float w1 = b - b0;
                c[1 + b0] += mag * (1 - w1);
                c[1 + (b0 + 1) % kBins] += mag * w1;
            }
        }
        // Per window: grey centred on its mean, gradients normalised by their mean energy (contrast changes).
        double grey = 0, grad = 0;
        for (int k = 0; k < kN; k++) {
            const float *c = &cells_[size_t(k) * kChannels];
            grey += c[0];
            for (int b = 1; b < kChannels; b++)
                grad += double(c[b]) * c[b];
        }
        grey /= kN;
        // (A floor: a flat window's noise is not blown up to full contrast.)
        const float gnorm = float(0.2 / std::sqrt(std::max(grad / (kN * double(kBins)), 1e-3)));
        const std::vector<float> &win = hann();
        out->energy = 0;
        auto value = [&](int ch, int k) {
            const float *c = &cells_[size_t(k) * kChannels];
            const float v = (ch == 0 ? float((c[0] - grey) * kGreyWeight) : c[ch] * gnorm) * win[size_t(k)];
            out->energy += double(v) * v;
            return v;
        };
        // Two real channels per complex FFT (a + ib), separated by the spectra's conjugate symmetry.
        for (int ch = 0; ch < kChannels; ch += 2) {
            cfloat *plane = &out->f[size_t(ch) * kN];
            const bool pair = ch + 1 < kChannels;
            for (int k = 0; k < kN; k++)
                plane[k] = cfloat(value(ch, k), pair ? value(ch + 1, k) : 0.0f);
            fft().forward(plane);
            if (!pair)
                continue;
            cfloat *second = &out->f[size_t(ch + 1) * kN];
            std::copy(plane, plane + kN, packed_.begin());
            for (int u = 0; u < kCells; u++)
                for (int v = 0; v < kCells; v++) {
                    const cfloat z = packed_[size_t(u * kCells + v)];
                    const cfloat m = std::conj(packed_[size_t(((kCells - u) % kCells) * kCells + (kCells - v) % kCells)]);
                    plane[u * kCells + v] = 0.5f * (z + m);
                    second[u * kCells + v] = cfloat(0.0f, -0.5f) * (z - m);
                }
        }
    }

private:
    std::array<double, kSamples> xs_{};
    float gscale_x_ = 1, gscale_y_ = 1;
    std::vector<cfloat> packed_ = std::vector<cfloat>(kN);
    std::array<int, kSamples> xi_{};
    std::array<float, kSamples> xf_{};
    std::vector<float> samples_ = std::vector<float>(size_t(kSamples) * kSamples);
    std::vector<float> cells_ = std::vector<float>(size_t(kN) * kChannels);
};

}  // namespace

size_t GreyFrame::bytes() const
{
    return level[0].px.size() + level[1].px.size() + level[2].px.size();
}

namespace {

GreyFrame finish_pyramid(GreyFrame g)
{
    reduce(g.level[0], &g.level[1]);
    reduce(g.level[1], &g.level[2]);
    return g;
}

std::pair<int, int> tracking_size(int width, int height, int max_side)
{
    const double s = std::min(1.0, double(max_side) / std::max(width, height));
    return {std::max(1, int(std::lround(width * s))), std::max(1, int(std::lround(height * s)))};
}

}  // namespace

GreyFrame make_grey_frame(const SalcropImage &img, int max_side, Resampler *shared)
{
    const auto [w, h] = tracking_size(img.width, img.height, max_side);
    GreyFrame g;
    g.scale = double(w) / img.width;
    g.level[0].w = w;
    g.level[0].h = h;
    g.level[0].px.resize(size_t(w) * h);
    const Components comps = split_components(img.format, img.width, img.height, img.data, img.linesize);
    Resampler local(w, h);
    if (shared && (shared->out_width() != w || shared->out_height() != h))
        *shared = Resampler(w, h);
    Resampler &rs = shared ? *shared : local;
    std::vector<float> acc(size_t(w) * h, 0.0f);
    if (comps.yuv) {
        rs.resample(comps.c[0], acc.data());
    } else {
        // Luma first (one pass over the packed or planar picture, integer weights summing to 256), then one
        // resample: a third of resampling each colour.
        thread_local std::vector<uint8_t> luma_;  // reused: a fresh megabyte per frame costs page faults
        luma_.resize(size_t(img.width) * img.height);
        for (int y = 0; y < img.height; y++) {
            const uint8_t *r = comps.c[0].data + size_t(y) * comps.c[0].linesize;
            const uint8_t *g = comps.c[1].data + size_t(y) * comps.c[1].linesize;
            const uint8_t *b = comps.c[2].data + size_t(y) * comps.c[2].linesize;
            uint8_t *out = &luma_[size_t(y) * img.width];
            const int sr = comps.c[0].step, sg = comps.c[1].step, sb = comps.c[2].step;
            for (int x = 0; x < img.width; x++)
                out[x] = uint8_t((77 * r[x * sr] + 150 * g[x * sg] + 29 * b[x * sb] + 128) >> 8);
        }
        Component c;
        c.data = luma_.data();
        c.linesize = img.width;
        c.width = img.width;
        c.height = img.height;
        c.step = 1;
        rs.resample(c, acc.data());
    }
    for (size_t k = 0; k < acc.size(); k++)
        g.level[0].px[k] = uint8_t(std::clamp(acc[k] + 0.5f, 0.0f, 255.0f));
    return finish_pyramid(std::move(g));
}

GreyFrame make_grey_frame(const uint8_t *grey, int width, int height, int linesize, int max_side)
{
    const SalcropImage img{SALCROP_PIX_GRAY8, width, height, {grey, nullptr, nullptr, nullptr},
                           {linesize, 0, 0, 0}, 0, 0};
    return make_grey_frame(img, max_side, nullptr);
}

struct TrackerState {
    Extractor ex;
    Features z, x;
    std::vector<cfloat> yf = std::vector<cfloat>(kN);
    std::vector<cfloat> model_xf = std::vector<cfloat>(size_t(kChannels) * kN);
    std::vector<cfloat> model_alphaf = std::vector<cfloat>(kN);
    std::vector<cfloat> kf = std::vector<cfloat>(kN);
    std::vector<float> response = std::vector<float>(kN);
    double model_energy = 0;
    double cx = 0, cy = 0, bw = 0, bh = 0;  // the box in level-0 tracking pixels
    double scale = 1;                       // tracking px per source px
    int fw = 0, fh = 0;
    Box last;                               // the last seen box, source pixels
    double psr_ref = 0, peak_ref = 0;       // the typical PSR and response peak while seen
    int seen = 0;                           // confident frames so far
    bool lost = false;
    size_t search_next = 0;                 // the lost search's next window in its round

    double win_w() const { return bw * (1 + kPadding); }
    double win_h() const { return bh * (1 + kPadding); }

    // Gaussian kernel correlation of `a` with the model (or itself), in the Fourier domain, into kf.
    void correlate(const Features &a, const std::vector<cfloat> &bf, double b_energy)
    {
        std::vector<cfloat> &acc = kf;
        std::fill(acc.begin(), acc.end(), cfloat(0, 0));
        for (int ch = 0; ch < kChannels; ch++) {
            const cfloat *pa = &a.f[size_t(ch) * kN], *pb = &bf[size_t(ch) * kN];
            for (int k = 0; k < kN; k++)
                acc[size_t(k)] += pa[k] * std::conj(pb[k]);
        }
        fft().inverse(acc.data());
        const float inv_n = 1.0f / kN;
        const float denom = 1.0f / (kKernelSigma * kKernelSigma * float(kN * kChannels));
        for (int k = 0; k < kN; k++) {
            const float cross = acc[size_t(k)].real() * inv_n;
            const float d = std::max(0.0f, float(a.energy + b_energy) - 2 * cross);
            acc[size_t(k)] = cfloat(std::exp(-d * denom), 0.0f);
        }
        fft().forward(acc.data());
    }

    // The response of the model on features z; returns the peak's displacement (cells) and its PSR.
    struct Peak {
        double dx = 0, dy = 0, value = 0, psr = 0;
    };
    Peak detect(const Features &feat)
    {
        correlate(feat, model_xf, model_energy);
        for (int k = 0; k < kN; k++)
            kf[size_t(k)] *= model_alphaf[size_t(k)];
        fft().inverse(kf.data());
        int best = 0;
        for (int k = 0; k < kN; k++) {
            response[size_t(k)] = kf[size_t(k)].real() / kN;
            if (response[size_t(k)] > response[size_t(best)])
                best = k;
        }
        const int py = best / kCells, px = best % kCells;
        auto at = [&](int y, int x) { return response[size_t(((y + kCells) % kCells) * kCells + (x + kCells) % kCells)]; };
        // Sub-cell peak: a parabola through the neighbours on each axis.
        auto sub = [](float l, float c, float r) {
            const float d = l - 2 * c + r;
            return d < 0 ? std::clamp(0.5f * (l - r) / d, -0.5f, 0.5f) : 0.0f;
        };
        Peak p;
        p.value = response[size_t(best)];
        double ox = px + sub(at(py, px - 1), at(py, px), at(py, px + 1));
        double oy = py + sub(at(py - 1, px), at(py, px), at(py + 1, px));
        // The label's peak sits at cell (0, 0): displacements wrap around.
        p.dx = ox >= kCells / 2 ? ox - kCells : ox;
        p.dy = oy >= kCells / 2 ? oy - kCells : oy;
        double sum = 0, sq = 0;
        int count = 0;
        for (int y = 0; y < kCells; y++)
            for (int x = 0; x < kCells; x++) {
                const int ddy = std::abs(((y - py + kCells + kCells / 2) % kCells) - kCells / 2);
                const int ddx = std::abs(((x - px + kCells + kCells / 2) % kCells) - kCells / 2);
                if (ddy <= kSidelobeExclude && ddx <= kSidelobeExclude)
                    continue;
                const double v = response[size_t(y * kCells + x)];
                sum += v;
                sq += v * v;
                count++;
            }
        // A window without texture (a flat occluder) answers flat: no peak, not a sharp one.
        const double mean = sum / count, var = sq / count - mean * mean;
        p.psr = var > 1e-10 ? (p.value - mean) / std::sqrt(var) : 0.0;
        return p;
    }

    void train(const GreyFrame &frame, float rate)
    {
        ex.extract(frame, cx, cy, win_w(), win_h(), &x);
        correlate(x, x.f, x.energy);
        for (int k = 0; k < kN; k++) {
            const cfloat a = yf[size_t(k)] / (kf[size_t(k)] + kLambda);
            model_alphaf[size_t(k)] = (1 - rate) * model_alphaf[size_t(k)] + rate * a;
        }
        for (size_t k = 0; k < model_xf.size(); k++)
            model_xf[k] = (1 - rate) * model_xf[k] + rate * x.f[k];
        model_energy = (1 - rate) * model_energy + rate * x.energy;
    }

    Box source_box() const
    {
        return Box{(cx - bw / 2) / scale, (cy - bh / 2) / scale, bw / scale, bh / scale};
    }

    void clamp_centre()
    {
        cx = std::clamp(cx, 0.0, double(fw));
        cy = std::clamp(cy, 0.0, double(fh));
    }
};

SubjectTracker::SubjectTracker(const GreyFrame &frame, const Box &box) : s_(std::make_unique<TrackerState>())
{
    TrackerState &s = *s_;
    s.scale = frame.scale;
    s.fw = frame.level[0].w;
    s.fh = frame.level[0].h;
    const double sw = s.fw / s.scale, sh = s.fh / s.scale;
    if (!(box.w >= 4 && box.h >= 4) || box.x < -0.5 || box.y < -0.5 || box.x + box.w > sw + 0.5 ||
        box.y + box.h > sh + 0.5)
        throw std::invalid_argument("subject box [" + std::to_string(box.x) + ", " + std::to_string(box.y) + ", " +
                                    std::to_string(box.w) + ", " + std::to_string(box.h) +
                                    "] is not a box of at least 4x4 pixels inside the " +
                                    std::to_string(int(std::lround(sw))) + "x" + std::to_string(int(std::lround(sh))) +
                                    " frame");
    s.cx = box.cx() * s.scale;
    s.cy = box.cy() * s.scale;
    s.bw = std::max(2.0, box.w * s.scale);
    s.bh = std::max(2.0, box.h * s.scale);
    s.last = box;
    // The regression target: a Gaussian peak at cell (0, 0), wrapping around.
    const double sigma = std::sqrt(double(kCells) * kCells) / (1 + kPadding) * kLabelSigma;
    std::vector<cfloat> y(kN);
    for (int r = 0; r < kCells; r++)
        for (int c = 0; c < kCells; c++) {
            const int dy = r < kCells / 2 ? r : r - kCells, dx = c < kCells / 2 ? c : c - kCells;
            y[size_t(r * kCells + c)] = cfloat(float(std::exp(-0.5 * (dx * dx + dy * dy) / (sigma * sigma))), 0.f);
        }
    fft().forward(y.data());
    s.yf = y;
    s.train(frame, 1.0f);
}

SubjectTracker::~SubjectTracker() = default;
SubjectTracker::SubjectTracker(SubjectTracker &&) noexcept = default;
SubjectTracker &SubjectTracker::operator=(SubjectTracker &&) noexcept = default;

TrackPoint SubjectTracker::update(const GreyFrame &frame)
{
    TrackerState &s = *s_;
    if (frame.level[0].w != s.fw || frame.level[0].h != s.fh)
        throw std::invalid_argument("subject tracker: frames of different sizes");
    TrackPoint out;
    if (!s.lost) {
        // Three scales around the current one; the best peak (a scale change discounted) wins.
        TrackerState::Peak best;
        double best_scale = 1, best_score = -1e9;
        for (double f : {1.0, kScaleStep, 1.0 / kScaleStep}) {
            s.ex.extract(frame, s.cx, s.cy, s.win_w() * f, s.win_h() * f, &s.z);
            const TrackerState::Peak p = s.detect(s.z);
            const double score = p.value * (f == 1.0 ? 1.0 : kScalePenalty);
            if (score > best_score) {
                best_score = score;
                best = p;
                best_scale = f;
            }
        }
        const double threshold = s.seen > kPsrWarmup ? std::max(kPsrFloor, kLostShare * s.psr_ref) : kPsrFloor;
        const bool weak = s.seen > kPsrWarmup && best.value < kLostPeak * s.peak_ref;
        if (best.psr >= threshold && !weak) {
            s.cx += best.dx * s.win_w() * best_scale / kCells;
            s.cy += best.dy * s.win_h() * best_scale / kCells;
            s.clamp_centre();
            const double min_side = 2.0, max_w = s.fw, max_h = s.fh;
            if (s.bw * best_scale >= min_side && s.bh * best_scale >= min_side && s.bw * best_scale <= max_w &&
                s.bh * best_scale <= max_h) {
                s.bw *= best_scale;
                s.bh *= best_scale;
            }
            // The typical PSR: the mean of the first kPsrWarmup frames after the first (which matches the model
            // it was trained on almost exactly), then a slow running mean.
            if (s.seen >= 1 && s.seen <= kPsrWarmup) {
                s.psr_ref += (best.psr - s.psr_ref) / s.seen;
                s.peak_ref += (best.value - s.peak_ref) / s.seen;
            } else if (s.seen > kPsrWarmup) {
                s.psr_ref = (1 - kPsrRate) * s.psr_ref + kPsrRate * best.psr;
                s.peak_ref = (1 - kPsrRate) * s.peak_ref + kPsrRate * best.value;
            }
            s.seen++;
            s.train(frame, kLearnRate);
            s.last = s.source_box();
            out.box = s.last;
            out.score = float(std::min(1.0, best.psr / (2 * std::max(kPsrFloor, s.psr_ref))));
            return out;
        }
        s.lost = true;
        s.search_next = 0;
    }
    // Lost: the last position first, then a round over a grid of windows covering the frame, nearest first.
    const double ww = s.win_w(), wh = s.win_h();
    const double gx = std::max(1.0, ww * kSearchStep), gy = std::max(1.0, wh * kSearchStep);
    const int nx = int(std::ceil(s.fw / gx)), ny = int(std::ceil(s.fh / gy));
    std::vector<std::pair<double, double>> grid;
    for (int j = -ny; j <= ny; j++)
        for (int i = -nx; i <= nx; i++) {
            const double x = s.cx + i * gx, y = s.cy + j * gy;
            if ((i || j) && x >= -gx / 2 && x <= s.fw + gx / 2 && y >= -gy / 2 && y <= s.fh + gy / 2)
                grid.emplace_back(x, y);
        }
    std::stable_sort(grid.begin(), grid.end(), [&](const auto &a, const auto &b) {
        return std::hypot(a.first - s.cx, a.second - s.cy) < std::hypot(b.first - s.cx, b.second - s.cy);
    });
    std::vector<std::pair<double, double>> tries{{s.cx, s.cy}};
    for (int k = 0; k < kSearchPerFrame && !grid.empty(); k++)
        tries.push_back(grid[(s.search_next + size_t(k)) % grid.size()]);
    s.search_next = grid.empty() ? 0 : (s.search_next + kSearchPerFrame) % grid.size();
    const double found = kPsrFloor + kFoundMargin;
    TrackerState::Peak best;
    best.psr = -1;
    double bx = s.cx, by = s.cy;
    for (const auto &[x, y] : tries) {
        s.ex.extract(frame, x, y, ww, wh, &s.z);
        const TrackerState::Peak p = s.detect(s.z);
        if (p.psr > best.psr) {
            best = p;
            bx = x + p.dx * ww / kCells;
            by = y + p.dy * wh / kCells;
        }
    }
    if (best.psr > 0) {
        // The best window again, centred on its peak (the Hann window damps a subject off the centre).
        s.ex.extract(frame, bx, by, ww, wh, &s.z);
        const TrackerState::Peak p = s.detect(s.z);
        if (p.psr > best.psr) {
            best = p;
            bx += p.dx * ww / kCells;
            by += p.dy * wh / kCells;
        }
    }
    // Re-found: a sharp peak as high as the subject's usually is, or a peak far sharper than any background's
    // (a changed appearance lowers the peak); both against this track's own typical PSR, so that a static pattern
    // elsewhere (a watermark) does not pass for a subject that matched at PSR 100.
    const bool matches = best.psr >= std::max(found, kFoundPsrShare * s.psr_ref) && best.value >= kFoundPeak * s.peak_ref;
    const bool sharp = best.psr >= std::max(found, kFoundSharpShare * s.psr_ref);
    if (matches || sharp) {
        s.lost = false;
        s.cx = bx;
        s.cy = by;
        s.clamp_centre();
        s.train(frame, kLearnRate);
        s.last = s.source_box();
        out.box = s.last;
        out.score = float(std::min(1.0, best.psr / (2 * std::max(kPsrFloor, s.psr_ref))));
        return out;
    }
    out.box = s.last;
    out.lost = true;
    out.score = float(std::clamp(best.psr / (2 * std::max(kPsrFloor, s.psr_ref)), 0.0, 1.0));
    return out;
}

std::vector<TrackPoint> track_frames(const std::vector<const GreyFrame *> &frames, size_t pick, const Box &box)
{
    if (pick >= frames.size())
        throw std::invalid_argument("track_frames: the pick (" + std::to_string(pick) + ") is not one of the " +
                                    std::to_string(frames.size()) + " frames");
    std::vector<TrackPoint> out(frames.size());
    out[pick].box = box;
    out[pick].score = 1;
    {
        SubjectTracker fwd(*frames[pick], box);
        for (size_t k = pick + 1; k < frames.size(); k++)
            out[k] = fwd.update(*frames[k]);
    }
    if (pick > 0) {
        SubjectTracker back(*frames[pick], box);
        for (size_t k = pick; k-- > 0;)
            out[k] = back.update(*frames[k]);
    }
    return out;
}

}  // namespace salcrop
