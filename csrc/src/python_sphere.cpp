// The sphere's pure functions for Python (evaluation, tests, the synthetic projection's checks): the same code
// the engine runs, on plain arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <tuple>
#include <vector>

#include "image.h"
#include "options.h"
#include "planner_sphere.h"
#include "sphere.h"
#include "sphere_faces.h"

namespace py = pybind11;

namespace salcrop {

using F32Array = py::array_t<float, py::array::c_style | py::array::forcecast>;
using U8Arr = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

void def_sphere(py::module_ &m)
{
    m.def("view_geometry", [](int eye_w, int eye_h, const std::string &ratio, double fov, int w, int h) {
        const ViewGeometry g = make_view_geometry(eye_w, eye_h, parse_ratio(ratio), fov, w, h, true);
        py::dict d;
        d["width"] = g.out_w;
        d["height"] = g.out_h;
        d["fov"] = g.hfov;
        d["vfov"] = g.vfov;
        d["pitch_limit"] = g.pitch_limit;
        return d;
    }, py::arg("eye_width"), py::arg("eye_height"), py::arg("ratio") = "16:9", py::arg("fov") = kDefaultFov,
       py::arg("width") = 0, py::arg("height") = 0,
       "The view a 360° run renders: output size, fovs and pitch limit (ValueError for a frame that is not 2:1 or "
       "a fov out of range).");
    m.def("seam_padding", [](int input_w, int map_w) {
        const SeamPadding p = seam_padding(input_w, map_w);
        return py::make_tuple(p.map_pad, p.input_pad, p.core_map, p.core_input);
    }, py::arg("input_width"), py::arg("map_width"), "(map_pad, input_pad, core_map, core_input)");
    // The engine's defaults for a 360° view's map (sphere.h SphereSaliency), for the evaluations that must score
    // what the engine plans with rather than a copy of the numbers.
    {
        const SphereSaliency d{};
        py::dict defaults;
        defaults["front_weight"] = d.front_weight;
        defaults["front_sigma"] = d.front_sigma;
        defaults["motion_weight"] = d.motion_weight;
        defaults["face_weight"] = d.face_weight;
        defaults["face_sigma"] = d.face_sigma;
        defaults["face_min_width"] = d.face_min_width;
        defaults["face_max_width"] = d.face_max_width;
        m.attr("SPHERE_DEFAULTS") = defaults;
    }
    m.def("sphere_map", [](const F32Array &map, int map_pad, double front_weight, double front_sigma,
                           double contrast, std::optional<F32Array> motion, double motion_weight,
                           std::optional<F32Array> faces, double face_weight) {
        if (map.ndim() != 2)
            throw std::invalid_argument("map must be 2-D");
        const int h = int(map.shape(0)), w = int(map.shape(1));
        SeamPadding p;
        p.map_pad = map_pad;
        p.core_map = w - 2 * map_pad;
        if (p.core_map < 1 || map_pad < 0)
            throw std::invalid_argument("map_pad leaves no columns");
        if (motion && (motion->ndim() != 2 || motion->shape(0) != h || motion->shape(1) != p.core_map))
            throw std::invalid_argument("motion must be map_h x (map_w - 2 map_pad)");
        if (faces && (faces->ndim() != 2 || faces->shape(0) != h || faces->shape(1) != p.core_map))
            throw std::invalid_argument("faces must be map_h x (map_w - 2 map_pad)");
        SphereSaliency s;
        s.front_weight = front_weight;
        s.front_sigma = front_sigma;
        s.contrast = contrast;
        s.motion_weight = motion_weight;
        s.face_weight = face_weight;
        py::array_t<float> out({h, p.core_map});
        sphere_map(map.data(), h, w, p, s, out.mutable_data(), motion ? motion->data() : nullptr,
                   faces ? faces->data() : nullptr);
        return out;
    }, py::arg("map"), py::arg("map_pad"), py::arg("front_weight") = SphereSaliency{}.front_weight,
       py::arg("front_sigma") = SphereSaliency{}.front_sigma, py::arg("contrast") = SphereSaliency{}.contrast,
       py::arg("motion") = py::none(), py::arg("motion_weight") = SphereSaliency{}.motion_weight,
       py::arg("faces") = py::none(), py::arg("face_weight") = SphereSaliency{}.face_weight,
       "A network map over the seam-padded picture -> the sphere map the planner uses (padding cut, raised to "
       "`contrast`, cos-latitude weights, front prior blended in, moving saliency (`motion`, from motion_map) "
       "added `motion_weight` times, faces (`faces`, from face_sphere_map) added `face_weight` times).");
    m.def("view_point_direction", [](double px, double py, int out_w, int out_h, double hfov, double yaw,
                                     double pitch) {
        double y = 0, p = 0;
        view_point_direction(px, py, out_w, out_h, hfov, yaw, pitch, &y, &p);
        return py::make_tuple(y, p);
    }, py::arg("x"), py::arg("y"), py::arg("width"), py::arg("height"), py::arg("fov"), py::arg("yaw"),
       py::arg("pitch"), "The sphere direction (yaw, pitch) of pixel (x, y) of the view render_equirect_view makes.");
    m.def("faces_on_sphere", [](FaceDetector &detector, const U8Arr &rgb) {
        if (rgb.ndim() != 3 || rgb.shape(2) != 3)
            throw std::invalid_argument("rgb must be H x W x 3 uint8");
        const int H = int(rgb.shape(0)), W = int(rgb.shape(1));
        if (W < 320 || std::abs(double(W) / H - 2.0) > 2.0 * kMaxAspectError)
            throw std::invalid_argument("faces_on_sphere: an equirect (2:1) picture at least 320 wide is expected");
        std::vector<SphereFace> faces;
        {
            py::gil_scoped_release nogil;
            SalcropImage img{};
            img.format = SALCROP_PIX_RGB24;
            img.width = W;
            img.height = H;
            img.data[0] = const_cast<uint8_t *>(rgb.data());
            img.linesize[0] = W * 3;
            img.full_range = 1;
            faces = faces_on_sphere(detector, img);
        }
        py::list out;
        for (const SphereFace &f : faces)
            out.append(py::make_tuple(f.yaw, f.pitch, f.width, f.score));
        return out;
    }, py::arg("detector"), py::arg("rgb"),
       "Faces of an equirect RGB picture (YuNet on six perspective views around the horizon, from the picture "
       "box-averaged to the views' pixel density, as the engine does): [(yaw, pitch, width_deg, score)], best "
       "first.");
    m.def("face_sphere_map", [](const std::vector<std::tuple<double, double, double, float>> &faces, int map_h,
                                int map_w, double sigma, double min_width, double max_width) -> py::object {
        std::vector<SphereFace> fs;
        for (const auto &[y, p, w, sc] : faces)
            fs.push_back(SphereFace{y, p, w, sc});
        py::array_t<float> out({map_h, map_w});
        if (!face_sphere_map(fs, map_h, map_w, sigma, min_width, max_width, out.mutable_data()))
            return py::none();
        return out;
    }, py::arg("faces"), py::arg("map_h"), py::arg("map_w"), py::arg("sigma") = SphereSaliency{}.face_sigma,
       py::arg("min_width") = SphereSaliency{}.face_min_width, py::arg("max_width") = SphereSaliency{}.face_max_width,
       "The faces min_width to max_width degrees wide as a sphere map of mass 1 (None where there is none).");
    m.def("motion_map", [](const U8Arr &a, const U8Arr &b, int map_pad, int map_h, int core_map) {
        if (a.ndim() != 3 || a.shape(0) != 3 || b.ndim() != 3 || a.shape(1) != b.shape(1) || a.shape(2) != b.shape(2) ||
            b.shape(0) != 3)
            throw std::invalid_argument("inputs must be two 3 x H x W byte arrays of one size");
        const int ih = int(a.shape(1)), iw = int(a.shape(2));
        SeamPadding p = seam_padding(iw, core_map + 2 * map_pad);
        if (p.core_map != core_map)
            throw std::invalid_argument("map_pad and core_map do not match the input's width");
        py::array_t<float> out({map_h, core_map});
        motion_map(a.data(), b.data(), iw, ih, p, map_h, out.mutable_data());
        return out;
    }, py::arg("a"), py::arg("b"), py::arg("map_pad"), py::arg("map_h"), py::arg("core_map"),
       "Two seam-padded network inputs (3 x H x W bytes) -> their mean |difference| per sphere map cell, 0..1.");
    m.def("plan_sphere", [](const F32Array &maps, double fps, const std::string &ratio, double fov,
                            const std::string &mode, double smoothing, int eye_w, int eye_h) {
        if (maps.ndim() != 3)
            throw std::invalid_argument("maps must be T x H x W");
        const size_t n = size_t(maps.shape(0));
        const int h = int(maps.shape(1)), w = int(maps.shape(2));
        const ViewGeometry vg = make_view_geometry(eye_w, eye_h, parse_ratio(ratio), fov, 0, 0, true);
        PlanParams p;
        p.fps = fps;
        p.smoothing = smoothing;
        p.mode = parse_mode(mode, &p.forced);
        std::vector<const float *> ptr(n);
        for (size_t t = 0; t < n; t++)
            ptr[t] = maps.data() + t * size_t(h) * w;
        const SpherePlan plan = plan_sphere_chunk(vg, p, ptr, h, w, SphereCarry{}, n);
        return py::make_tuple(plan.yaw, plan.pitch);
    }, py::arg("maps"), py::arg("fps"), py::arg("ratio") = "16:9", py::arg("fov") = kDefaultFov,
       py::arg("mode") = "auto", py::arg("smoothing") = kDefaultSmoothing, py::arg("eye_width") = 3840,
       py::arg("eye_height") = 1920, "One shot planned at once: per frame yaw (unwrapped) and pitch, degrees.");
    m.def("render_equirect_view", [](const U8Arr &rgb, double yaw, double pitch, double fov, int out_w, int out_h) {
        if (rgb.ndim() != 3 || rgb.shape(2) != 3)
            throw std::invalid_argument("rgb must be H x W x 3 uint8");
        const int H = int(rgb.shape(0)), W = int(rgb.shape(1));
        py::array_t<uint8_t> out({out_h, out_w, 3});
        ViewRenderer r(W, H, out_w, out_h, fov);
        for (int c = 0; c < 3; c++) {
            Component s{const_cast<uint8_t *>(rgb.data()) + c, W * 3, W, H, 3};
            Component d{out.mutable_data() + c, out_w * 3, out_w, out_h, 3};
            r.render(s, yaw, pitch, d);
        }
        return out;
    }, py::arg("rgb"), py::arg("yaw"), py::arg("pitch"), py::arg("fov"), py::arg("width"), py::arg("height"));
    m.def("render_equirect_plane", [](const U8Arr &plane, double yaw, double pitch, double fov, int out_w, int out_h,
                                      bool simd, int repeat) {
        if (plane.ndim() != 2)
            throw std::invalid_argument("plane must be H x W uint8");
        if (repeat < 1)
            throw std::invalid_argument("repeat must be at least 1");
        const int H = int(plane.shape(0)), W = int(plane.shape(1));
        py::array_t<uint8_t> out({out_h, out_w});
        ViewRenderer r(W, H, out_w, out_h, fov);
        r.set_simd(simd);
        Component s{const_cast<uint8_t *>(plane.data()), W, W, H, 1};
        Component d{out.mutable_data(), out_w, out_w, out_h, 1};
        {
            py::gil_scoped_release release;
            for (int k = 0; k < repeat; k++)
                r.render(s, yaw, pitch, d);
        }
        return out;
    }, py::arg("plane"), py::arg("yaw"), py::arg("pitch"), py::arg("fov"), py::arg("width"), py::arg("height"),
       py::arg("simd") = true, py::arg("repeat") = 1,
       "One planar component's view (what the filter does per plane of yuv420p); simd=False: the plain sampling "
       "loop, the reference the AVX2 one must equal; repeat: render it that many times (timing).");
    m.def("render_equirect_yuv420", [](const U8Arr &y, const U8Arr &u, const U8Arr &v,
                                      const std::vector<std::pair<double, double>> &views, double fov, int out_w,
                                      int out_h) {
        if (y.ndim() != 2 || u.ndim() != 2 || v.ndim() != 2 || u.shape(0) != v.shape(0) || u.shape(1) != v.shape(1))
            throw std::invalid_argument("y, u, v must be 2-D planes, u and v of one size");
        if (out_w < 2 || out_h < 2 || out_w % 2 || out_h % 2)
            throw std::invalid_argument("the output size must be even, at least 2x2");
        const int W = int(y.shape(1)), H = int(y.shape(0));
        ViewGeometry g;
        g.src_w = W;
        g.src_h = H;
        g.out_w = out_w;
        g.out_h = out_h;
        g.hfov = fov;
        Components src;
        src.yuv = true;
        src.count = 3;
        src.c[0] = Component{const_cast<uint8_t *>(y.data()), W, W, H, 1};
        const int cw = int(u.shape(1)), ch = int(u.shape(0));
        src.c[1] = Component{const_cast<uint8_t *>(u.data()), cw, cw, ch, 1};
        src.c[2] = Component{const_cast<uint8_t *>(v.data()), cw, cw, ch, 1};
        const py::ssize_t n = py::ssize_t(views.size());
        py::array_t<uint8_t> oy({n, py::ssize_t(out_h), py::ssize_t(out_w)});
        py::array_t<uint8_t> ou({n, py::ssize_t(out_h / 2), py::ssize_t(out_w / 2)});
        py::array_t<uint8_t> ov({n, py::ssize_t(out_h / 2), py::ssize_t(out_w / 2)});
        std::vector<ViewRenderer> renderers;  // kept across the views, as the engine keeps them across frames
        for (py::ssize_t k = 0; k < n; k++) {
            Components dst = src;
            dst.c[0] = Component{oy.mutable_data() + size_t(k) * out_w * out_h, out_w, out_w, out_h, 1};
            dst.c[1] = Component{ou.mutable_data() + size_t(k) * (out_w / 2) * (out_h / 2), out_w / 2, out_w / 2,
                                 out_h / 2, 1};
            dst.c[2] = Component{ov.mutable_data() + size_t(k) * (out_w / 2) * (out_h / 2), out_w / 2, out_w / 2,
                                 out_h / 2, 1};
            render_view(g, renderers, src, views[size_t(k)].first, views[size_t(k)].second, dst);
        }
        return py::make_tuple(oy, ou, ov);
    }, py::arg("y"), py::arg("u"), py::arg("v"), py::arg("views"), py::arg("fov"), py::arg("width"),
       py::arg("height"),
       "A yuv420p picture's views, one after the other, the way the engine renders frames (render_view: the "
       "renderers kept from view to view, V sharing U's): (Y, U, V) stacks, one picture per view.");
    m.def("in_view", [](const F32Array &yaw, const F32Array &pitch, double view_yaw, double view_pitch, double hfov,
                        double vfov) {
        if (yaw.size() != pitch.size())
            throw std::invalid_argument("yaw and pitch differ in length");
        py::array_t<bool> out(yaw.size());
        for (py::ssize_t k = 0; k < yaw.size(); k++)
            out.mutable_data()[k] = direction_in_view(yaw.data()[k], pitch.data()[k], view_yaw, view_pitch, hfov, vfov);
        return out;
    }, py::arg("yaw"), py::arg("pitch"), py::arg("view_yaw"), py::arg("view_pitch"), py::arg("fov"), py::arg("vfov"),
       "Which directions (degrees; pitch + up) fall inside the view.");
}

}  // namespace salcrop
