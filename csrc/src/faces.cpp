#include "faces.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "model.h"

namespace salcrop {

namespace {

constexpr int kStrides[3] = {8, 16, 32};

}  // namespace

std::string face_model_path()
{
    if (const char *env = std::getenv("SALCROP_FACE_MODEL"); env && *env)
        return env;
    std::string p = installed_model("face-yunet.onnx");
    if (p.empty())
        throw std::runtime_error("the face model face-yunet.onnx is not installed (beside the core, in share/salcrop "
                                 "or models/); set SALCROP_FACE_MODEL, or speakers=off");
    return p;
}

void decode_yunet(int stride, int width, int height, const float *cls, const float *obj, const float *bbox,
                  float min_score, std::vector<FaceDetection> *out, const float *kps)
{
    const int cols = width / stride, rows = height / stride;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            const size_t i = size_t(r) * cols + c;
            const float cl = std::clamp(cls[i], 0.0f, 1.0f), ob = std::clamp(obj[i], 0.0f, 1.0f);
            const float score = std::sqrt(cl * ob);
            if (!(score >= min_score))
                continue;
            const float *b = bbox + 4 * i;
            const double cx = (c + b[0]) * stride, cy = (r + b[1]) * stride;
            const double w = std::exp(double(b[2])) * stride, h = std::exp(double(b[3])) * stride;
            FaceDetection d;
            d.box = Box{cx - w / 2, cy - h / 2, w, h};
            d.score = score;
            if (kps) {
                const float *k = kps + 10 * i;
                for (int j = 0; j < 5; j++) {
                    d.kps[2 * j] = float((c + k[2 * j]) * stride);
                    d.kps[2 * j + 1] = float((r + k[2 * j + 1]) * stride);
                }
                d.landmarks = true;
            }
            out->push_back(d);
        }
    }
}

std::vector<FaceDetection> suppress(std::vector<FaceDetection> dets, float iou_max, size_t max_kept)
{
    std::stable_sort(dets.begin(), dets.end(),
                     [](const FaceDetection &a, const FaceDetection &b) { return a.score > b.score; });
    std::vector<FaceDetection> kept;
    for (const FaceDetection &d : dets) {
        if (kept.size() >= max_kept)
            break;
        bool overlaps = false;
        for (const FaceDetection &k : kept)
            if (iou(d.box, k.box) > iou_max) {
                overlaps = true;
                break;
            }
        if (!overlaps)
            kept.push_back(d);
    }
    return kept;
}

FaceDetector::FaceDetector(const std::string &ort_library, const std::string &path)
{
    ort_init(ort_library);
    path_ = path.empty() ? face_model_path() : path;
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(1);
    so.SetInterOpNumThreads(1);
    so.AddConfigEntry("session.intra_op.allow_spinning", "0");
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    try {
        session_ = std::make_unique<Ort::Session>(ort_env(), path_.c_str(), so);
    } catch (const Ort::Exception &e) {
        throw std::runtime_error("face model " + path_ + " cannot be loaded by ONNX Runtime: " + e.what());
    }
    Ort::AllocatorWithDefaultOptions alloc;
    if (session_->GetInputCount() != 1)
        throw std::runtime_error("face model " + path_ + ": expected one input (YuNet 2023mar)");
    in_name_ = session_->GetInputNameAllocated(0, alloc).get();
    const std::vector<int64_t> shape = session_->GetInputTypeInfo(0).GetTensorTypeAndShapeInfo().GetShape();
    if (shape.size() != 4 || shape[1] != 3 || (shape[2] > 0 && shape[2] != kInput) ||
        (shape[3] > 0 && shape[3] != kInput))
        throw std::runtime_error("face model " + path_ + ": input is not [1,3,640,640] or [1,3,h,w] (YuNet 2023mar)");
    any_size_ = shape[2] <= 0 && shape[3] <= 0;
    std::vector<std::string> have;
    for (size_t i = 0; i < session_->GetOutputCount(); i++)
        have.push_back(session_->GetOutputNameAllocated(i, alloc).get());
    for (const char *kind : {"cls", "obj", "bbox"})
        for (int s : kStrides) {
            const std::string name = std::string(kind) + "_" + std::to_string(s);
            if (std::find(have.begin(), have.end(), name) == have.end())
                throw std::runtime_error("face model " + path_ + ": output '" + name + "' is missing (YuNet 2023mar)");
            out_names_.push_back(name);
        }
    // The landmarks (optional: a model without them gives boxes alone, and the scorer its fixed regions).
    with_kps_ = true;
    for (int s : kStrides)
        with_kps_ = with_kps_ && std::find(have.begin(), have.end(), "kps_" + std::to_string(s)) != have.end();
    if (with_kps_)
        for (int s : kStrides)
            out_names_.push_back("kps_" + std::to_string(s));
}

void FaceDetector::prepare(const SalcropImage &img, int long_side)
{
    if (!any_size_)
        long_side = kInput;  // the original file's fixed 640x640
    if (long_side < kAlign || long_side > kInput || long_side % kAlign)
        throw std::invalid_argument("face detector: the input's long side must be a multiple of 32 in 32..640, got " +
                                    std::to_string(long_side));
    const bool same_size = fit_ && fit_->src_w == img.width && fit_->src_h == img.height;
    if (!same_size || fit_->long_side != long_side) {
        fit_ = nullptr;
        for (Fit &f : fits_)
            if (f.src_w == img.width && f.src_h == img.height && f.long_side == long_side)
                fit_ = &f;
        if (!fit_) {
            if (!same_size)
                fits_.clear();  // another source size: the older ones are not used again
            Fit f;
            f.src_w = img.width;
            f.src_h = img.height;
            f.long_side = long_side;
            const double s = double(long_side) / std::max(img.width, img.height);
            f.fit_w = std::clamp(int(std::lround(img.width * s)), 1, long_side);
            f.fit_h = std::clamp(int(std::lround(img.height * s)), 1, long_side);
            // The whole graph is convolutional: any multiple of the largest stride; the original file only 640x640.
            f.in_w = any_size_ ? (f.fit_w + kAlign - 1) / kAlign * kAlign : kInput;
            f.in_h = any_size_ ? (f.fit_h + kAlign - 1) / kAlign * kAlign : kInput;
            f.rs = std::make_unique<Resampler>(f.fit_w, f.fit_h);
            fits_.push_back(std::move(f));
            fit_ = &fits_.back();
        }
        // The padding stays black: the picture is written into the top-left corner only.
        input_.assign(size_t(3) * fit_->in_w * fit_->in_h, 0.0f);
    }
    const Fit &f = *fit_;
    // The graph wants BGR planes, 0..255, the picture in the top-left corner.
    const size_t plane = size_t(f.in_w) * f.in_h, fit = size_t(f.fit_w) * f.fit_h;
    if (f.fit_w == f.in_w) {
        // The picture's rows are the input's (a landscape frame: only rows of black below it): written in place.
        float *const planes[3] = {input_.data() + 2 * plane, input_.data() + plane, input_.data()};
        image_to_rgb_planes(img, *f.rs, 1.0f, planes);
        return;
    }
    rgb_.resize(size_t(3) * fit);
    image_to_rgb_planes(img, *f.rs, 1.0f, rgb_.data());
    for (int c = 0; c < 3; c++) {
        const float *src = rgb_.data() + (2 - c) * fit;
        float *dst = input_.data() + c * plane;
        for (int y = 0; y < f.fit_h; y++)
            std::copy_n(src + size_t(y) * f.fit_w, f.fit_w, dst + size_t(y) * f.in_w);
    }
}

std::vector<FaceDetection> FaceDetector::detect()
{
    if (!fit_)
        throw std::logic_error("FaceDetector::detect before prepare");
    const Fit &f = *fit_;
    Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    const int64_t shape[4] = {1, 3, f.in_h, f.in_w};
    Ort::Value input = Ort::Value::CreateTensor<float>(mem, input_.data(), input_.size(), shape, 4);
    const char *in_names[1] = {in_name_.c_str()};
    std::vector<const char *> out_names;
    for (const std::string &n : out_names_)
        out_names.push_back(n.c_str());
    std::vector<Ort::Value> outs =
        session_->Run(Ort::RunOptions{nullptr}, in_names, &input, 1, out_names.data(), out_names.size());
    std::vector<FaceDetection> raw;
    for (int k = 0; k < 3; k++) {
        const size_t cells = size_t(f.in_w / kStrides[k]) * size_t(f.in_h / kStrides[k]);
        for (int j = 0; j < 3; j++) {
            const size_t want = (j == 2 ? 4 : 1) * cells;
            if (outs[size_t(j * 3 + k)].GetTensorTypeAndShapeInfo().GetElementCount() != want)
                throw std::runtime_error("face model " + path_ + ": output '" + out_names_[size_t(j * 3 + k)] +
                                         "' has an unexpected size");
        }
        const float *kps = nullptr;
        if (with_kps_) {
            if (outs[size_t(9 + k)].GetTensorTypeAndShapeInfo().GetElementCount() != 10 * cells)
                throw std::runtime_error("face model " + path_ + ": output '" + out_names_[size_t(9 + k)] +
                                         "' has an unexpected size");
            kps = outs[size_t(9 + k)].GetTensorData<float>();
        }
        decode_yunet(kStrides[k], f.in_w, f.in_h, outs[size_t(k)].GetTensorData<float>(),
                     outs[size_t(3 + k)].GetTensorData<float>(), outs[size_t(6 + k)].GetTensorData<float>(),
                     kMinScore, &raw, kps);
    }
    std::vector<FaceDetection> kept = suppress(std::move(raw), kNmsIou, kMaxFaces);
    // Back to source pixels, clipped to the picture (the letterbox's black is not the frame).
    const int src_w = f.src_w, src_h = f.src_h;
    const double sx = double(src_w) / f.fit_w, sy = double(src_h) / f.fit_h;
    std::vector<FaceDetection> out;
    for (FaceDetection d : kept) {
        const double x0 = std::clamp(d.box.x * sx, 0.0, double(src_w)), y0 = std::clamp(d.box.y * sy, 0.0, double(src_h));
        const double x1 = std::clamp((d.box.x + d.box.w) * sx, 0.0, double(src_w));
        const double y1 = std::clamp((d.box.y + d.box.h) * sy, 0.0, double(src_h));
        d.box = Box{x0, y0, x1 - x0, y1 - y0};
        for (int j = 0; j < 5; j++) {
            d.kps[2 * j] = float(d.kps[2 * j] * sx);
            d.kps[2 * j + 1] = float(d.kps[2 * j + 1] * sy);
        }
        if (d.box.w >= 2 && d.box.h >= 2)
            out.push_back(d);
    }
    return out;
}

Box face_crop_square(int width, int height, const Box &box)
{
    // The square around the box's centre, inside the frame (shifted, then shrunk if the frame is smaller).
    double side = std::max(box.w, box.h);
    side = std::clamp(side, 2.0, double(std::min(width, height)));
    const double x0 = std::clamp(box.cx() - side / 2, 0.0, width - side);
    const double y0 = std::clamp(box.cy() - side / 2, 0.0, height - side);
    return Box{x0, y0, side, side};
}

std::vector<uint8_t> face_crop(const SalcropImage &img, const Box &box, int size)
{
    const Components comps = split_components(img.format, img.width, img.height, img.data, img.linesize);
    const Box sq = face_crop_square(img.width, img.height, box);
    const double side = sq.w, x0 = sq.x, y0 = sq.y;
    std::vector<float> planes[3];
    const int n = comps.yuv ? 1 : comps.count;
    for (int k = 0; k < n; k++) {
        const Component &c = comps.c[k];
        // Chroma of subsampled formats is never read (grey is luma); RGB components are full size.
        const double fx = double(c.width) / img.width, fy = double(c.height) / img.height;
        const int cx0 = std::clamp(int(std::floor(x0 * fx)), 0, c.width - 1);
        const int cy0 = std::clamp(int(std::floor(y0 * fy)), 0, c.height - 1);
        const int cw = std::clamp(int(std::lround(side * fx)), 1, c.width - cx0);
        const int ch = std::clamp(int(std::lround(side * fy)), 1, c.height - cy0);
        Component sub = c;
        sub.data = c.data + size_t(cy0) * c.linesize + size_t(cx0) * c.step;
        sub.width = cw;
        sub.height = ch;
        Resampler rs(size, size);
        planes[k].resize(size_t(size) * size);
        rs.resample(sub, planes[k].data());
    }
    std::vector<uint8_t> grey(size_t(size) * size);
    for (size_t i = 0; i < grey.size(); i++) {
        const float v = n == 1 ? planes[0][i] : 0.299f * planes[0][i] + 0.587f * planes[1][i] + 0.114f * planes[2][i];
        grey[i] = uint8_t(std::min(255.0f, std::max(0.0f, v) + 0.5f));
    }
    return grey;
}

FaceTracker::FaceTracker(double fps, int hold_frames)
    : fps_(fps), hold_frames_(std::max(1, hold_frames)),
      lost_frames_(std::max(hold_frames_ + 1, int(std::lround(kLostSeconds * fps))))
{
}

void FaceTracker::new_shot(int shot)
{
    shot_ = shot;
    open_.clear();
}

std::vector<int> FaceTracker::add_frame(TrackSet &set, int64_t frame, const std::vector<FaceDetection> *dets)
{
    std::vector<int> ids;
    // Tracks lost for too long end (they get no more points).
    open_.erase(std::remove_if(open_.begin(), open_.end(),
                               [&](const Open &o) { return frame - o.last_seen > lost_frames_ || !set.find(o.id); }),
                open_.end());
    // Every open track gets a point on this frame: its last box, held or lost.
    for (const Open &o : open_) {
        Track *t = set.find(o.id);
        TrackPoint p = t->points.back();
        p.lost = frame - o.last_seen > hold_frames_;
        p.speaking = kSpeakingUnknown;
        if (t->end() == frame)
            t->points.push_back(p);
    }
    if (!dets)
        return ids;
    ids.assign(dets->size(), -1);
    // Greedy matching, best pair first: IoU, else centre distance in box sizes.
    struct Pair {
        double cost;
        size_t det, open;
    };
    std::vector<Pair> pairs;
    for (size_t d = 0; d < dets->size(); d++) {
        const Box &b = (*dets)[d].box;
        for (size_t o = 0; o < open_.size(); o++) {
            const Track *t = set.find(open_[o].id);
            const Box &last = t->at(open_[o].last_seen)->box;
            const double ov = iou(b, last);
            const double size = std::max(1.0, std::sqrt(last.w * last.h));
            const double shift = std::hypot(b.cx() - last.cx(), b.cy() - last.cy()) / size;
            const double scale = std::max(b.w, last.w) / std::max(1.0, std::min(b.w, last.w));
            if (ov >= kMinIou)
                pairs.push_back(Pair{1.0 - ov, d, o});
            else if (shift <= kMaxCentreShift && scale < 1.6)
                pairs.push_back(Pair{1.0 + shift, d, o});
        }
    }
    std::sort(pairs.begin(), pairs.end(), [](const Pair &a, const Pair &b) {
        return a.cost < b.cost || (a.cost == b.cost && (a.det < b.det || (a.det == b.det && a.open < b.open)));
    });
    std::vector<bool> open_used(open_.size(), false);
    for (const Pair &p : pairs) {
        if (ids[p.det] >= 0 || open_used[p.open])
            continue;
        open_used[p.open] = true;
        Open &o = open_[p.open];
        ids[p.det] = o.id;
        Track *t = set.find(o.id);
        const FaceDetection &d = (*dets)[p.det];
        // The frames since its previous detection: interpolated between the two boxes.
        const Box a = t->at(o.last_seen)->box, b = d.box;
        const float sa = t->at(o.last_seen)->score;
        for (int64_t f = o.last_seen + 1; f <= frame; f++) {
            const double u = double(f - o.last_seen) / double(frame - o.last_seen);
            TrackPoint *pt = t->at(f);
            pt->box = Box{a.x + u * (b.x - a.x), a.y + u * (b.y - a.y), a.w + u * (b.w - a.w), a.h + u * (b.h - a.h)};
            pt->score = float(sa + u * (d.score - sa));
            pt->lost = false;
        }
        o.last_seen = frame;
    }
    for (size_t d = 0; d < dets->size(); d++) {
        if (ids[d] >= 0)
            continue;
        Track &t = set.add(TrackKind::Face, shot_, frame);
        TrackPoint p;
        p.box = (*dets)[d].box;
        p.score = (*dets)[d].score;
        t.points.push_back(p);
        ids[d] = t.id;
        open_.push_back(Open{t.id, frame});
    }
    return ids;
}

}  // namespace salcrop
