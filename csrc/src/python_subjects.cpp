// _core's subject tracker (subject_tracker.h) and the subjects file's parser (subjects.h), for the editor, the
// evaluation and the front ends' checks.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "subject_tracker.h"
#include "subjects.h"

namespace py = pybind11;

namespace salcrop {

namespace {

using U8Array = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

// An H x W grey or H x W x 3 RGB frame (or frame `index` of a T x H x W (x 3) stack) as a tracking copy.
GreyFrame grey_of(const U8Array &a, py::ssize_t index = -1)
{
    const int lead = index >= 0 ? 1 : 0;
    const py::ssize_t nd = a.ndim() - lead;
    if (!(nd == 2 || (nd == 3 && a.shape(lead + 2) == 3)))
        throw std::invalid_argument(std::string(index >= 0 ? "frames must be a T x H x W (x 3)" : "frame must be an "
                                                "H x W (x 3)") + " uint8 array (grey or RGB)");
    const int h = int(a.shape(lead)), w = int(a.shape(lead + 1));
    if (w < 1 || h < 1)
        throw std::invalid_argument("empty frame");
    const uint8_t *base = a.data() + (index >= 0 ? index * a.strides(0) : 0);
    SalcropImage img{};
    img.format = nd == 2 ? SALCROP_PIX_GRAY8 : SALCROP_PIX_RGB24;
    img.width = w;
    img.height = h;
    img.data[0] = base;
    img.linesize[0] = int(a.strides(lead));
    img.full_range = 1;
    return make_grey_frame(img);
}

py::tuple point_tuple(const TrackPoint &p)
{
    return py::make_tuple(p.box.x, p.box.y, p.box.w, p.box.h, p.score, p.lost);
}

Box box_of(const std::vector<double> &b)
{
    if (b.size() != 4)
        throw std::invalid_argument("box must be [x, y, w, h] in source pixels");
    return Box{b[0], b[1], b[2], b[3]};
}

class PyTracker {
public:
    PyTracker(const U8Array &frame, const std::vector<double> &box)
    {
        const GreyFrame g = grey_of(frame);
        tracker_ = std::make_unique<SubjectTracker>(g, box_of(box));
    }
    py::tuple update(const U8Array &frame)
    {
        GreyFrame g = grey_of(frame);
        TrackPoint p;
        {
            py::gil_scoped_release release;
            p = tracker_->update(g);
        }
        return point_tuple(p);
    }

private:
    std::unique_ptr<SubjectTracker> tracker_;
};

py::array_t<double> track_frames_py(const U8Array &frames, int64_t pick, const std::vector<double> &box)
{
    if (frames.ndim() < 3)
        throw std::invalid_argument("frames must be a T x H x W (x 3) uint8 array (grey or RGB)");
    const py::ssize_t n = frames.shape(0);
    if (pick < 0 || pick >= n)
        throw std::invalid_argument("pick " + std::to_string(pick) + " is not one of the " + std::to_string(n) +
                                    " frames");
    std::vector<GreyFrame> grey;
    grey.reserve(size_t(n));
    for (py::ssize_t k = 0; k < n; k++)
        grey.push_back(grey_of(frames, k));
    std::vector<const GreyFrame *> ptrs;
    for (const GreyFrame &g : grey)
        ptrs.push_back(&g);
    std::vector<TrackPoint> pts;
    {
        py::gil_scoped_release release;
        pts = track_frames(ptrs, size_t(pick), box_of(box));
    }
    py::array_t<double> out({n, py::ssize_t(6)});
    auto o = out.mutable_unchecked<2>();
    for (py::ssize_t k = 0; k < n; k++) {
        const TrackPoint &p = pts[size_t(k)];
        o(k, 0) = p.box.x;
        o(k, 1) = p.box.y;
        o(k, 2) = p.box.w;
        o(k, 3) = p.box.h;
        o(k, 4) = p.score;
        o(k, 5) = p.lost ? 1.0 : 0.0;
    }
    return out;
}

}  // namespace

void def_subjects(py::module_ &m)
{
    py::class_<PyTracker>(m, "SubjectTracker",
                          "The core's subject tracker (a kernelized correlation filter with a scale search; "
                          "subject_tracker.h): started on a frame with a box [x, y, w, h] in its pixels, update(frame)"
                          " returns (x, y, w, h, score, lost) on the next one (lost: the last seen box).")
        .def(py::init<const U8Array &, const std::vector<double> &>(), py::arg("frame"), py::arg("box"))
        .def("update", &PyTracker::update, py::arg("frame"));
    m.def("track_frames", &track_frames_py, py::arg("frames"), py::arg("pick"), py::arg("box"),
          "Tracks the box given on frames[pick] forward and backward through the frames (T x H x W grey or "
          "T x H x W x 3 RGB uint8): a T x 6 array of x, y, w, h, score, lost.");
    m.def("parse_subjects", [](const std::string &json, double fps, int width, int height) {
        py::list out;
        for (const SubjectPick &s : parse_subjects(json, fps, width, height))
            if (s.face >= 0)
                out.append(py::make_tuple(s.frame, py::dict(py::arg("face") = s.face)));
            else
                out.append(py::make_tuple(s.frame, py::make_tuple(s.box.x, s.box.y, s.box.w, s.box.h)));
        return out;
    }, py::arg("json"), py::arg("fps"), py::arg("width"), py::arg("height"),
          "A subjects JSON text as the core reads it: [(frame, (x, y, w, h)) or (frame, {'face': id})]; ValueError\n"
          "naming the bad entry.");
    m.attr("LOST_HOLD_SECONDS") = kLostHoldSeconds;
}

}  // namespace salcrop
