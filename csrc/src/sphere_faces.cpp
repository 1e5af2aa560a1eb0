#include "sphere_faces.h"

#include <algorithm>
#include <cmath>

#include "image.h"

namespace salcrop {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180.0;

struct Vec3 {
    double x, y, z;
};

Vec3 unit(double yaw, double pitch)
{
    return {std::cos(pitch * kDeg) * std::sin(yaw * kDeg), std::sin(pitch * kDeg),
            std::cos(pitch * kDeg) * std::cos(yaw * kDeg)};
}

double angle_between(const Vec3 &a, const Vec3 &b)
{
    return std::acos(std::clamp(a.x * b.x + a.y * b.y + a.z * b.z, -1.0, 1.0)) / kDeg;
}

constexpr double kViewTie = 5.0;  // degrees

struct FaceView {
    double yaw, pitch;
};

std::vector<FaceView> face_views()
{
    std::vector<FaceView> v;
    for (int k = 0; k < kFaceViews; k++)
        v.push_back({-180.0 + 360.0 * k / kFaceViews, kFaceViewPitch});
    return v;
}

}  // namespace

void view_point_direction(double px, double py, int out_w, int out_h, double hfov, double yaw, double pitch,
                          double *dir_yaw, double *dir_pitch)
{
    const double t = std::tan(hfov * kDeg / 2);
    const double x = (2 * px / out_w - 1) * t, y = -(2 * py / out_h - 1) * t * out_h / out_w, z = 1.0;
    const double p = pitch * kDeg, w = yaw * kDeg;
    const double y1 = y * std::cos(p) + z * std::sin(p), z1 = -y * std::sin(p) + z * std::cos(p);
    const double x2 = x * std::cos(w) + z1 * std::sin(w), z2 = -x * std::sin(w) + z1 * std::cos(w);
    *dir_yaw = wrap_yaw(std::atan2(x2, z2) / kDeg);
    *dir_pitch = std::asin(std::clamp(y1 / std::sqrt(x2 * x2 + y1 * y1 + z2 * z2), -1.0, 1.0)) / kDeg;
}

namespace {

// `src` box-averaged by `factor` in both directions into a planar buffer (the last partial block is left out).
Component decimate(const Component &src, int factor, std::vector<uint8_t> &buf)
{
    const int w = src.width / factor, h = src.height / factor;
    buf.resize(size_t(w) * h);
    if (factor == 2 && src.step == 1) {
        // A 4K frame's planes: a loop the compiler vectorises (the general one below is ~10x slower).
        for (int y = 0; y < h; y++) {
            const uint8_t *a = src.data + size_t(2 * y) * size_t(src.linesize), *b = a + src.linesize;
            uint8_t *out = buf.data() + size_t(y) * w;
            for (int x = 0; x < w; x++)
                out[x] = uint8_t((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) >> 2);
        }
        return Component{buf.data(), w, w, h, 1};
    }
    std::vector<uint32_t> acc(static_cast<size_t>(w));
    const uint32_t area = uint32_t(factor * factor);
    for (int y = 0; y < h; y++) {
        std::fill(acc.begin(), acc.end(), 0u);
        for (int r = 0; r < factor; r++) {
            const uint8_t *row = src.data + size_t(y * factor + r) * size_t(src.linesize);
            for (int x = 0; x < w; x++)
                for (int k = 0; k < factor; k++)
                    acc[size_t(x)] += row[size_t(x * factor + k) * size_t(src.step)];
        }
        uint8_t *out = buf.data() + size_t(y) * w;
        for (int x = 0; x < w; x++)
            out[x] = uint8_t((acc[size_t(x)] + area / 2) / area);
    }
    return Component{buf.data(), w, w, h, 1};
}

}  // namespace

std::vector<SphereFace> faces_on_sphere(FaceDetector &detector, const SalcropImage &equirect)
{
    const std::vector<FaceView> views = face_views();
    std::vector<Vec3> axes;
    for (const FaceView &v : views)
        axes.push_back(unit(v.yaw, v.pitch));
    Components src = split_components(equirect.format, equirect.width, equirect.height, equirect.data,
                                      equirect.linesize);
    const int factor = std::max(1, equirect.width / kFaceSourceWidth);
    std::vector<uint8_t> decimated[3];
    if (factor > 1)
        for (int c = 0; c < src.count; c++)
            src.c[c] = decimate(src.c[c], factor, decimated[c]);
    // The view: planar YUV 4:4:4 (or grey) from YUV, packed RGB from RGB; the detector converts it.
    SalcropImage img{};
    img.width = kFaceViewW;
    img.height = kFaceViewH;
    img.full_range = equirect.full_range;
    img.colorspace = equirect.colorspace;
    const size_t plane = size_t(kFaceViewW) * kFaceViewH;
    std::vector<uint8_t> view(plane * 3);
    Components dst;
    dst.yuv = src.yuv;
    dst.count = src.count;
    if (src.yuv) {
        img.format = src.count == 1 ? SALCROP_PIX_GRAY8 : SALCROP_PIX_YUV444P;
        for (int c = 0; c < src.count; c++) {
            dst.c[c] = Component{view.data() + plane * size_t(c), kFaceViewW, kFaceViewW, kFaceViewH, 1};
            img.data[c] = dst.c[c].data;
            img.linesize[c] = kFaceViewW;
        }
    } else {
        img.format = SALCROP_PIX_RGB24;
        for (int c = 0; c < 3; c++)
            dst.c[c] = Component{view.data() + c, kFaceViewW * 3, kFaceViewW, kFaceViewH, 3};
        img.data[0] = view.data();
        img.linesize[0] = kFaceViewW * 3;
    }
    std::vector<ViewRenderer> renderers;
    for (int c = 0; c < src.count; c++)
        renderers.emplace_back(src.c[c].width, src.c[c].height, kFaceViewW, kFaceViewH, kFaceViewFov);
    // The view's own size; a fixed 640x640 model takes the view scaled up.
    const int side = detector.any_size() ? std::max(kFaceViewW, kFaceViewH) : FaceDetector::kInput;
    std::vector<SphereFace> found;
    for (size_t i = 0; i < views.size(); i++) {
        for (int c = 0; c < src.count; c++)
            renderers[size_t(c)].render(src.c[c], views[i].yaw, views[i].pitch, dst.c[c]);
        for (const FaceDetection &f : detector.detect(img, side)) {
            SphereFace s;
            view_point_direction(f.box.x + f.box.w / 2, f.box.y + f.box.h / 2, kFaceViewW, kFaceViewH,
                                 kFaceViewFov, views[i].yaw, views[i].pitch, &s.yaw, &s.pitch);
            const Vec3 d = unit(s.yaw, s.pitch);
            size_t nearest = 0;
            for (size_t k = 1; k < axes.size(); k++)
                if (angle_between(axes[k], d) < angle_between(axes[nearest], d))
                    nearest = k;
            // A view whose axis is clearly nearer to it counts it. Near the middle between two views each sees it
            // nearer to the other's axis by a hair (each view's estimate of the direction differs a little): both
            // count it there, and the duplicate goes below.
            if (angle_between(axes[nearest], d) + kViewTie < angle_between(axes[i], d))
                continue;
            s.width = f.box.w / kFaceViewW * kFaceViewFov;
            s.score = f.score;
            found.push_back(s);
        }
    }
    std::stable_sort(found.begin(), found.end(), [](const SphereFace &a, const SphereFace &b) {
        return a.score > b.score;
    });
    std::vector<SphereFace> kept;
    for (const SphereFace &f : found) {
        bool duplicate = false;
        for (const SphereFace &k : kept)
            duplicate = duplicate ||
                        angle_between(unit(f.yaw, f.pitch), unit(k.yaw, k.pitch)) <= std::max(f.width, k.width);
        if (!duplicate)
            kept.push_back(f);
    }
    return kept;
}

bool face_sphere_map(const std::vector<SphereFace> &faces, int map_h, int map_w, double sigma, double min_width,
                     double max_width, float *out)
{
    const size_t n = size_t(map_h) * map_w;
    std::fill(out, out + n, 0.0f);
    std::vector<double> acc(n, 0.0), g(n);
    bool any = false;
    for (const SphereFace &f : faces) {
        if (!face_counts(f, min_width, max_width))
            continue;
        any = true;
        const Vec3 c = unit(f.yaw, f.pitch);
        const double s = std::max(sigma, f.width);
        double sum = 0;
        for (int r = 0; r < map_h; r++) {
            const double lat = 90.0 - (r + 0.5) * 180.0 / map_h;
            for (int k = 0; k < map_w; k++) {
                const double lon = (k + 0.5) * 360.0 / map_w - 180.0;
                const double a = angle_between(unit(lon, lat), c);
                g[size_t(r) * map_w + k] = std::exp(-0.5 * (a / s) * (a / s)) * std::cos(lat * kDeg);
                sum += g[size_t(r) * map_w + k];
            }
        }
        for (size_t k = 0; k < n && sum > 0; k++)
            acc[k] += g[k] / sum;  // every face the same mass
    }
    double total = 0;
    for (double v : acc)
        total += v;
    if (!any || total <= 0)
        return false;
    for (size_t k = 0; k < n; k++)
        out[k] = float(acc[k] / total);
    return true;
}

}  // namespace salcrop
