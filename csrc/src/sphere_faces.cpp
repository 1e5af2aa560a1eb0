#include "sphere_faces.h"

#include <algorithm>
#include <cmath>

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

struct FaceView {
    double yaw, pitch;
};

std::vector<FaceView> face_views()
{
    std::vector<FaceView> v;
    for (int y = -180; y < 180; y += 45)
        v.push_back({double(y), 0.0});
    for (double p : {45.0, -45.0})
        for (int y = -180; y < 180; y += 90)
            v.push_back({double(y), p});
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

std::vector<SphereFace> faces_on_sphere(FaceDetector &detector, const uint8_t *rgb, int linesize, int width,
                                        int height)
{
    const std::vector<FaceView> views = face_views();
    std::vector<Vec3> axes;
    for (const FaceView &v : views)
        axes.push_back(unit(v.yaw, v.pitch));
    ViewRenderer renderer(width, height, kFaceViewW, kFaceViewH, kFaceViewFov);
    std::vector<uint8_t> view(size_t(kFaceViewW) * kFaceViewH * 3);
    std::vector<SphereFace> found;
    const int sides[] = {FaceDetector::kInput, FaceDetector::kInput / 2};
    for (size_t i = 0; i < views.size(); i++) {
        for (int c = 0; c < 3; c++) {
            Component s{const_cast<uint8_t *>(rgb) + c, linesize, width, height, 3};
            Component d{view.data() + c, kFaceViewW * 3, kFaceViewW, kFaceViewH, 3};
            renderer.render(s, views[i].yaw, views[i].pitch, d);
        }
        SalcropImage img{};
        img.format = SALCROP_PIX_RGB24;
        img.width = kFaceViewW;
        img.height = kFaceViewH;
        img.data[0] = view.data();
        img.linesize[0] = kFaceViewW * 3;
        img.full_range = 1;
        for (int side : sides) {
            if (!detector.any_size() && side != FaceDetector::kInput)
                continue;  // a fixed 640x640 model takes one size
            for (const FaceDetection &f : detector.detect(img, side)) {
                SphereFace s;
                view_point_direction(f.box.x + f.box.w / 2, f.box.y + f.box.h / 2, kFaceViewW, kFaceViewH,
                                     kFaceViewFov, views[i].yaw, views[i].pitch, &s.yaw, &s.pitch);
                const Vec3 d = unit(s.yaw, s.pitch);
                size_t nearest = 0;
                for (size_t k = 1; k < axes.size(); k++)
                    if (angle_between(axes[k], d) < angle_between(axes[nearest], d))
                        nearest = k;
                if (nearest != i)
                    continue;  // a view nearer to it counts it
                s.width = f.box.w / kFaceViewW * kFaceViewFov;
                s.score = f.score;
                found.push_back(s);
            }
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
                     float *out)
{
    const size_t n = size_t(map_h) * map_w;
    std::fill(out, out + n, 0.0f);
    std::vector<double> acc(n, 0.0), g(n);
    bool any = false;
    for (const SphereFace &f : faces) {
        if (f.width < min_width)
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
