// salcrop_filter._core: the C++ core for Python (contract in docs/PYTHON_CORE_API.md). Option mistakes raise
// ValueError, everything else RuntimeError; the GIL is released while the network or the planner runs.
#include <memory>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "engine.h"
#include "errors.h"
#include "faces.h"
#include "keyframes.h"
#include "subjects.h"
#include "tracks.h"
#include "model.h"
#include "onnx_metadata.h"
#include "planner.h"
#include "preprocess.h"
#include "python_audio.h"
#include "shots.h"

#ifndef SALCROP_VERSION
#define SALCROP_VERSION "0.0.0"
#endif

namespace py = pybind11;
using namespace salcrop;

namespace {

using U8Array = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

// Runs f with the GIL released, turning C++ errors into the module's Python exceptions.
template <typename F>
auto nogil(F &&f)
{
    py::gil_scoped_release release;
    return f();
}

SalcropImage rgb_image(const U8Array &a, int width, int height)
{
    if (a.ndim() != 3 || a.shape(2) != 3)
        throw std::invalid_argument("frame must be an H x W x 3 uint8 RGB array");
    if (a.shape(0) != height || a.shape(1) != width)
        throw std::invalid_argument("frame size " + std::to_string(a.shape(1)) + "x" + std::to_string(a.shape(0)) +
                                    " differs from the engine's " + std::to_string(width) + "x" +
                                    std::to_string(height));
    SalcropImage img{};
    img.format = SALCROP_PIX_RGB24;
    img.width = width;
    img.height = height;
    img.data[0] = a.data();
    img.linesize[0] = int(a.strides(0));
    img.full_range = 1;
    return img;
}

SalcropImage yuv420p_image(const U8Array &y, const U8Array &u, const U8Array &v, int w, int h, bool full_range,
                           int colorspace)
{
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    auto check = [](const U8Array &a, int pw, int ph, const char *name) {
        if (a.ndim() != 2 || a.shape(0) != ph || a.shape(1) != pw)
            throw std::invalid_argument(std::string(name) + " plane must be " + std::to_string(ph) + " x " +
                                        std::to_string(pw) + " uint8");
    };
    check(y, w, h, "y");
    check(u, cw, ch, "u");
    check(v, cw, ch, "v");
    SalcropImage img{};
    img.format = SALCROP_PIX_YUV420P;
    img.width = w;
    img.height = h;
    img.data[0] = y.data();
    img.data[1] = u.data();
    img.data[2] = v.data();
    img.linesize[0] = int(y.strides(0));
    img.linesize[1] = int(u.strides(0));
    img.linesize[2] = int(v.strides(0));
    img.full_range = full_range ? 1 : 0;
    img.colorspace = colorspace < 0 ? (h > 576 ? 1 : 0) : colorspace;
    return img;
}

// A segment's schedule from Python: (rate_sample, cut, release) per frame.
using ScheduleTuples = std::vector<std::tuple<bool, bool, int64_t>>;


struct PyDecision {
    Decision d;
};

PyDecision to_py(const Decision &d)
{
    return PyDecision{d};
}

class PyEngine {
public:
    PyEngine(int width, int height, double fps, const std::string &ratio, const std::string &model,
             const std::string &device, const std::string &mode, int stride, double lookahead, double scene_threshold,
             double smoothing, const std::string &pad, int threads, bool even, bool keep_maps,
             const std::string &ort_library, const std::string &keyframes, const ScheduleTuples &replay,
             int64_t replay_end, const std::string &projection, double fov, int view_width, int view_height,
             const std::string &stereo, double front, double max_memory, const std::string &subjects,
             const std::string &speakers)
    {
        EngineOptions o;
        o.width = width;
        o.height = height;
        o.fps = fps;
        o.ratio = ratio;
        o.model = model;
        o.device = device;
        o.mode = mode;
        o.stride = stride;
        o.lookahead = lookahead;
        o.scene_threshold = scene_threshold;
        o.smoothing = smoothing;
        o.pad = pad;
        o.threads = threads;
        o.even = even;
        o.keep_maps = keep_maps;
        o.ort_library = ort_library;
        o.keyframes = keyframes;
        for (const auto &[rate_sample, cut, release] : replay)
            o.replay.push_back(FrameSchedule{rate_sample, cut, release});
        o.replay_end = replay_end;
        o.projection = projection;
        o.fov = fov;
        o.view_w = view_width;
        o.view_h = view_height;
        o.stereo = stereo;
        o.front = front;
        o.max_memory = max_memory;
        o.subjects = subjects;
        o.speakers = speakers;
        validate(o);  // option errors first, with the GIL held (ValueError)
        engine_ = nogil([&] { return std::make_unique<Engine>(o); });
    }

    py::tuple output_size() const
    {
        int w, h;
        engine_->output_size(&w, &h);
        return py::make_tuple(w, h);
    }

    void push_rgb(const U8Array &frame, double t)
    {
        SalcropImage img = rgb_image(frame, engine_->options().width, engine_->options().height);
        nogil([&] {
            engine_->push(img, t);
            return 0;
        });
    }

    void push_yuv420p(const U8Array &y, const U8Array &u, const U8Array &v, double t, bool full_range, int colorspace)
    {
        SalcropImage img = yuv420p_image(y, u, v, engine_->options().width, engine_->options().height, full_range,
                                         colorspace);
        nogil([&] {
            engine_->push(img, t);
            return 0;
        });
    }

    // max_count < 0: every ready decision. draw_debug works on the most recently popped one, so a caller
    // that draws pops one at a time (pop(1)).
    std::vector<PyDecision> pop(int max_count, size_t output)
    {
        std::vector<PyDecision> out;
        Decision d;
        while ((max_count < 0 || int(out.size()) < max_count) && engine_->pop(&d, output))
            out.push_back(to_py(d));
        return out;
    }

    std::vector<PyDecision> flush(int max_count, size_t output)
    {
        nogil([&] {
            engine_->flush();  // idempotent: later calls only pop
            return 0;
        });
        return pop(max_count, output);
    }

    std::vector<py::tuple> output_sizes() const
    {
        std::vector<py::tuple> out;
        for (size_t k = 0; k < engine_->outputs(); k++) {
            int w, h;
            engine_->output_size(&w, &h, k);
            out.push_back(py::make_tuple(w, h));
        }
        return out;
    }

    void draw_debug(const PyDecision &d, py::array_t<uint8_t> frame)
    {
        auto buf = frame.mutable_unchecked<3>();
        if (frame.ndim() != 3 || frame.shape(2) != 3 || frame.shape(0) != engine_->options().height ||
            frame.shape(1) != engine_->options().width || frame.strides(2) != 1 || frame.strides(1) != 3)
            throw std::invalid_argument("frame must be a writable H x W x 3 uint8 array of the source size, rows "
                                        "contiguous");
        uint8_t *data[4] = {buf.mutable_data(0, 0, 0), nullptr, nullptr, nullptr};
        int ls[4] = {int(frame.strides(0)), 0, 0, 0};
        engine_->draw_debug(d.d, data, ls, SALCROP_PIX_RGB24);
    }

    py::array_t<uint8_t> render_padded(const PyDecision &d, const U8Array &frame, size_t output)
    {
        SalcropImage img = rgb_image(frame, engine_->options().width, engine_->options().height);
        int w, h;
        engine_->output_size(&w, &h, output);
        py::array_t<uint8_t> out({h, w, 3});
        uint8_t *data[4] = {out.mutable_data(), nullptr, nullptr, nullptr};
        int ls[4] = {w * 3, 0, 0, 0};
        nogil([&] {
            engine_->render_padded(d.d, img, data, ls, output);
            return 0;
        });
        return out;
    }

    py::array_t<uint8_t> render_view(const PyDecision &d, const U8Array &frame)
    {
        SalcropImage img = rgb_image(frame, engine_->options().width, engine_->options().height);
        int w, h;
        engine_->output_size(&w, &h);
        py::array_t<uint8_t> out({h, w, 3});
        uint8_t *data[4] = {out.mutable_data(), nullptr, nullptr, nullptr};
        int ls[4] = {w * 3, 0, 0, 0};
        nogil([&] {
            engine_->render_view(d.d, img, data, ls);
            return 0;
        });
        return out;
    }

    Engine &engine() { return *engine_; }

private:
    std::unique_ptr<Engine> engine_;
};

class PyRunner {
public:
    PyRunner(const std::string &model, const std::string &device, int threads, const std::string &ort_library)
    {
        validate_device(device);
        if (threads < 0)
            throw OptionError("threads=" + std::to_string(threads) + " is not valid: must be >= 0");
        model_ = nogil([&] { return std::make_unique<SaliencyModel>(model, device, threads, ort_library); });
        state_.assign(model_->state_floats(), 0.0f);
    }

    py::array_t<float> predict(const U8Array &frames, bool reset)
    {
        if (frames.ndim() != 4 || frames.shape(3) != 3)
            throw std::invalid_argument("frames must be a T x H x W x 3 uint8 RGB array");
        const int T = int(frames.shape(0)), H = int(frames.shape(1)), W = int(frames.shape(2));
        py::array_t<float> out({T, model_->map_height(), model_->map_width()});
        float *dst = out.mutable_data();
        const uint8_t *src = frames.data();
        const size_t stride = size_t(H) * W * 3;
        nogil([&] {
            if (reset || prev_.empty())
                std::fill(state_.begin(), state_.end(), 0.0f);
            Resampler to_input(model_->input_width(), model_->input_height());
            std::vector<float> input(model_->frame_floats()), next(model_->state_floats());
            for (int t = 0; t < T; t++) {
                SalcropImage img{};
                img.format = SALCROP_PIX_RGB24;
                img.width = W;
                img.height = H;
                img.data[0] = src + stride * t;
                img.linesize[0] = W * 3;
                img.full_range = 1;
                image_to_rgb_planes(img, to_input, 1.0f / 255.0f, input.data());
                const bool first = t == 0 && (reset || prev_.empty());
                model_->run(input.data(), first ? input.data() : prev_.data(), state_.data(), 1,
                            dst + size_t(t) * model_->map_floats(), next.data());
                std::swap(state_, next);
                prev_ = input;
            }
            return 0;
        });
        return out;
    }

    SaliencyModel &model() { return *model_; }

private:
    std::unique_ptr<SaliencyModel> model_;
    std::vector<float> state_, prev_;
};

class PyShotDetector {
public:
    PyShotDetector(double threshold, double fps) : fps_(fps)
    {
        if (!(threshold >= 0 && threshold <= 100))
            throw OptionError("scene_threshold=" + std::to_string(threshold) +
                              " is not valid: must be 0..100 (0 disables shot detection)");
        if (!(fps > 0 && fps <= 1000))
            throw OptionError("fps=" + std::to_string(fps) + " is not valid: must be > 0 and <= 1000");
        det_ = std::make_unique<ShotDetector>(threshold, fps);
    }
    void push_rgb(const U8Array &frame)
    {
        if (frame.ndim() != 3 || frame.shape(2) != 3)
            throw std::invalid_argument("frame must be an H x W x 3 uint8 RGB array");
        const int h = int(frame.shape(0)), w = int(frame.shape(1));
        if (!thumbs_) {
            w_ = w;
            h_ = h;
            thumbs_ = std::make_unique<Thumbnailer>(w, h);
        } else if (w != w_ || h != h_) {
            throw std::invalid_argument("frame size changed from " + std::to_string(w_) + "x" + std::to_string(h_));
        }
        SalcropImage img = rgb_image(frame, w, h);
        nogil([&] {
            for (const auto &v : det_->push(thumbs_->make(img)))
                if (v.cut)
                    cuts_.push_back(v.frame);
            return 0;
        });
    }
    std::vector<int64_t> flush()
    {
        for (const auto &v : det_->flush())
            if (v.cut)
                cuts_.push_back(v.frame);
        return cuts_;
    }

private:
    double fps_;
    int w_ = 0, h_ = 0;
    std::unique_ptr<ShotDetector> det_;
    std::unique_ptr<Thumbnailer> thumbs_;
    std::vector<int64_t> cuts_;
};

// The first pass of a split run (ScheduleRecorder): every frame in, one schedule per frame out.
class PyScheduleRecorder {
public:
    PyScheduleRecorder(int width, int height, double fps, int stride, double scene_threshold)
    {
        EngineOptions o;
        o.width = width;
        o.height = height;
        o.fps = fps;
        o.stride = stride;
        o.scene_threshold = scene_threshold;
        rec_ = std::make_unique<ScheduleRecorder>(o);
        w_ = width;
        h_ = height;
    }

    void push_rgb(const U8Array &frame)
    {
        SalcropImage img = rgb_image(frame, w_, h_);
        nogil([&] {
            rec_->push(img);
            return 0;
        });
    }

    void push_yuv420p(const U8Array &y, const U8Array &u, const U8Array &v, bool full_range, int colorspace)
    {
        SalcropImage img = yuv420p_image(y, u, v, w_, h_, full_range, colorspace);
        nogil([&] {
            rec_->push(img);
            return 0;
        });
    }

    ScheduleTuples finish()
    {
        ScheduleTuples out;
        for (const FrameSchedule &f : rec_->finish())
            out.emplace_back(f.rate_sample, f.cut, f.release);
        return out;
    }

private:
    std::unique_ptr<ScheduleRecorder> rec_;
    int w_ = 0, h_ = 0;
};

// A chunk start (planner.h, ChunkStart) as a plain tuple for Python to keep and hand back: (pos, mode, carry).
py::tuple chunk_start_tuple(const ChunkStart &c)
{
    const Carry &k = c.carry;
    return py::make_tuple(c.pos, std::string(mode_name(c.mode)),
                          py::make_tuple(k.valid, k.x, k.v, k.a, k.held, k.dir, k.dir_age, int(k.mode), k.padded,
                                         k.pad_x, k.pad_len, k.shot_frames, k.shot_mass, k.shot_static));
}

ChunkStart chunk_start_of(const py::tuple &t)
{
    if (t.size() != 3)
        throw std::invalid_argument("resume: a (pos, mode, carry) tuple from plan_path(with_states=True)");
    ChunkStart c;
    c.pos = t[0].cast<int64_t>();
    const py::tuple k = t[2].cast<py::tuple>();
    if (k.size() != 14)
        throw std::invalid_argument("resume: not a carry from plan_path(with_states=True)");
    Carry &r = c.carry;
    r.valid = k[0].cast<bool>();
    r.x = k[1].cast<double>();
    r.v = k[2].cast<double>();
    r.a = k[3].cast<double>();
    r.held = k[4].cast<double>();
    r.dir = k[5].cast<int>();
    r.dir_age = k[6].cast<int>();
    r.mode = ShotMode(k[7].cast<int>());
    r.padded = k[8].cast<bool>();
    r.pad_x = k[9].cast<int>();
    r.pad_len = k[10].cast<int>();
    r.shot_frames = k[11].cast<double>();
    r.shot_mass = k[12].cast<double>();
    r.shot_static = k[13].cast<std::vector<double>>();
    return c;
}

py::list track_faces(const py::list &detections, double fps, std::vector<int64_t> cuts, int hold_frames)
{
    if (!(fps > 0))
        throw std::invalid_argument("fps must be positive");
    std::sort(cuts.begin(), cuts.end());
    std::vector<std::vector<FaceDetection>> per_frame;
    std::vector<bool> ran;
    for (const py::handle &h : detections) {
        std::vector<FaceDetection> dets;
        ran.push_back(!h.is_none());
        if (!h.is_none())
            for (const py::handle &d : h) {
                const auto t = d.cast<std::tuple<double, double, double, double, double>>();
                dets.push_back(FaceDetection{Box{std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t)},
                                             float(std::get<4>(t))});
            }
        per_frame.push_back(std::move(dets));
    }
    TrackSet set;
    FaceTracker tracker(fps, hold_frames > 0 ? hold_frames : std::max(1, int(std::lround(kFaceSeconds * fps))) * 2);
    int shot = 0;
    size_t next_cut = 0;
    for (size_t f = 0; f < per_frame.size(); f++) {
        while (next_cut < cuts.size() && cuts[next_cut] <= int64_t(f)) {
            if (cuts[next_cut] == int64_t(f) && f > 0)
                tracker.new_shot(++shot);
            next_cut++;
        }
        tracker.add_frame(set, int64_t(f), ran[f] ? &per_frame[f] : nullptr);
    }
    py::list out;
    for (size_t f = 0; f < per_frame.size(); f++) {
        py::list row;
        for (const Track *t : set.on(int64_t(f))) {
            const TrackPoint *p = t->at(int64_t(f));
            row.append(py::make_tuple(t->id, p->box.x, p->box.y, p->box.w, p->box.h, p->lost));
        }
        out.append(row);
    }
    return out;
}

py::tuple follow_speakers_py(py::array_t<double, py::array::c_style | py::array::forcecast> boxes,
                             py::array_t<float, py::array::c_style | py::array::forcecast> speaking, int width,
                             int height, double fps, const std::string &ratio, std::vector<int> ids,
                             const std::vector<int> &pinned, const std::vector<int> &ignored, double lookahead,
                             const std::string &rules)
{
    if (rules != "heard" && rules != "mouth")
        throw std::invalid_argument("rules must be \"heard\" (scores with sound) or \"mouth\" (the mouth alone)");
    if (boxes.ndim() != 3 || boxes.shape(2) != 4)
        throw std::invalid_argument("boxes must be N x T x 4 (x, y, w, h)");
    if (speaking.ndim() != 2 || speaking.shape(0) != boxes.shape(0) || speaking.shape(1) != boxes.shape(1))
        throw std::invalid_argument("speaking must be N x T, as boxes");
    if (!(fps > 0))
        throw std::invalid_argument("fps must be positive");
    const int n = int(boxes.shape(0)), frames = int(boxes.shape(1));
    if (ids.empty())
        for (int i = 0; i < n; i++)
            ids.push_back(i);
    if (int(ids.size()) != n)
        throw std::invalid_argument("ids must have one id per track");
    EngineOptions o;
    o.width = width;
    o.height = height;
    o.fps = fps;
    o.ratio = ratio;
    CheckedOptions c = validate(o);
    const Geometry g = make_geometry(width, height, c.ratio, true);
    auto b = boxes.unchecked<3>();
    auto sp = speaking.unchecked<2>();
    std::vector<FaceSeries> faces;
    for (int i = 0; i < n; i++) {
        FaceSeries s;
        s.id = ids[size_t(i)];
        if (std::find(pinned.begin(), pinned.end(), s.id) != pinned.end())
            s.user = TrackOverride::Pinned;
        if (std::find(ignored.begin(), ignored.end(), s.id) != ignored.end())
            s.user = TrackOverride::Ignored;
        for (int k = 0; k < frames; k++) {
            const Box box{b(i, k, 0), b(i, k, 1), b(i, k, 2), b(i, k, 3)};
            const bool seen = std::isfinite(box.x) && std::isfinite(box.y) && !box.empty();
            s.seen.push_back(seen ? 1 : 0);
            s.box.push_back(seen ? box : Box{});
            s.speaking.push_back(sp(i, k));
        }
        faces.push_back(std::move(s));
    }
    // In the engine's chunks: `lookahead` frames seen, the first half committed, the state carried.
    const int span = std::max(2, int(std::lround(lookahead * fps))), count = std::max(1, span / 2);
    std::vector<int> speaker;
    std::vector<int64_t> cuts;
    py::list targets;
    FloorState state;
    for (int first = 0; first < frames;) {
        const int known = std::min(span, frames - first);
        const int commit = known < span ? known : count;
        std::vector<FaceSeries> part = faces;
        for (FaceSeries &f : part) {
            f.seen.assign(f.seen.begin() + first, f.seen.begin() + first + known);
            f.box.assign(f.box.begin() + first, f.box.begin() + first + known);
            f.speaking.assign(f.speaking.begin() + first, f.speaking.begin() + first + known);
        }
        const SpeakerChoice choice = follow_speakers(g, fps, part, known, state, size_t(commit),
                                                     rules == "mouth" ? kMouthRules : kHeardRules);
        state = choice.state;
        if (choice.cut >= 0 && choice.cut < commit)
            cuts.push_back(first + choice.cut);
        for (int k = 0; k < commit; k++) {
            speaker.push_back(choice.speaker[size_t(k)]);
            py::list row;
            for (const AxisTarget &a : choice.targets[size_t(k)])
                row.append(py::make_tuple(a.track, a.lo, a.hi, a.weight));
            targets.append(row);
        }
        first += commit;
    }
    return py::make_tuple(speaker, cuts, targets);
}

py::tuple plan_path(py::array_t<float, py::array::c_style | py::array::forcecast> maps, std::vector<int64_t> cuts,
                    int width, int height, double fps, const std::string &ratio, const std::string &mode,
                    double smoothing, bool even, const std::vector<std::tuple<int64_t, double, double>> &keyframes,
                    bool with_segments, double lookahead, const std::string &pad, bool with_reasons, double mass_value,
                    const std::vector<std::pair<int64_t, py::array_t<double, py::array::c_style | py::array::forcecast>>>
                        &subjects, bool with_states, const py::object &resume, const py::object &faces,
                    const std::vector<int> &pinned, const std::vector<int> &ignored)
{
    EngineOptions o;
    o.width = width;
    o.height = height;
    o.fps = fps;
    o.ratio = ratio;
    o.mode = mode;
    o.smoothing = smoothing;
    o.even = even;
    o.pad = pad;
    CheckedOptions c = validate(o);
    if (c.ratios.size() > 1)
        throw std::invalid_argument("plan_path plans one ratio: call it once per ratio of '" + ratio + "'");
    if (maps.ndim() != 3)
        throw std::invalid_argument("maps must be a T x h x w float32 array");
    const size_t T = size_t(maps.shape(0));
    const int mh = int(maps.shape(1)), mw = int(maps.shape(2));
    if (T > 0 && (mh < 1 || mw < 1))
        throw std::invalid_argument("maps must be a T x h x w float32 array with h, w >= 1");
    for (int64_t cut : cuts)
        if (cut < 0)
            throw std::invalid_argument("cuts must be frame indices >= 0");
    std::sort(cuts.begin(), cuts.end());
    Geometry g = make_geometry(width, height, c.ratio, even);
    PlanParams p;
    p.fps = fps;
    p.smoothing = smoothing;
    p.forced = c.forced;
    p.mode = c.mode;
    p.even = even;
    p.pad = c.pad;
    if (!(mass_value > 0) || mass_value > 1e6)
        throw std::invalid_argument("mass_value must be > 0, got " + std::to_string(mass_value));
    p.mass_value = mass_value;
    if (!(lookahead >= 0) || lookahead > 60)
        throw std::invalid_argument("lookahead must be 0 (whole shots) or up to 60 s, got " + std::to_string(lookahead));
    p.lookahead_frames = lookahead > 0 ? std::max(2, int(std::lround(lookahead * fps))) : 0;
    std::vector<Keyframe> keys;
    for (const auto &[frame, x, y] : keyframes)
        keys.push_back({frame, x, y});
    const std::vector<double> pins = keyframe_pins(g, keys, T);
    // Picked subjects' tracks: (first frame, N x 5 [x, y, w, h, lost]); kept as the engine keeps them.
    TrackSet people;
    for (const auto &[first, pts] : subjects) {
        if (pts.ndim() != 2 || pts.shape(1) < 5)
            throw std::invalid_argument("subjects: each track is (first_frame, N x 5 array of x, y, w, h, lost)");
        if (first < 0 || first + pts.shape(0) > py::ssize_t(T))
            throw std::invalid_argument("subjects: a track of frames " + std::to_string(first) + ".." +
                                        std::to_string(first + pts.shape(0)) + " is outside the clip's " +
                                        std::to_string(T) + " frames");
        Track &tr = people.add(TrackKind::Subject, 0, first);
        auto r = pts.unchecked<2>();
        for (py::ssize_t k = 0; k < pts.shape(0); k++) {
            TrackPoint p;
            p.box = Box{r(k, 0), r(k, 1), r(k, 2), r(k, 3)};
            p.lost = r(k, 4) != 0 || p.box.empty();
            tr.points.push_back(p);
        }
    }
    const std::vector<FrameTargets> targets =
        people.empty() ? std::vector<FrameTargets>{}
                       : subject_targets(g, people, 0, T, int(std::lround(kLostHoldSeconds * fps)));
    // Face tracks over the whole clip: (id, T x 5 [x, y, w, h, speaking]; NaN x or an empty box where not seen,
    // speaking -1 unknown). Planned around who speaks, as the engine with speakers=auto, the user's pins/ignores on.
    std::unique_ptr<std::vector<FaceSeries>> series;
    if (!faces.is_none()) {
        if (!people.empty())
            throw std::invalid_argument("plan_path: faces and subjects do not mix (a pick outranks the speaker)");
        series = std::make_unique<std::vector<FaceSeries>>();
        for (const py::handle &h : faces) {
            const auto [id, arr] = h.cast<std::pair<int, py::array_t<double, py::array::c_style | py::array::forcecast>>>();
            if (arr.ndim() != 2 || arr.shape(0) != py::ssize_t(T) || arr.shape(1) != 5)
                throw std::invalid_argument("faces: track " + std::to_string(id) + ": expected a " +
                                            std::to_string(T) + " x 5 array (x, y, w, h, speaking) over the clip");
            FaceSeries f;
            f.id = id;
            if (std::find(pinned.begin(), pinned.end(), id) != pinned.end())
                f.user = TrackOverride::Pinned;
            if (std::find(ignored.begin(), ignored.end(), id) != ignored.end())
                f.user = TrackOverride::Ignored;
            auto r = arr.unchecked<2>();
            for (size_t t = 0; t < T; t++) {
                const Box b{r(t, 0), r(t, 1), r(t, 2), r(t, 3)};
                const bool seen = std::isfinite(b.x) && std::isfinite(b.y) && !b.empty();
                f.seen.push_back(seen ? 1 : 0);
                f.box.push_back(seen ? b : Box{});
                f.speaking.push_back(seen && std::isfinite(r(t, 4)) ? float(r(t, 4)) : kSpeakingUnknown);
            }
            for (const FaceSeries &other : *series)
                if (other.id == id)
                    throw std::invalid_argument("faces: track " + std::to_string(id) + " is given twice");
            series->push_back(std::move(f));
        }
    }
    for (int id : pinned)
        if (std::find(ignored.begin(), ignored.end(), id) != ignored.end())
            throw std::invalid_argument("track " + std::to_string(id) + " is both pinned and ignored");
    std::vector<int> speaker;
    std::vector<Window> windows;
    std::vector<ShotPlan> shots;
    std::vector<ChunkStart> starts;
    std::unique_ptr<ChunkStart> from;
    if (!resume.is_none())
        from = std::make_unique<ChunkStart>(chunk_start_of(resume.cast<py::tuple>()));
    const float *data = maps.data();
    {
        py::gil_scoped_release release;
        plan_offline(g, p, data, T, mh, mw, cuts, &windows, &shots, pins, targets, with_states ? &starts : nullptr,
                     from.get(), series.get(), series ? &speaker : nullptr);
    }
    py::array_t<int32_t> out({py::ssize_t(T), py::ssize_t(4)});
    auto o4 = out.mutable_unchecked<2>();
    for (size_t t = 0; t < T; t++) {
        o4(t, 0) = windows[t].x;
        o4(t, 1) = windows[t].y;
        o4(t, 2) = windows[t].w;
        o4(t, 3) = windows[t].h;
    }
    py::list sl, segments;
    for (const ShotPlan &s : shots) {
        sl.append(py::make_tuple(s.start, s.end, mode_name(s.mode)));
        for (const Segment &seg : s.segments)
            segments.append(py::make_tuple(seg.start, seg.end, segment_name(seg.kind)));
    }
    py::list reasons;
    for (const ShotPlan &s : shots) {
        py::dict d;
        d["reason"] = s.reason == PlanReason::Planned ? "planned" : "hold";
        d["note"] = s.note;
        d["mass"] = s.mass;
        d["static_mass"] = s.static_mass;
        reasons.append(d);
    }
    if (with_states) {  // (windows, shots, segments, states[, speaker]): the editor's resumable plan
        py::list st;
        for (const ChunkStart &c : starts)
            st.append(chunk_start_tuple(c));
        if (series)
            return py::make_tuple(out, sl, segments, st, speaker);
        return py::make_tuple(out, sl, segments, st);
    }
    if (series)
        throw std::invalid_argument("plan_path: faces come back with with_states=True (the editor's call)");
    if (with_segments && with_reasons)
        return py::make_tuple(out, sl, segments, reasons);
    if (with_reasons)
        return py::make_tuple(out, sl, reasons);
    if (with_segments)
        return py::make_tuple(out, sl, segments);
    return py::make_tuple(out, sl);
}

}  // namespace

namespace salcrop {
void def_sphere(py::module_ &m);  // python_sphere.cpp
void def_subjects(py::module_ &m);  // python_subjects.cpp
}

PYBIND11_MODULE(_core, m)
{
    m.doc() = "salcrop's C++ core: saliency model, shot detector, crop planner and streaming engine";
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p)
                std::rethrow_exception(p);
        } catch (const std::invalid_argument &e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        } catch (const std::bad_alloc &e) {
            PyErr_SetString(PyExc_MemoryError, e.what());
        } catch (const std::exception &e) {
            PyErr_SetString(PyExc_RuntimeError, e.what());
        }
    });

    m.def("version", [] { return std::string(SALCROP_VERSION); });
    m.def("default_speakers", [](bool sound, bool sphere) { return std::string(default_speakers(sound, sphere)); },
          py::arg("sound"), py::arg("sphere"),
          "`speakers` when none is given: \"auto\" where sound reaches the engine or the view is 360°, else "
          "\"off\" (the filter's rule too: salcrop.h salcrop_default_speakers).");
    m.def("parse_ratio", [](const std::string &s) {
        Ratio r = parse_ratio(s);
        return py::make_tuple(r.num, r.den);
    }, py::arg("ratio"));
    m.def("parse_ratios", [](const std::string &s) {
        std::vector<std::tuple<int, int>> out;
        for (const Ratio &r : parse_ratios(s))
            out.emplace_back(r.num, r.den);
        return out;
    }, py::arg("ratios"), "[(num, den)] of a ratio list ('9:16|1|4:5' or '9:16,1:1'); ValueError for a bad or "
       "repeated one");
    m.def("parse_keyframes", [](const std::string &json, double fps) {
        std::vector<std::tuple<int64_t, double, double>> out;
        for (const Keyframe &k : parse_keyframes(json, fps))
            out.emplace_back(k.frame, k.x, k.y);
        return out;
    }, py::arg("json"), py::arg("fps"),
          "A keyframes JSON text (docs/DESIGN.md) as the core reads it: [(frame, x, y)], times rounded to frames at "
          "fps; ValueError naming the keyframe and what is wrong.");
    m.def("thumbnail_yuv420p", [](const U8Array &y, const U8Array &u, const U8Array &v, bool full_range,
                                  int colorspace, bool portable, bool keep_sums) {
        const int h = y.ndim() == 2 ? int(y.shape(0)) : 0, w = y.ndim() == 2 ? int(y.shape(1)) : 0;
        const SalcropImage img = yuv420p_image(y, u, v, w, h, full_range, colorspace);
        Thumbnailer thumbs(w, h, portable, keep_sums);
        const Thumbnail &t = thumbs.make(img);
        py::array_t<float> hsv({3, t.height, t.width});
        std::copy(t.hsv.begin(), t.hsv.end(), hsv.mutable_data());
        return py::make_tuple(hsv, t.brightness);
    }, py::arg("y"), py::arg("u"), py::arg("v"), py::arg("full_range") = false, py::arg("colorspace") = -1,
          py::arg("portable") = false, py::arg("keep_sums") = false,
          "The shot detector's HSV thumbnail of a yuv420p picture (3 x h x w, OpenCV's scales) and its mean RGB;\n"
          "portable=True: the reference loops, which the vectorised ones must equal bit for bit; keep_sums=True:\n"
          "summed from the finer sums that model_input_yuv420p reads (the same bits).");
    m.def("model_input_yuv420p", [](const U8Array &y, const U8Array &u, const U8Array &v, int width, int height,
                                    bool full_range, int colorspace, bool from_thumbnail) {
        const int h = y.ndim() == 2 ? int(y.shape(0)) : 0, w = y.ndim() == 2 ? int(y.shape(1)) : 0;
        const SalcropImage img = yuv420p_image(y, u, v, w, h, full_range, colorspace);
        if (width < 1 || height < 1)
            throw std::invalid_argument("model_input_yuv420p: width and height must be positive");
        Resampler rs(width, height);
        py::array_t<float> out({3, height, width});
        Thumbnailer thumbs(w, h, false, true);
        thumbs.make(img);
        bool fine = from_thumbnail && thumbs.model_input(img, rs, 1.0f / 255.0f, out.mutable_data());
        if (!fine)
            image_to_rgb_planes(img, rs, 1.0f / 255.0f, out.mutable_data());
        return py::make_tuple(out, fine);
    }, py::arg("y"), py::arg("u"), py::arg("v"), py::arg("width"), py::arg("height"), py::arg("full_range") = false,
          py::arg("colorspace") = -1, py::arg("from_thumbnail") = true,
          "The network's input of a yuv420p picture at width x height (3 planes in [0, 1]) from the thumbnail's finer\n"
          "sums (Thumbnailer keep_sums; not what the engine uses) and whether it could; from_thumbnail=False: as the\n"
          "engine makes it, resampled from the picture itself.");
    m.def("onnx_metadata", [](const std::string &path) { return read_onnx_metadata(path); }, py::arg("path"),
          "An ONNX file's metadata_props as the core reads them without ONNX Runtime (to build the session on a\n"
          "thread), or None when the file is not a well-formed model.");
    m.def("default_model_path", &default_model_path, py::arg("gpu") = false,
          "The model the core loads when none is given: the 8-bit one (salcrop-int8.onnx) for the CPU; for CUDA\n"
          "the large float model (salcrop-large.onnx, 224x400) when installed, else the float salcrop.onnx.");

    py::class_<PyDecision>(m, "Decision")
        .def_property_readonly("frame", [](const PyDecision &d) { return d.d.frame; })
        .def_property_readonly("t", [](const PyDecision &d) { return d.d.t; })
        .def_property_readonly("x", [](const PyDecision &d) { return d.d.win.x; })
        .def_property_readonly("y", [](const PyDecision &d) { return d.d.win.y; })
        .def_property_readonly("w", [](const PyDecision &d) { return d.d.win.w; })
        .def_property_readonly("h", [](const PyDecision &d) { return d.d.win.h; })
        .def_property_readonly("shot", [](const PyDecision &d) { return d.d.shot; })
        .def_property_readonly("mode", [](const PyDecision &d) { return std::string(mode_name(d.d.mode)); })
        .def_property_readonly("segment", [](const PyDecision &d) { return std::string(segment_name(d.d.segment)); })
        .def_property_readonly("padded", [](const PyDecision &d) { return d.d.win.padded; })
        .def_property_readonly("yaw", [](const PyDecision &d) { return d.d.yaw; })
        .def_property_readonly("pitch", [](const PyDecision &d) { return d.d.pitch; })
        .def_property_readonly("fov", [](const PyDecision &d) { return d.d.fov; })
        .def_property_readonly("subject", [](const PyDecision &d) { return d.d.subject; })
        .def_property_readonly("subject_box", [](const PyDecision &d) -> py::object {
            if (d.d.subject < 0 || d.d.subject_box.empty())
                return py::none();
            const Box &b = d.d.subject_box;
            return py::make_tuple(b.x, b.y, b.w, b.h);
        })
        .def_property_readonly("speaker", [](const PyDecision &d) -> py::object {
            return d.d.speaker >= 0 ? py::object(py::int_(d.d.speaker)) : py::object(py::none());
        }, "the face track followed because it speaks, or None")
        .def_property_readonly("faces", [](const PyDecision &d) {
            py::list out;
            for (const FaceMark &f : d.d.faces)
                out.append(py::make_tuple(f.id, f.box.x, f.box.y, f.box.w, f.box.h, f.speaking));
            return out;
        }, "the faces seen on this frame: (track id, x, y, w, h, speaking or -1)")
        .def("__repr__", [](const PyDecision &d) {
            return "Decision(frame=" + std::to_string(d.d.frame) + ", x=" + std::to_string(d.d.win.x) +
                   ", y=" + std::to_string(d.d.win.y) + ", w=" + std::to_string(d.d.win.w) +
                   ", h=" + std::to_string(d.d.win.h) + ", shot=" + std::to_string(d.d.shot) + ", mode=" +
                   mode_name(d.d.mode) + (d.d.win.padded ? ", padded" : "") + ")";
        });

    py::class_<PyEngine>(m, "Engine")
        .def(py::init<int, int, double, const std::string &, const std::string &, const std::string &,
                      const std::string &, int, double, double, double, const std::string &, int, bool, bool,
                      const std::string &, const std::string &, const ScheduleTuples &, int64_t,
                      const std::string &, double, int, int, const std::string &, double, double,
                      const std::string &, const std::string &>(),
             py::arg("width"), py::arg("height"), py::arg("fps"), py::arg("ratio") = "9:16", py::arg("model") = "",
             py::arg("device") = "auto", py::arg("mode") = "auto", py::arg("stride") = kDefaultStride,
             py::arg("lookahead") = kDefaultLookahead, py::arg("scene_threshold") = kDefaultSceneThreshold,
             py::arg("smoothing") = kDefaultSmoothing, py::arg("pad") = "none", py::arg("threads") = 0,
             py::arg("even") = true, py::arg("keep_maps") = false, py::arg("ort_library") = "",
             py::arg("keyframes") = "", py::arg("replay") = ScheduleTuples{}, py::arg("replay_end") = 0,
             py::arg("projection") = "flat", py::arg("fov") = kDefaultFov, py::arg("view_width") = 0,
             py::arg("view_height") = 0, py::arg("stereo") = "mono", py::arg("front") = -1.0,
             py::arg("max_memory") = 0.0, py::arg("subjects") = "", py::arg("speakers") = "off")
        .def_property_readonly("output_size", &PyEngine::output_size)
        .def_property_readonly("output_sizes", &PyEngine::output_sizes,
                               "(width, height) of every output, one per ratio of the list, in its order")
        .def_property_readonly("max_delay", [](PyEngine &e) { return e.engine().max_delay(); })
        .def("check_buffer", [](PyEngine &e, int64_t bytes_per_frame) { e.engine().check_buffer(bytes_per_frame); },
             py::arg("bytes_per_frame"),
             "Once, before the first push. Under the memory budget (max_memory) settles frames_in_memory; "
             "without one (max_memory < 0) raises ValueError, naming a lookahead that fits, when max_delay frames "
             "of bytes_per_frame exceed this machine's memory (or the container's limit; env "
             "SALCROP_MEMORY_LIMIT_MB overrides).")
        .def_property_readonly("frames_in_memory", [](PyEngine &e) { return e.engine().frames_in_memory(); },
                               "After check_buffer: how many frames awaiting their decision fit the memory budget "
                               "(max_delay when all do)")
        .def_property_readonly("usual_delay", [](PyEngine &e) { return e.engine().usual_delay(); },
                               "The frames a run usually holds awaiting their decision (no open fade, the model "
                               "keeping up); max_delay is the worst case")
        .def("describe", [](PyEngine &e) { return e.engine().describe(); })
        .def_property_readonly("face_detections", [](PyEngine &e) {
            const Engine::FaceDetectionCounts &c = e.engine().face_detections();
            py::dict d;
            d["run"] = c.run;
            d["let_go"] = c.let_go;
            return d;
        }, "speakers=auto: the scheduled face detections so far, {'run': N, 'let_go': M} (M let go while the faces "
           "kept still)")
        .def("push_rgb", &PyEngine::push_rgb, py::arg("frame"), py::arg("t"))
        .def("push_yuv420p", &PyEngine::push_yuv420p, py::arg("y"), py::arg("u"), py::arg("v"), py::arg("t"),
             py::arg("full_range") = false, py::arg("colorspace") = -1)
        .def("push_audio", [](PyEngine &e, const py::array &samples, const std::string &format, int sample_rate,
                              double t, int channels) {
            PyAudioBlock b(samples, format, sample_rate, channels);
            e.engine().push_audio(b.block, t);
        }, py::arg("samples"), py::arg("format"), py::arg("sample_rate"), py::arg("t"), py::arg("channels") = 0,
           "Sound for analysis (who speaks), as AudioTrack.push: a PyAV block at t seconds on the frames' clock.")
        .def("audio_end", [](PyEngine &e) { e.engine().audio_end(); }, "No more sound (or none).")
        .def("pop", &PyEngine::pop, py::arg("max_count") = -1, py::arg("output") = 0)
        .def("flush", &PyEngine::flush, py::arg("max_count") = -1, py::arg("output") = 0)
        .def("path_json", [](PyEngine &e, size_t output) { return e.engine().path_json(output); },
             py::arg("output") = 0)
        .def("summary", [](PyEngine &e, size_t output) { return e.engine().summary(output); },
             py::arg("output") = 0,
             "One line on what the run did to that output's popped frames: shots, how much the window moved, its\n"
             "cuts, whom it followed with speakers=auto, the picked subject (the filter logs it at the end).")
        .def("popped_map", [](PyEngine &e) {
            const std::vector<float> &m = e.engine().popped_map();
            py::array_t<float> out({e.engine().map_height(), e.engine().map_width()});
            std::memcpy(out.mutable_data(), m.data(), m.size() * sizeof(float));
            return out;
        }, "The saliency map (map_h x map_w float32) of the most recently popped decision; needs keep_maps.")
        .def("draw_debug", &PyEngine::draw_debug, py::arg("decision"), py::arg("frame"))
        .def("render_padded", &PyEngine::render_padded, py::arg("decision"), py::arg("frame"),
             py::arg("output") = 0)
        .def("render_view", &PyEngine::render_view, py::arg("decision"), py::arg("frame"));
    def_subjects(m);
    def_sphere(m);
    def_audio(m);

    py::class_<PyRunner>(m, "SaliencyRunner")
        .def(py::init<const std::string &, const std::string &, int, const std::string &>(), py::arg("model") = "",
             py::arg("device") = "auto", py::arg("threads") = 0, py::arg("ort_library") = "")
        .def_property_readonly("input_size", [](PyRunner &r) {
            return py::make_tuple(r.model().input_height(), r.model().input_width());
        })
        .def_property_readonly("map_size", [](PyRunner &r) {
            return py::make_tuple(r.model().map_height(), r.model().map_width());
        })
        .def_property_readonly("provider", [](PyRunner &r) { return r.model().provider(); })
        // Why that provider (device=auto: what kept CUDA from running, e.g. "no GPU found (...)").
        .def_property_readonly("provider_reason", [](PyRunner &r) { return r.model().provider_reason(); })
        .def_property_readonly("metadata", [](PyRunner &r) { return r.model().metadata(); })
        .def_property_readonly("path", [](PyRunner &r) { return r.model().path(); })
        .def("predict", &PyRunner::predict, py::arg("frames"), py::arg("reset") = true);

    py::class_<PyShotDetector>(m, "ShotDetector")
        .def(py::init<double, double>(), py::arg("threshold") = kDefaultSceneThreshold, py::arg("fps") = 25.0)
        .def("push_rgb", &PyShotDetector::push_rgb, py::arg("frame"))
        .def("flush", &PyShotDetector::flush);

    py::class_<PyScheduleRecorder>(m, "ScheduleRecorder")
        .def(py::init<int, int, double, int, double>(), py::arg("width"), py::arg("height"), py::arg("fps"),
             py::arg("stride") = kDefaultStride, py::arg("scene_threshold") = kDefaultSceneThreshold)
        .def("push_rgb", &PyScheduleRecorder::push_rgb, py::arg("frame"))
        .def("push_yuv420p", &PyScheduleRecorder::push_yuv420p, py::arg("y"), py::arg("u"), py::arg("v"),
             py::arg("full_range") = false, py::arg("colorspace") = -1)
        .def("finish", &PyScheduleRecorder::finish);

    py::class_<FaceDetector>(m, "FaceDetector", "The core's face detector (YuNet, models/face-yunet.onnx).")
        .def(py::init([](const std::string &ort_library, const std::string &path) {
                 return nogil([&] { return std::make_unique<FaceDetector>(ort_library, path); });
             }), py::arg("ort_library") = "", py::arg("path") = "")
        .def_property_readonly("path", &FaceDetector::path)
        .def_property_readonly("any_size", &FaceDetector::any_size)
        .def("detect", [](FaceDetector &d, const U8Array &frame, int long_side, bool landmarks) {
                 if (frame.ndim() != 3 || frame.shape(2) != 3)
                     throw std::invalid_argument("frame must be an H x W x 3 uint8 RGB array");
                 const SalcropImage img = rgb_image(frame, int(frame.shape(1)), int(frame.shape(0)));
                 const std::vector<FaceDetection> dets = nogil([&] { return d.detect(img, long_side); });
                 py::list out;
                 for (const FaceDetection &f : dets) {
                     if (!landmarks) {
                         out.append(py::make_tuple(f.box.x, f.box.y, f.box.w, f.box.h, f.score));
                         continue;
                     }
                     py::object kps = py::none();
                     if (f.landmarks)
                         kps = py::cast(std::vector<float>(f.kps, f.kps + 10));
                     out.append(py::make_tuple(f.box.x, f.box.y, f.box.w, f.box.h, f.score, kps));
                 }
                 return out;
             }, py::arg("frame"), py::arg("long_side") = FaceDetector::kInput, py::arg("landmarks") = false,
             "faces in an RGB frame scaled to long_side on its long side: [(x, y, w, h, score)], best first; with "
             "landmarks=True a sixth item: the five landmarks (right eye, left eye, nose, right and left mouth "
             "corner) as 10 numbers, or None");
    m.def("face_model_path", &face_model_path);
    m.def("track_faces", &track_faces, py::arg("detections"), py::arg("fps"), py::arg("cuts") = std::vector<int64_t>{},
          py::arg("hold_frames") = 0,
          "Links per-frame detections (one list of (x, y, w, h, score) per frame, None where the detector did not\n"
          "run) into face tracks as the engine does: per frame [(track id, x, y, w, h, lost)].");
    m.def("follow_speakers", &follow_speakers_py, py::arg("boxes"), py::arg("speaking"), py::arg("width"),
          py::arg("height"), py::arg("fps"), py::arg("ratio") = "9:16", py::arg("ids") = std::vector<int>{},
          py::arg("pinned") = std::vector<int>{}, py::arg("ignored") = std::vector<int>{},
          py::arg("lookahead") = kDefaultLookahead, py::arg("rules") = "heard",
          "The speaker policy on plain arrays (speaker_policy.h): boxes N x T x 4 (x, y, w, h; NaN where the face\n"
          "is not seen), speaking N x T (0..1, or -1 unknown). Returns (speaker per frame, -1 none; the frames the\n"
          "camera cuts on; per frame the targets [(track id, lo, hi, weight)]), in the engine's chunks. rules:\n"
          "\"heard\" (scores with sound) or \"mouth\" (without sound, the mouth's alone: kMouthRules).");
    m.def("plan_path", &plan_path, py::arg("maps"), py::arg("cuts"), py::arg("width"), py::arg("height"),
          py::arg("fps"), py::arg("ratio") = "9:16", py::arg("mode") = "auto",
          py::arg("smoothing") = kDefaultSmoothing, py::arg("even") = true,
          py::arg("keyframes") = std::vector<std::tuple<int64_t, double, double>>{},
          py::arg("with_segments") = false, py::arg("lookahead") = kDefaultLookahead, py::arg("pad") = "none",
          py::arg("with_reasons") = false, py::arg("mass_value") = kMassValue,
          py::arg("subjects") = std::vector<std::pair<int64_t, py::array_t<double>>>{},
          py::arg("with_states") = false, py::arg("resume") = py::none(), py::arg("faces") = py::none(),
          py::arg("pinned") = std::vector<int>{}, py::arg("ignored") = std::vector<int>{},
          "Plans a clip's crop windows from its saliency maps: (windows T x 4, shots [(start, end, mode)]) and, "
          "with_segments, [(start, end, 'stationary'|'pan'|'ease')] too. keyframes: (frame, x, y), the window's "
          "centre in source pixels, pinned there. pad: 'none', 'blur' or 'black' (a padded window is wider than the "
          "ratio's; the letterbox is the renderer's). lookahead: seconds, in chunks as the streaming engine plans "
          "(0 = each shot at once). with_reasons: one more list, per shot {'reason': 'planned'|'hold', 'note', "
          "'mass', 'static_mass'} (the path's and the best static window's mean map mass; hold: a chunk fell back). mass_value: what a "
          "frame's whole map mass is worth in window lengths of motion (the planner's default; for measuring). subjects: "
          "picked subjects' tracks [(first_frame, N x 5 [x, y, w, h, lost])], kept in the window (planner.h, keep). "
          "with_states: (windows, shots, segments, states), states a (pos, mode, carry) per chunk; resume: one of "
          "them (one shot, no cuts): plan from that chunk on, frames before it get zero windows (the editor splices "
          "its earlier plan in). faces: [(track id, T x 5 [x, y, w, h, speaking])] over the clip (NaN where not seen, "
          "speaking -1 unknown): planned around who speaks as the engine with speakers=auto (speaker_plan.h), "
          "pinned ids followed whenever on screen, ignored ids never; with_states then returns a fifth list, per "
          "frame the face followed because it speaks (-1 none); no resume.");
}
