#include "sphere.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace salcrop {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180.0;

std::string fmt(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", v);
    return buf;
}

}  // namespace

Projection parse_projection(const std::string &s)
{
    if (s == "flat")
        return Projection::Flat;
    if (s == "equirect")
        return Projection::Equirect;
    throw std::invalid_argument("projection: '" + s + "' is not one of flat, equirect");
}

Stereo parse_stereo(const std::string &s)
{
    if (s == "mono" || s.empty())
        return Stereo::Mono;
    if (s == "tb")
        return Stereo::TopBottom;
    if (s == "sbs")
        return Stereo::SideBySide;
    throw std::invalid_argument("stereo: '" + s +
                                "' is not one of mono, tb (top-bottom: the top eye is used), "
                                "sbs (side by side: the left eye is used)");
}

void eye_size(Stereo stereo, int width, int height, int *eye_w, int *eye_h)
{
    *eye_w = stereo == Stereo::SideBySide ? width / 2 : width;
    *eye_h = stereo == Stereo::TopBottom ? height / 2 : height;
}

ViewGeometry make_view_geometry(int eye_w, int eye_h, const Ratio &ratio, double fov, int size_w, int size_h,
                                bool even)
{
    ViewGeometry g;
    if (eye_w < 16 || eye_h < 8 || std::fabs(double(eye_w) / eye_h / 2.0 - 1.0) > kMaxAspectError)
        throw std::invalid_argument("projection=equirect needs 2:1 equirectangular frames (width/height within " +
                                    fmt(100 * kMaxAspectError) + "% of 2, e.g. 3840x1920 or 640x322; one eye of "
                                    "a stereo layout with stereo=tb or sbs), got " + std::to_string(eye_w) + "x" +
                                    std::to_string(eye_h) + " per eye; projection=flat crops it as a flat video");
    if (!(fov >= kMinFov && fov <= kMaxFov))
        throw std::invalid_argument("fov: " + fmt(fov) + " is out of range: the horizontal field of view is " +
                                    fmt(kMinFov) + " to " + fmt(kMaxFov) + " degrees (default " +
                                    fmt(kDefaultFov) + ")");
    const double aspect = double(ratio.num) / ratio.den;  // width / height of the view
    const double vfov = 2.0 * std::atan(std::tan(fov * kDeg / 2) / aspect) / kDeg;
    if (vfov > kMaxVerticalFov)
        throw std::invalid_argument("fov: " + fmt(fov) + " degrees across at ratio " + std::to_string(ratio.num) +
                                    ":" + std::to_string(ratio.den) + " is " + fmt(std::round(vfov)) +
                                    " degrees tall, more than " + fmt(kMaxVerticalFov) + "; use a smaller fov");
    if ((size_w > 0) != (size_h > 0) || size_w < 0 || size_h < 0)
        throw std::invalid_argument("size: give both width and height (WxH), or neither for the default");
    g.src_w = eye_w;
    g.src_h = eye_h;
    g.hfov = fov;
    g.vfov = vfov;
    g.pitch_limit = std::max(0.0, 90.0 - vfov / 2 - kPoleMarginDeg);
    if (size_w > 0) {
        if (size_w < 16 || size_h < 16 || size_w > 16384 || size_h > 16384)
            throw std::invalid_argument("size: " + std::to_string(size_w) + "x" + std::to_string(size_h) +
                                        " is outside 16x16 .. 16384x16384");
        g.out_w = size_w;
        g.out_h = size_h;
    } else {
        // The centre pixel spans what a source pixel spans: focal length W / 2pi pixels per radian.
        const double w = 2.0 * std::tan(fov * kDeg / 2) * eye_w / (2 * kPi);
        g.out_w = std::max(16, int(std::lround(w)));
        g.out_h = std::max(16, int(std::lround(w / aspect)));
    }
    if (even) {
        g.out_w += g.out_w & 1;
        g.out_h += g.out_h & 1;
    }
    return g;
}

double yaw_of_column(double u, int width) { return (u / width - 0.5) * 360.0; }
double pitch_of_row(double v, int height) { return (0.5 - v / height) * 180.0; }

double wrap_yaw(double yaw)
{
    double y = std::fmod(yaw + 180.0, 360.0);
    if (y < 0)
        y += 360.0;
    return y == 0 ? 180.0 : y - 180.0;
}

bool direction_in_view(double yaw, double pitch, double view_yaw, double view_pitch, double hfov, double vfov)
{
    // The direction in the view's camera frame (inverse of the rotation ViewRenderer applies).
    const double cy = std::cos(pitch * kDeg);
    double x = cy * std::sin(yaw * kDeg), y = std::sin(pitch * kDeg), z = cy * std::cos(yaw * kDeg);
    const double a = -view_yaw * kDeg, b = -view_pitch * kDeg;
    const double x1 = x * std::cos(a) + z * std::sin(a), z1 = -x * std::sin(a) + z * std::cos(a);
    const double y2 = y * std::cos(b) + z1 * std::sin(b), z2 = -y * std::sin(b) + z1 * std::cos(b);
    if (z2 <= 0)
        return false;
    return std::fabs(x1 / z2) <= std::tan(hfov * kDeg / 2) && std::fabs(y2 / z2) <= std::tan(vfov * kDeg / 2);
}

ViewRenderer::ViewRenderer(int src_w, int src_h, int out_w, int out_h, double hfov)
    : src_w_(src_w), src_h_(src_h), out_w_(out_w), out_h_(out_h)
{
    gw_ = out_w / kGrid + 2;  // a node right of (and below) every output pixel
    gh_ = out_h / kGrid + 2;
    const double f = (out_w / 2.0) / std::tan(hfov * kDeg / 2);
    rays_.resize(size_t(gw_) * gh_ * 3);
    for (int b = 0; b < gh_; b++)
        for (int a = 0; a < gw_; a++) {
            const double X = (a * kGrid + 0.5 - out_w / 2.0) / f, Y = -(b * kGrid + 0.5 - out_h / 2.0) / f;
            const double n = std::sqrt(X * X + Y * Y + 1.0);
            float *r = &rays_[(size_t(b) * gw_ + a) * 3];
            r[0] = float(X / n);
            r[1] = float(Y / n);
            r[2] = float(1.0 / n);
        }
    nu_.resize(size_t(gw_) * gh_);
    nv_.resize(size_t(gw_) * gh_);
}

void ViewRenderer::node_coords(double yaw, double pitch)
{
    // Rotation: pitch about x (up positive), then yaw about y (right positive).
    const double cp = std::cos(pitch * kDeg), sp = std::sin(pitch * kDeg);
    const double cy = std::cos(yaw * kDeg), sy = std::sin(yaw * kDeg);
    const size_t n = size_t(gw_) * gh_;
    for (size_t k = 0; k < n; k++) {
        const float *r = &rays_[k * 3];
        const double y1 = r[1] * cp + r[2] * sp, z1 = -r[1] * sp + r[2] * cp;
        const double x2 = r[0] * cy + z1 * sy, z2 = -r[0] * sy + z1 * cy;
        const double lon = std::atan2(x2, z2), lat = std::asin(std::clamp(y1, -1.0, 1.0));
        nu_[k] = float((lon / (2 * kPi) + 0.5) * src_w_);
        nv_[k] = float((0.5 - lat / kPi) * src_h_);
    }
    // Unwrap each row across the seam so that neighbouring nodes are never a whole turn apart; the
    // samplers wrap u back into the frame.
    const float half = float(src_w_) / 2;
    for (int b = 0; b < gh_; b++)
        for (int a = 1; a < gw_; a++) {
            float &u = nu_[size_t(b) * gw_ + a];
            const float prev = nu_[size_t(b) * gw_ + a - 1];
            while (u - prev > half)
                u -= float(src_w_);
            while (u - prev < -half)
                u += float(src_w_);
        }
    for (int b = 1; b < gh_; b++) {
        // Keep each row within half a turn of the row above (by its first node).
        const float above = nu_[size_t(b - 1) * gw_];
        float shift = 0;
        const float u0 = nu_[size_t(b) * gw_];
        while (u0 + shift - above > half)
            shift -= float(src_w_);
        while (u0 + shift - above < -half)
            shift += float(src_w_);
        if (shift != 0)
            for (int a = 0; a < gw_; a++)
                nu_[size_t(b) * gw_ + a] += shift;
    }
}

void ViewRenderer::source_coords(double yaw, double pitch, std::vector<float> &map_u, std::vector<float> &map_v) const
{
    ViewRenderer &self = const_cast<ViewRenderer &>(*this);
    self.node_coords(yaw, pitch);
    map_u.resize(size_t(out_w_) * out_h_);
    map_v.resize(size_t(out_w_) * out_h_);
    for (int j = 0; j < out_h_; j++) {
        const int b = j / kGrid;
        const float fy = float(j - b * kGrid) / kGrid;
        for (int i = 0; i < out_w_; i++) {
            const int a = i / kGrid;
            const float fx = float(i - a * kGrid) / kGrid;
            const size_t k00 = size_t(b) * gw_ + a, k10 = k00 + gw_;
            const float u = (1 - fy) * ((1 - fx) * nu_[k00] + fx * nu_[k00 + 1]) +
                            fy * ((1 - fx) * nu_[k10] + fx * nu_[k10 + 1]);
            const float v = (1 - fy) * ((1 - fx) * nv_[k00] + fx * nv_[k00 + 1]) +
                            fy * ((1 - fx) * nv_[k10] + fx * nv_[k10 + 1]);
            map_u[size_t(j) * out_w_ + i] = u;
            map_v[size_t(j) * out_w_ + i] = v;
        }
    }
}

namespace {

// One cell span of one output row: its first source position and per-pixel step, in 1/256 pixel (already minus
// the half pixel of the pixel centres), the position wrapped into [0, W) once.
struct CellSpan {
    int32_t us, vs, dus, dvs;
};

inline CellSpan cell_span(const int32_t *nu0, const int32_t *nu1, const int32_t *nv0, const int32_t *nv1, int a,
                          int fy, int32_t wrap)
{
    constexpr int grid = ViewRenderer::kGrid;  // a constant: the divisions below become shifts
    // The cell's left and right edges on this row (grid rows are `grid` output rows apart).
    const int32_t ul = nu0[a] + (nu1[a] - nu0[a]) * fy / grid, ur = nu0[a + 1] + (nu1[a + 1] - nu0[a + 1]) * fy / grid;
    const int32_t vl = nv0[a] + (nv1[a] - nv0[a]) * fy / grid, vr = nv0[a + 1] + (nv1[a + 1] - nv0[a + 1]) * fy / grid;
    // Wrapped into [0, W) once per cell; along the cell one compare a pixel keeps it there (a cell's step is far
    // below a whole turn). The nodes are within a turn or so of the frame: a compare or two instead of a division.
    int32_t us = ul;
    if (us >= wrap && us < 2 * wrap)
        us -= wrap;
    else if (us < 0 && us >= -wrap)
        us += wrap;
    else if (us < 0 || us >= wrap) {
        us %= wrap;
        if (us < 0)
            us += wrap;
    }
    return CellSpan{us, vl, (ur - ul) / grid, (vr - vl) / grid};
}

// The span's pixels the plain way (the reference every faster path must equal).
template <int kStep>
inline void render_span(CellSpan c, int i, int end, const uint8_t *sd, int sl, int ss_rt, int W, int H, uint8_t *drow,
                        int ds_rt)
{
    const int ss = kStep ? kStep : ss_rt, ds = kStep ? kStep : ds_rt;
    const int32_t wrap = W * 256, vmax = (H - 1) * 256;
    int32_t us = c.us, vs = c.vs;
    const int cnt = end - i;
    // Common case: the whole span reads the same two source rows and does not reach the seam column, so the rows
    // are fixed and no clamp or wrap is needed per pixel.
    const int32_t ve = vs + c.dvs * (cnt - 1), ue = us + c.dus * (cnt - 1);
    if (vs >= 0 && ve >= 0 && vs <= vmax && ve <= vmax && (vs >> 8) == (ve >> 8) && (vs >> 8) + 1 < H && ue >= 0 &&
        ue < wrap - 256 && us < wrap - 256) {
        const uint8_t *r0 = sd + size_t(vs >> 8) * sl, *r1 = r0 + sl;
        for (; i < end; i++) {
            const int x0 = us >> 8, fx = us & 255, fyy = vs & 255;
            const int top = r0[x0 * ss] * (256 - fx) + r0[(x0 + 1) * ss] * fx;
            const int bot = r1[x0 * ss] * (256 - fx) + r1[(x0 + 1) * ss] * fx;
            drow[i * ds] = uint8_t((top * (256 - fyy) + bot * fyy + (1 << 15)) >> 16);
            us += c.dus;
            vs += c.dvs;
        }
        return;
    }
    for (; i < end; i++) {
        const int x0 = us >> 8, fx = us & 255;
        const int x1 = x0 + 1 == W ? 0 : x0 + 1;
        const int vc = vs < 0 ? 0 : vs > vmax ? vmax : vs;
        const int y0 = vc >> 8, fyy = vc & 255;
        const int y1 = y0 + 1 < H ? y0 + 1 : y0;
        const uint8_t *r0 = sd + size_t(y0) * sl, *r1 = sd + size_t(y1) * sl;
        const int top = r0[x0 * ss] * (256 - fx) + r0[x1 * ss] * fx;
        const int bot = r1[x0 * ss] * (256 - fx) + r1[x1 * ss] * fx;
        drow[i * ds] = uint8_t((top * (256 - fyy) + bot * fyy + (1 << 15)) >> 16);
        us += c.dus;
        vs += c.dvs;
        if (us >= wrap)
            us -= wrap;
        else if (us < 0)
            us += wrap;
    }
}

// One output row, cell span after cell span. Step is the sample step of packed formats (1 for planar ones: a
// constant, so the compiler drops the multiplications).
template <int kStep>
void render_row(const int32_t *nu0, const int32_t *nu1, const int32_t *nv0, const int32_t *nv1, int fy, int grid,
                int out_w, const uint8_t *sd, int sl, int ss_rt, int W, int H, uint8_t *drow, int ds_rt)
{
    for (int a = 0, i = 0; i < out_w; a++) {
        const int end = std::min(out_w, i + grid);
        render_span<kStep>(cell_span(nu0, nu1, nv0, nv1, a, fy, W * 256), i, end, sd, sl, ss_rt, W, H, drow,
                           ds_rt);
        i = end;
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SALCROP_NO_SIMD_CLONES)
#define SALCROP_RENDER_AVX2 1

// How the AVX2 row renders a cell span (the row pre-pass decides it for every cell at once).
enum SpanPath : int32_t {
    kSpanPlain = 0,     // render_span: the seam column, the clamped top and bottom rows, a short last span
    kSpanTwoRows = 1,   // 8 samples within 16 source columns of two rows: one load per row and a byte shuffle
    kSpanThreeRows = 2, // the same across a row boundary: three rows, each lane picking its pair of rows
    kSpanGather = 3,    // the samples spread wider (the view shrinks the source): two gathers
};

// C's division by the grid (8), truncating towards zero as cell_span's `/ grid` does, on 8 lanes.
__attribute__((target("avx2"))) inline __m256i div_grid(__m256i t)
{
    return _mm256_srai_epi32(_mm256_add_epi32(t, _mm256_and_si256(_mm256_srai_epi32(t, 31), _mm256_set1_epi32(7))), 3);
}

__attribute__((target("avx2"))) inline __m256i gt(__m256i a, __m256i b) { return _mm256_cmpgt_epi32(a, b); }

// 8 cells' left (or right) edge on row fy of the grid row: n0 + (n1 - n0) * fy / grid, as in cell_span.
__attribute__((target("avx2"))) inline __m256i cell_edge(const int32_t *n0, const int32_t *n1, __m256i fy)
{
    const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(n0));
    const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(n1));
    return _mm256_add_epi32(x0, div_grid(_mm256_mullo_epi32(_mm256_sub_epi32(x1, x0), fy)));
}

// The row pre-pass: cell_span for 8 cells per step (the same integer arithmetic in lanes) and the path each span
// takes, with what the shuffle paths need (the span's first source column and row), into `s` (RowSpans). Lanes
// past the row's last cell read the nodes' padding and are never used.
struct RowSpans {
    int32_t *us, *vs, *dus, *dvs, *xs, *ylo, *path;
};

__attribute__((target("avx2"))) void row_spans_avx2(const int32_t *nu0, const int32_t *nu1, const int32_t *nv0,
                                                    const int32_t *nv1, int fy, int cells, int out_w,
                                                    int sl, int W, int H, const RowSpans &s)
{
    const int32_t wrap = W * 256, vmax = (H - 1) * 256;
    // The gather reads 2 bytes past a sample's right neighbour: on the last row only if the rows are padded.
    const int32_t vlimit = sl >= W + 2 ? vmax : vmax - 256;
    const bool base_ok = sl > 0 && int64_t(sl) * H < (int64_t(1) << 31);  // offsets fit the gathers' int32
    const __m256i fyv = _mm256_set1_epi32(fy), wrapv = _mm256_set1_epi32(wrap), zero = _mm256_setzero_si256();
    const __m256i wrap_in = _mm256_set1_epi32(wrap - 256), vlim = _mm256_set1_epi32(vlimit);
    const __m256i minus1 = _mm256_set1_epi32(-1), lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i full_cells = _mm256_set1_epi32(base_ok ? out_w / ViewRenderer::kGrid : 0);
    const __m256i wv = _mm256_set1_epi32(W), slv = _mm256_set1_epi32(sl), h1 = _mm256_set1_epi32(H - 1);
    for (int a = 0; a < cells; a += 8) {
        const __m256i ul = cell_edge(nu0 + a, nu1 + a, fyv), ur = cell_edge(nu0 + a + 1, nu1 + a + 1, fyv);
        const __m256i vl = cell_edge(nv0 + a, nv1 + a, fyv), vr = cell_edge(nv0 + a + 1, nv1 + a + 1, fyv);
        // Into [0, W) once: the nodes are within a turn of the frame; a lane farther out takes cell_span's modulo.
        const __m256i ge_wrap = gt(ul, _mm256_sub_epi32(wrapv, _mm256_set1_epi32(1))), neg = gt(zero, ul);
        const __m256i us = _mm256_add_epi32(_mm256_sub_epi32(ul, _mm256_and_si256(ge_wrap, wrapv)),
                                            _mm256_and_si256(neg, wrapv));
        const __m256i dus = div_grid(_mm256_sub_epi32(ur, ul)), dvs = div_grid(_mm256_sub_epi32(vr, vl));
        const __m256i ue = _mm256_add_epi32(us, _mm256_sub_epi32(_mm256_slli_epi32(dus, 3), dus));
        const __m256i ve = _mm256_add_epi32(vl, _mm256_sub_epi32(_mm256_slli_epi32(dvs, 3), dvs));
        // render_row_avx2's test for 8 lanes of arithmetic: a whole span, off the seam column, inside the rows.
        __m256i fast = gt(full_cells, _mm256_add_epi32(_mm256_set1_epi32(a), lane));
        fast = _mm256_and_si256(fast, _mm256_andnot_si256(gt(zero, ue), gt(wrap_in, ue)));
        fast = _mm256_and_si256(fast, gt(wrap_in, us));
        fast = _mm256_and_si256(fast, _mm256_andnot_si256(_mm256_or_si256(gt(zero, vl), gt(zero, ve)),
                                                          _mm256_and_si256(gt(vlim, vl), gt(vlim, ve))));
        const __m256i xs = _mm256_srai_epi32(_mm256_min_epi32(us, ue), 8);
        const __m256i xe = _mm256_srai_epi32(_mm256_max_epi32(us, ue), 8);
        const __m256i ylo = _mm256_srai_epi32(_mm256_min_epi32(vl, ve), 8);
        const __m256i yhi = _mm256_srai_epi32(_mm256_max_epi32(vl, ve), 8);
        // Within 16 source samples of two or three rows, and the 16-byte loads inside the plane.
        const __m256i xs16 = _mm256_add_epi32(xs, _mm256_set1_epi32(16));
        __m256i rows = _mm256_and_si256(gt(_mm256_set1_epi32(2), _mm256_sub_epi32(yhi, ylo)),
                                        gt(_mm256_set1_epi32(15), _mm256_sub_epi32(xe, xs)));
        rows = _mm256_and_si256(rows, _mm256_or_si256(_mm256_or_si256(gt(_mm256_add_epi32(wv, _mm256_set1_epi32(1)), xs16),
                                                                      gt(h1, _mm256_add_epi32(yhi, _mm256_set1_epi32(1)))),
                                                      gt(_mm256_add_epi32(slv, _mm256_set1_epi32(1)), xs16)));
        const __m256i three = gt(yhi, ylo);
        // path: 0 plain; fast: 3 gather, or 1 + (three rows) where the rows path holds.
        __m256i path = _mm256_and_si256(fast, _mm256_set1_epi32(kSpanGather));
        const __m256i rows_path = _mm256_sub_epi32(_mm256_set1_epi32(kSpanTwoRows), three);  // three: -1
        path = _mm256_blendv_epi8(path, rows_path, _mm256_and_si256(fast, rows));
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(s.us + a), us);
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(s.vs + a), vl);
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(s.dus + a), dus);
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(s.dvs + a), dvs);
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(s.xs + a), xs);
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(s.ylo + a), ylo);
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(s.path + a), path);
        // A node more than a turn outside the frame (not seen in practice): that cell the scalar way.
        const __m256i far = _mm256_or_si256(gt(ul, _mm256_sub_epi32(_mm256_add_epi32(wrapv, wrapv), _mm256_set1_epi32(1))),
                                            gt(_mm256_sub_epi32(zero, wrapv), ul));
        if (!_mm256_testz_si256(far, minus1))
            for (int k = a; k < std::min(cells, a + 8); k++) {
                const CellSpan c = cell_span(nu0, nu1, nv0, nv1, k, fy, wrap);
                s.us[k] = c.us;
                s.path[k] = kSpanPlain;  // the plain loop reads us/vs/dus/dvs only
            }
    }
}

// Planar rows with AVX2: a span of 8 pixels that stays off the seam column and inside the rows is 8 lanes of the
// same integer arithmetic as render_span (bit-identical to the plain loop); its samples come from one 16-byte load
// per source row and a byte shuffle where the span reads within 16 source columns (the view magnifies: nearly
// always), from two gathers otherwise (each lane reads 4 bytes at its sample: the pixel and its right neighbour).
// Other spans (the seam, the clamp at the top and bottom rows, a short last span) take the plain loop.
__attribute__((target("avx2"))) void render_row_avx2(const RowSpans &s, int cells, int out_w, const uint8_t *sd,
                                                     int sl, int W, int H, uint8_t *drow)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m255 = _mm256_set1_epi32(255), m256 = _mm256_set1_epi32(256);
    const __m256i lo_byte = _mm256_set1_epi32(0xff), hi_byte = _mm256_set1_epi32(0xff00);
    const __m256i half = _mm256_set1_epi32(1 << 15), slv = _mm256_set1_epi32(sl);
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i join = _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1);
    // Shuffle control of a lane: bytes (idx, zero, idx + 1, zero), the two samples as 16-bit values, is
    // idx * 0x10001 + this.
    const __m256i pair_base = _mm256_set1_epi32(int32_t(0x80018000u));
    for (int a = 0; a < cells; a++) {
        const int i = a * ViewRenderer::kGrid;
        const int32_t path = s.path[a];
        if (path == kSpanPlain) {
            const CellSpan c{s.us[a], s.vs[a], s.dus[a], s.dvs[a]};
            render_span<1>(c, i, std::min(out_w, i + ViewRenderer::kGrid), sd, sl, 1, W, H, drow, 1);
            continue;
        }
        const __m256i us = _mm256_add_epi32(_mm256_set1_epi32(s.us[a]), _mm256_mullo_epi32(lane, _mm256_set1_epi32(s.dus[a])));
        const __m256i vs = _mm256_add_epi32(_mm256_set1_epi32(s.vs[a]), _mm256_mullo_epi32(lane, _mm256_set1_epi32(s.dvs[a])));
        const __m256i x0 = _mm256_srai_epi32(us, 8), y0 = _mm256_srai_epi32(vs, 8);
        const __m256i fx = _mm256_and_si256(us, m255), fyy = _mm256_and_si256(vs, m255);
        // (left, right) samples as a 16-bit pair per lane, times (256 - fx, fx): one multiply-add.
        const __m256i wx = _mm256_or_si256(_mm256_sub_epi32(m256, fx), _mm256_slli_epi32(fx, 16));
        __m256i p0, p1;
        if (path != kSpanGather) {
            const int32_t xs = s.xs[a], ylo = s.ylo[a];
            const uint8_t *r0 = sd + size_t(ylo) * sl + xs;
            const __m256i ctrl = _mm256_add_epi32(
                _mm256_mullo_epi32(_mm256_sub_epi32(x0, _mm256_set1_epi32(xs)), _mm256_set1_epi32(0x10001)), pair_base);
            p0 = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i *>(r0))), ctrl);
            p1 = _mm256_shuffle_epi8(
                _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i *>(r0 + sl))), ctrl);
            if (path == kSpanThreeRows) {
                const __m256i p2 = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128(
                                                           reinterpret_cast<const __m128i *>(r0 + 2 * size_t(sl)))),
                                                       ctrl);
                const __m256i lower = _mm256_cmpgt_epi32(y0, _mm256_set1_epi32(ylo));
                p0 = _mm256_blendv_epi8(p0, p1, lower);
                p1 = _mm256_blendv_epi8(p1, p2, lower);
            }
        } else {
            const __m256i off0 = _mm256_add_epi32(_mm256_mullo_epi32(y0, slv), x0);
            const __m256i off1 = _mm256_add_epi32(off0, slv);
            const __m256i g0 = _mm256_i32gather_epi32(reinterpret_cast<const int *>(sd), off0, 1);
            const __m256i g1 = _mm256_i32gather_epi32(reinterpret_cast<const int *>(sd), off1, 1);
            p0 = _mm256_or_si256(_mm256_and_si256(g0, lo_byte), _mm256_slli_epi32(_mm256_and_si256(g0, hi_byte), 8));
            p1 = _mm256_or_si256(_mm256_and_si256(g1, lo_byte), _mm256_slli_epi32(_mm256_and_si256(g1, hi_byte), 8));
        }
        // top (256 - fy) + bot fy, as top 256 + (bot - top) fy: the same integer, one multiplication.
        const __m256i top = _mm256_madd_epi16(p0, wx), bot = _mm256_madd_epi16(p1, wx);
        __m256i v = _mm256_add_epi32(_mm256_slli_epi32(top, 8), _mm256_mullo_epi32(_mm256_sub_epi32(bot, top), fyy));
        v = _mm256_srli_epi32(_mm256_add_epi32(v, half), 16);
        v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, pick), join);
        _mm_storel_epi64(reinterpret_cast<__m128i *>(drow + i), _mm256_castsi256_si128(v));
    }
}

// SALCROP_RENDER_SIMD=0 in the environment turns the AVX2 loop off everywhere: the A/B of the benchmark and the
// filter-level equality test run the same binary both ways.
bool cpu_has_avx2()
{
    static const bool has = __builtin_cpu_supports("avx2") &&
                            !(std::getenv("SALCROP_RENDER_SIMD") && std::string(std::getenv("SALCROP_RENDER_SIMD")) == "0");
    return has;
}
#endif

}  // namespace

void ViewRenderer::render(const Component &src, double yaw, double pitch, const Component &dst)
{
    if (src.width != src_w_ || src.height != src_h_ || dst.width != out_w_ || dst.height != out_h_)
        throw std::logic_error("ViewRenderer: component sizes differ from the renderer's");
    // The nodes depend on the view only: a view that holds still (most frames) or a second component of the
    // same size (yuv420p's U and V) reuses them.
    if (!(nodes_valid_ && yaw == nodes_yaw_ && pitch == nodes_pitch_)) {
        node_coords(yaw, pitch);
        // Nodes in fixed point, 1/256 pixel, as sample positions (coordinate - 0.5): rounded once per node.
        const size_t n = nu_.size();
        // Padded: the AVX2 row pre-pass reads 8 nodes at a time past a row's last cell.
        iu_.assign(n + kNodePad, 0);
        iv_.assign(n + kNodePad, 0);
        // std::lround of the float, inline: half away from zero, exact in double (a libm call per node otherwise).
        auto round_half_away = [](float x) {
            const double d = double(x);
            return int32_t(d >= 0 ? std::floor(d + 0.5) : std::ceil(d - 0.5));
        };
        for (size_t k = 0; k < n; k++) {
            iu_[k] = round_half_away((nu_[k] - 0.5f) * 256.0f);
            iv_[k] = round_half_away((nv_[k] - 0.5f) * 256.0f);
        }
        nodes_valid_ = true;
        nodes_yaw_ = yaw;
        nodes_pitch_ = pitch;
    }
    const bool unit = src.step == 1 && dst.step == 1;
#ifdef SALCROP_RENDER_AVX2
    const bool avx2 = unit && simd_ && cpu_has_avx2();
    const int cells = (out_w_ + kGrid - 1) / kGrid;
    RowSpans spans{};
    if (avx2) {
        const size_t stride = size_t(cells) + 8;  // the pre-pass stores 8 cells at a time
        spans_.resize(7 * stride);
        int32_t *p = spans_.data();
        spans = RowSpans{p, p + stride, p + 2 * stride, p + 3 * stride, p + 4 * stride, p + 5 * stride, p + 6 * stride};
    }
#else
    const bool avx2 = false;
#endif
    for (int j = 0; j < out_h_; j++) {
        const int b = j / kGrid, fy = j - b * kGrid;
        const int32_t *u0 = &iu_[size_t(b) * gw_], *v0 = &iv_[size_t(b) * gw_];
        uint8_t *drow = dst.data + size_t(j) * dst.linesize;
#ifdef SALCROP_RENDER_AVX2
        if (avx2) {
            row_spans_avx2(u0, u0 + gw_, v0, v0 + gw_, fy, cells, out_w_, src.linesize, src_w_, src_h_, spans);
            render_row_avx2(spans, cells, out_w_, src.data, src.linesize, src_w_, src_h_, drow);
            continue;
        }
#endif
        (void)avx2;
        if (unit)
            render_row<1>(u0, u0 + gw_, v0, v0 + gw_, fy, kGrid, out_w_, src.data, src.linesize, 1, src_w_, src_h_,
                          drow, 1);
        else
            render_row<0>(u0, u0 + gw_, v0, v0 + gw_, fy, kGrid, out_w_, src.data, src.linesize, src.step, src_w_,
                          src_h_, drow, dst.step);
    }
}

void render_view(const ViewGeometry &g, std::vector<ViewRenderer> &renderers, const Components &src,
                 double yaw, double pitch, const Components &dst)
{
    if (renderers.size() != size_t(src.count)) {
        renderers.clear();
        for (int c = 0; c < src.count; c++)
            renderers.emplace_back(src.c[c].width, src.c[c].height, dst.c[c].width, dst.c[c].height, g.hfov);
    }
    for (int c = 0; c < src.count; c++) {
        // A component of an earlier one's sizes (yuv420p's V after U) takes that renderer and its nodes.
        int r = 0;
        while (src.c[r].width != src.c[c].width || src.c[r].height != src.c[c].height ||
               dst.c[r].width != dst.c[c].width || dst.c[r].height != dst.c[c].height)
            r++;
        renderers[size_t(r)].render(src.c[c], yaw, pitch, dst.c[c]);
    }
}

SeamPadding seam_padding(int input_w, int map_w)
{
    SeamPadding p;
    p.map_pad = std::max(1, int(std::lround(map_w * kPadShare)));
    p.core_map = map_w - 2 * p.map_pad;
    p.input_pad = int(std::lround(double(p.map_pad) * input_w / map_w));
    p.core_input = input_w - 2 * p.input_pad;
    if (p.core_map < 4 || p.core_input < 8)
        throw std::invalid_argument("projection=equirect: the model's map (" + std::to_string(map_w) +
                                    " columns) is too narrow to pad across the seam");
    return p;
}

void wrap_pad_planes(float *planes, int input_w, int h, int pad)
{
    const int core = input_w - 2 * pad;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++) {
            float *row = planes + (size_t(c) * h + y) * input_w;
            for (int k = 0; k < pad; k++) {
                row[k] = row[pad + core - pad + k];      // left pad: the right end of the frame
                row[pad + core + k] = row[pad + k];      // right pad: the left end
            }
        }
}

void motion_map(const uint8_t *a, const uint8_t *b, int input_w, int input_h, const SeamPadding &pad, int map_h,
                float *out)
{
    const int C = pad.core_map, W = pad.core_input;
    std::vector<double> sum(size_t(map_h) * C, 0.0);
    std::vector<int> count(size_t(map_h) * C, 0);
    std::vector<int> col(static_cast<size_t>(W));
    for (int x = 0; x < W; x++)
        col[size_t(x)] = std::min(C - 1, int(int64_t(x) * C / W));
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < input_h; y++) {
            const int r = std::min(map_h - 1, int(int64_t(y) * map_h / input_h));
            const size_t row = (size_t(c) * input_h + y) * input_w + pad.input_pad;
            for (int x = 0; x < W; x++) {
                const size_t k = size_t(r) * C + col[size_t(x)];
                sum[k] += std::abs(int(a[row + x]) - int(b[row + x]));
                count[k]++;
            }
        }
    for (size_t k = 0; k < sum.size(); k++)
        out[k] = count[k] ? float(sum[k] / (255.0 * count[k])) : 0.0f;
}

void sphere_map(const float *map, int map_h, int map_w, const SeamPadding &pad, const SphereSaliency &s,
                float *out, const float *motion, const float *faces)
{
    (void)map_w;
    const int C = pad.core_map;
    double sum = 0, psum = 0;
    std::vector<double> prior(size_t(map_h) * C);
    for (int r = 0; r < map_h; r++) {
        const double lat = 90.0 - (r + 0.5) * 180.0 / map_h;
        const double area = std::cos(lat * kDeg);
        for (int c = 0; c < C; c++) {
            const double x = std::max(0.0f, map[size_t(r) * map_w + pad.map_pad + c]);
            const double v = (s.contrast == 1.0 ? x : std::pow(x, s.contrast)) * area;
            out[size_t(r) * C + c] = float(v);
            sum += v;
            const double yaw = (c + 0.5) * 360.0 / C - 180.0;
            const double q = area * std::exp(-0.5 * (yaw * yaw + lat * lat) / (s.front_sigma * s.front_sigma));
            prior[size_t(r) * C + c] = q;
            psum += q;
        }
    }
    const double w = std::clamp(s.front_weight, 0.0, 1.0);
    // Where it moves: above the median cell and the floor, ramped to 1 over kMotionFull.
    std::vector<float> moving;
    if (motion && s.motion_weight > 0 && sum > 0) {
        std::vector<float> sorted(motion, motion + prior.size());
        std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
        const double floor = std::max(kMotionFloor, double(sorted[sorted.size() / 2]));
        moving.resize(prior.size());
        for (size_t k = 0; k < prior.size(); k++)
            moving[k] = float(std::clamp((motion[k] - floor) / kMotionFull, 0.0, 1.0));
    }
    double total = 0;
    for (size_t k = 0; k < prior.size(); k++) {
        const double m = sum > 0 ? out[k] / sum : 1.0 / prior.size();
        const double v = (1 - w) * m + w * prior[k] / psum + (moving.empty() ? 0.0 : s.motion_weight * m * moving[k]);
        out[k] = float(v);
        total += v;
    }
    // Faces: a map of mass 1 (face_sphere_map) added face_weight times, in the same units as the rest.
    const double kf = faces ? std::max(0.0, s.face_weight) : 0.0;
    if (kf > 0)
        for (size_t k = 0; k < prior.size(); k++) {
            out[k] = float(out[k] + kf * faces[k]);
            total += kf * faces[k];
        }
    if ((!moving.empty() || kf > 0) && total > 0)
        for (size_t k = 0; k < prior.size(); k++)
            out[k] = float(out[k] / total);
}

}  // namespace salcrop
