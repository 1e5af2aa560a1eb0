#include "face_worker.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "image.h"

namespace salcrop {

namespace {

struct PlaneShape {
    int count = 0;
    int row_bytes[4] = {0, 0, 0, 0};
    int rows[4] = {0, 0, 0, 0};
};

// The bytes of each plane's rows that hold pixels (image.cpp's split_components for the same formats).
PlaneShape plane_shape(SalcropPixelFormat format, int w, int h)
{
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    switch (format) {
    case SALCROP_PIX_YUV420P:
        return PlaneShape{3, {w, cw, cw, 0}, {h, ch, ch, 0}};
    case SALCROP_PIX_YUV422P:
        return PlaneShape{3, {w, cw, cw, 0}, {h, h, h, 0}};
    case SALCROP_PIX_YUV444P:
        return PlaneShape{3, {w, w, w, 0}, {h, h, h, 0}};
    case SALCROP_PIX_NV12:
        return PlaneShape{2, {w, 2 * cw, 0, 0}, {h, ch, 0, 0}};
    case SALCROP_PIX_GRAY8:
        return PlaneShape{1, {w, 0, 0, 0}, {h, 0, 0, 0}};
    case SALCROP_PIX_RGB24:
    case SALCROP_PIX_BGR24:
        return PlaneShape{1, {3 * w, 0, 0, 0}, {h, 0, 0, 0}};
    case SALCROP_PIX_RGBA:
    case SALCROP_PIX_BGRA:
        return PlaneShape{1, {4 * w, 0, 0, 0}, {h, 0, 0, 0}};
    default:
        throw std::invalid_argument("face worker: unknown pixel format " + std::to_string(int(format)));
    }
}

bool is_yuv(SalcropPixelFormat format)
{
    return format == SALCROP_PIX_YUV420P || format == SALCROP_PIX_YUV422P || format == SALCROP_PIX_YUV444P ||
           format == SALCROP_PIX_NV12 || format == SALCROP_PIX_GRAY8;
}

}  // namespace

FaceWorker::FaceWorker(FaceDetector &detector, size_t max_jobs, bool synchronous)
    : detector_(detector), max_jobs_(std::max<size_t>(1, max_jobs)), synchronous_(synchronous)
{
    if (!synchronous_)
        thread_ = std::thread([this] { loop(); });
}

FaceWorker::~FaceWorker()
{
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    work_cv_.notify_all();
    done_cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

int64_t FaceWorker::copy_bytes(const SalcropImage &img)
{
    const PlaneShape s = plane_shape(img.format, img.width, img.height);
    int64_t bytes = 0;
    for (int i = 0; i < s.count; i++)
        bytes += int64_t(s.row_bytes[i]) * s.rows[i];
    return bytes;
}

void FaceWorker::copy_into(const SalcropImage &img, bool all_planes, Job &job)
{
    // A crop reads the luma of a YUV picture only (face_crop): the luma alone, as a grey picture, cuts the same crop.
    const bool luma_only = !all_planes && is_yuv(img.format);
    const PlaneShape s = plane_shape(luma_only ? SALCROP_PIX_GRAY8 : img.format, img.width, img.height);
    size_t bytes = 0;
    for (int i = 0; i < s.count; i++)
        bytes += size_t(s.row_bytes[i]) * size_t(s.rows[i]);
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!spare_.empty()) {
            job.pixels = std::move(spare_.back());
            spare_.pop_back();
        }
    }
    job.pixels.resize(bytes);
    job.img = img;
    job.img.format = luma_only ? SALCROP_PIX_GRAY8 : img.format;
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        job.img.data[i] = nullptr;
        job.img.linesize[i] = 0;
    }
    for (int i = 0; i < s.count; i++) {
        if (!img.data[i] || img.linesize[i] < s.row_bytes[i])
            throw std::invalid_argument("face worker: image plane " + std::to_string(i) + " is missing or too small");
        uint8_t *dst = job.pixels.data() + at;
        for (int y = 0; y < s.rows[i]; y++)
            std::memcpy(dst + size_t(y) * s.row_bytes[i], img.data[i] + size_t(y) * img.linesize[i],
                        size_t(s.row_bytes[i]));
        job.img.data[i] = dst;
        job.img.linesize[i] = s.row_bytes[i];
        at += size_t(s.row_bytes[i]) * size_t(s.rows[i]);
    }
}

void FaceWorker::submit(const SalcropImage &img, int64_t frame, double t, bool detect, bool cut, bool must_detect)
{
    Job job;
    job.frame = frame;
    job.t = t;
    job.detect = detect;
    job.cut = cut;
    job.must_detect = must_detect;
    bool inline_run = synchronous_;
    if (!inline_run && !detect) {
        // Only crops, and nothing queued or running: the latest boxes are known, so they are cut here from the
        // frame at hand (a copy of its luma would cost more than the crops). The worker is idle and only this
        // thread submits, so nothing else touches latest_dets_ meanwhile; the result takes its place in order.
        std::lock_guard<std::mutex> lock(mu_);
        inline_run = next_ == jobs_.size();
    }
    if (inline_run) {
        // The frame is at hand: read in place, as push() did before the worker.
        job.img = img;
        try {
            run(job);
        } catch (...) {
            job.error = std::current_exception();
        }
        job.done = true;
        job.img = SalcropImage{};
        std::lock_guard<std::mutex> lock(mu_);
        jobs_.push_back(std::move(job));
        next_ = jobs_.size();
        return;
    }
    {
        // Bounded memory and latency: past max_jobs waiting copies, wait for the oldest to run.
        std::unique_lock<std::mutex> lock(mu_);
        done_cv_.wait(lock, [this] { return waiting_ < max_jobs_ || stop_; });
    }
    copy_into(img, detect, job);
    {
        std::lock_guard<std::mutex> lock(mu_);
        jobs_.push_back(std::move(job));
        waiting_++;
    }
    work_cv_.notify_one();
}

bool FaceWorker::no_faces() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return next_ == jobs_.size() && latest_empty_;
}

FaceWorker::Take FaceWorker::take(int64_t upto, Result &out, bool wait)
{
    std::unique_lock<std::mutex> lock(mu_);
    if (jobs_.empty() || jobs_.front().frame > upto)
        return Take::None;
    std::optional<Job> job = take_oldest(lock, jobs_, next_, done_cv_, wait);
    if (!job)
        return Take::NotYet;
    out = std::move(job->result);
    return Take::Took;
}

void FaceWorker::loop()
{
    for (;;) {
        Job *job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            work_cv_.wait(lock, [this] { return stop_ || next_ < jobs_.size(); });
            if (stop_)
                return;
            job = &jobs_[next_];  // stays valid: only finished jobs are erased, from the front
        }
        try {
            run(*job);
        } catch (...) {
            job->error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(mu_);
            job->done = true;
            job->img = SalcropImage{};
            spare_.push_back(std::move(job->pixels));
            job->pixels = {};
            next_++;
            waiting_--;
            if (job->detect && !job->error)
                latest_empty_ = latest_dets_.empty();
        }
        done_cv_.notify_all();
    }
}

void FaceWorker::run(Job &job)
{
    Result &r = job.result;
    r.frame = job.frame;
    if (job.detect && !job.must_detect && still_ && skips_ < (latest_dets_.empty() ? kEmptySkips : kStillSkips)) {
        // The faces kept still at the latest detection, or there were none twice: this one is let go (the crops
        // keep the held boxes).
        job.detect = false;
        r.let_go = true;
        skips_++;
    }
    if (job.detect) {
        std::vector<FaceDetection> dets = detector_.detect(job.img);
        r.detected = true;
        r.dets = dets;
        // The crops' boxes stay where they were while the detector's box only jitters around the same face.
        size_t steady = 0;
        for (FaceDetection &d : dets)
            for (const FaceDetection &prev : latest_dets_) {
                const double size = std::max(1.0, std::max(prev.box.w, prev.box.h));
                const double shift = std::hypot(d.box.cx() - prev.box.cx(), d.box.cy() - prev.box.cy());
                const double grow = std::abs(std::max(d.box.w, d.box.h) - size);
                if (shift < kCropHold * size && grow < kCropHold * size) {
                    if (shift < kStillShare * size && grow < kStillShare * size)
                        steady++;
                    d = prev;  // its box and landmarks (the scorer's mouth region sits on them)
                    break;
                }
            }
        // Still: every face steady, and as many as before (none came or went; no face at all twice is still too).
        still_ = steady == dets.size() && dets.size() == latest_dets_.size() && latest_frame_ >= 0;
        skips_ = 0;
        latest_dets_ = std::move(dets);
        latest_frame_ = job.frame;
        if (synchronous_) {
            std::lock_guard<std::mutex> lock(mu_);
            latest_empty_ = latest_dets_.empty();
        }
    }
    if (job.cut)
        for (size_t j = 0; j < latest_dets_.size(); j++) {
            const FaceDetection &d = latest_dets_[j];
            FaceCrop crop{job.frame, job.t, face_crop(job.img, d.box, kFaceCropSize)};
            if (d.landmarks)
                set_crop_landmarks(crop, d.kps, face_crop_square(job.img.width, job.img.height, d.box));
            r.crops.push_back(Crop{latest_frame_, j, std::move(crop)});
        }
}

}  // namespace salcrop
