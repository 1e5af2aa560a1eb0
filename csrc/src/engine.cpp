#include "engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "debug_draw.h"
#include "memory_limit.h"
#include "keyframes.h"
#include "path_json.h"

namespace salcrop {

namespace {

// A decision handed back by the caller (draw_debug, render_padded) is only trusted once its window is a
// non-empty region inside the frame: the rendering code indexes the caller's picture with it.
void check_window(const Window &w, int width, int height, const char *what)
{
    if (w.w < 1 || w.h < 1 || w.x < 0 || w.y < 0 || w.x > width - w.w || w.y > height - w.h)
        throw std::invalid_argument(std::string(what) + ": window " + std::to_string(w.w) + "x" +
                                    std::to_string(w.h) + "+" + std::to_string(w.x) + "+" + std::to_string(w.y) +
                                    " is not inside the " + std::to_string(width) + "x" + std::to_string(height) +
                                    " frame");
}

}  // namespace

Engine::Engine(const EngineOptions &o)
    : opt_(o), chk_(validate(o)), geo_(make_geometry(o.width, o.height, chk_.ratio, o.even)),
      detector_(o.scene_threshold, o.fps), clock_(o.stride, o.fps)
{
    if (replaying() && !opt_.replay.front().cut)
        throw std::invalid_argument("replay: a segment must start with a shot");
    if (replaying() && opt_.replay_end < int64_t(opt_.replay.size()))
        throw std::invalid_argument("replay: replay_end must be at least the segment's frame count");
    params_.fps = o.fps;
    params_.smoothing = o.smoothing;
    params_.forced = chk_.forced;
    params_.mode = chk_.mode;
    params_.pad = chk_.pad;
    params_.even = o.even;
    if (!o.keyframes.empty())
        for (const Keyframe &k : parse_keyframes(o.keyframes, o.fps))
            if (!pins_.emplace(k.frame, keyframe_position(geo_, k)).second)
                throw std::invalid_argument("keyframes: two keyframes on frame " + std::to_string(k.frame));

    model_ = std::make_unique<SaliencyModel>(o.model, o.device, o.threads, o.ort_library);
    thumbs_ = std::make_unique<Thumbnailer>(o.width, o.height);
    input_rs_ = std::make_unique<Resampler>(model_->input_width(), model_->input_height());
    bins_ = profile_bins(geo_, model_->map_height(), model_->map_width());
    lookahead_frames_ = std::max(2, int(std::lround(o.lookahead * o.fps)));
    // Undecided frames: up to a lookahead of known frames, plus the frames after the last sample (< max_idle)
    // and up to kWorkerSlack samples the model's worker may run behind before push() waits for it, plus the
    // detector's verdict lag and the frame being pushed.
    max_delay_ = lookahead_frames_ + clock_.max_idle() * (1 + kWorkerSlack) + detector_.lag() + 1;

    std::ostringstream d;
    d << "salcrop: model " << model_->path() << " (input " << model_->input_width() << "x" << model_->input_height()
      << ", map " << model_->map_width() << "x" << model_->map_height() << ") on " << model_->provider()
      << " (" << model_->provider_reason() << "; " << model_->batching_note() << ") via " << ort_library_path() << "; source " << o.width << "x" << o.height << " -> window " << geo_.win_w
      << "x" << geo_.win_h << " (ratio " << chk_.ratio.num << ":" << chk_.ratio.den << ")";
    if (geo_.range() <= 0)
        d << ", the window is the whole frame: no camera movement";
    else if (geo_.vertical)
        d << ", input narrower than the target: the window spans the full width and moves vertically";
    else
        d << ", the window spans the full height and moves horizontally";
    d << "; stride " << o.stride << ", lookahead " << o.lookahead << " s (" << lookahead_frames_
      << " frames), scene_threshold " << o.scene_threshold << (o.scene_threshold > 0 ? "" : " (no shot detection)")
      << ", smoothing " << o.smoothing << ", mode " << o.mode << ", pad " << o.pad;
    if (!pins_.empty())
        d << ", " << pins_.size() << " keyframes";
    describe_ = d.str();

    map_buf_.assign(model_->map_floats(), 0.0f);
    worker_ = std::make_unique<SaliencyWorker>(*model_);
}

void Engine::check_buffer(int64_t bytes_per_frame) const
{
    if (bytes_per_frame <= 0)
        throw std::invalid_argument("check_buffer: bytes per frame must be positive, got " +
                                    std::to_string(bytes_per_frame));
    const MemoryLimit limit = memory_limit();
    const double worst = double(max_delay_) * double(bytes_per_frame);
    if (limit.bytes <= 0 || worst <= double(limit.bytes))
        return;
    auto size = [](double bytes) {
        char buf[32];
        if (bytes >= 1e9)
            std::snprintf(buf, sizeof(buf), "%.1f GB", bytes / 1e9);
        else
            std::snprintf(buf, sizeof(buf), bytes >= 1e7 ? "%.0f MB" : "%.1f MB", bytes / 1e6);
        return std::string(buf);
    };
    std::ostringstream m;
    m << "salcrop keeps up to " << max_delay_ << " frames awaiting their crop decision (lookahead " << opt_.lookahead
      << " s, plus up to " << ShotDetector::kMaxFadeSeconds
      << " s of an open fade through black and the network's sampling gaps): " << max_delay_
      << " x " << size(double(bytes_per_frame)) << " = " << size(worst) << " of " << opt_.width << "x" << opt_.height
      << " pictures, more than " << size(double(limit.bytes)) << " (" << limit.source << "); ";
    // The rest of max_delay does not depend on the lookahead: what is left for it, in tenths of a second.
    const double frames_left = double(limit.bytes / bytes_per_frame) - double(max_delay_ - lookahead_frames_);
    const double fits = std::floor((frames_left - 0.5) / opt_.fps * 10.0) / 10.0;  // lookahead frames round
    if (fits >= 0.1 && frames_left >= 2)
        m << "lookahead=" << fits << " fits, or scale the input down first";
    else
        m << "scale the input down first (even the shortest lookahead does not fit)";
    throw std::invalid_argument(m.str());
}

void Engine::output_size(int *w, int *h) const
{
    *w = geo_.win_w;
    *h = geo_.win_h;
}

void Engine::push(const SalcropImage &img, double t)
{
    if (flushed_)
        throw std::runtime_error("push after flush: the stream has ended");
    check_image(img, opt_.width, opt_.height);
    Pending p{pushed_++, t, {}, false};
    std::vector<ShotDetector::Verdict> verdicts;
    bool may_start_shot;
    // Whether the network may run on this frame is settled now, while its pixels are at hand: at the sampling
    // rate (SampleClock), and on the first frame of every shot, which the detector confirms only frames later
    // but can only fall on a frame it flags now. A replayed segment is told both by the whole run's schedule.
    if (replaying()) {
        if (p.index >= int64_t(opt_.replay.size()))
            throw std::runtime_error("replay: frame " + std::to_string(p.index) + " is past the segment's " +
                                     std::to_string(opt_.replay.size()) + " frames");
        p.rate_sample = opt_.replay[size_t(p.index)].rate_sample;
        may_start_shot = opt_.replay[size_t(p.index)].cut;
        verdicts = replay_verdicts(p.index);
    } else {
        verdicts = detector_.push(thumbs_->make(img));
        p.rate_sample = clock_.rate_sample(p.index, detector_.newest_change());
        may_start_shot = detector_.newest_may_start_shot();
    }
    if (p.rate_sample || may_start_shot) {
        // Kept as bytes until the verdict (a quarter of the floats; the rounding, under half a grey level,
        // is below what the network sees in 8-bit video anyway). Buffers are recycled: a fresh 67 KB
        // allocation per sample costs page faults.
        if (!spare_inputs_.empty()) {
            p.input = std::move(spare_inputs_.back());
            spare_inputs_.pop_back();
        }
        p.input.resize(model_->frame_floats());
        scratch_.resize(model_->frame_floats());
        image_to_rgb_planes(img, *input_rs_, 1.0f / 255.0f, scratch_.data());
        for (size_t k = 0; k < scratch_.size(); k++)  // clamped to [0, 1]: +0.5 and truncation round
            p.input[k] = uint8_t(scratch_[k] * 255.0f + 0.5f);
    }
    pending_.push_back(std::move(p));
    for (const auto &v : verdicts)
        on_verdict(v);
    steps_.push_back(Step{Step::Plan, 0, 0, false});
    run_steps(false);
    // The model runs behind; past max_delay the caller waits for it, so the bound holds whatever the timing.
    while (pushed_ - decided_ > max_delay_ && !steps_.empty())
        run_steps(true, 1);
}

void Engine::flush()
{
    if (flushed_)
        return;
    if (replaying()) {
        // The whole run went on pushing the next segment's frames: its verdicts on this segment's last frames
        // came with those pushes, each followed by a planning step, until the one that closed the shot.
        if (pushed_ != int64_t(opt_.replay.size()))
            throw std::runtime_error("replay: the segment has " + std::to_string(opt_.replay.size()) +
                                     " frames, " + std::to_string(pushed_) + " were pushed");
        for (int64_t release = pushed_;; release++) {
            for (const auto &v : replay_verdicts(release))
                on_verdict(v);
            if (release >= opt_.replay_end)
                break;
            steps_.push_back(Step{Step::Plan, 0, 0, false});
        }
    } else {
        for (const auto &v : detector_.flush())
            on_verdict(v);
    }
    finish_shot();
    flushed_ = true;
    run_steps(true);
}

std::vector<ShotDetector::Verdict> Engine::replay_verdicts(int64_t release)
{
    std::vector<ShotDetector::Verdict> out;
    const bool last = release >= opt_.replay_end;  // everything left (the end of the segment)
    while (released_ < pushed_ && (last || opt_.replay[size_t(released_)].release <= release)) {
        out.push_back(ShotDetector::Verdict{released_, opt_.replay[size_t(released_)].cut});
        released_++;
    }
    return out;
}

void Engine::on_verdict(const ShotDetector::Verdict &v)
{
    if (pending_.empty() || pending_.front().index != v.frame)
        throw std::logic_error("shot detector verdict out of order");
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    const bool new_shot = v.frame == 0 || v.cut;
    if (new_shot) {
        finish_shot();
        steps_.push_back(Step{Step::NewShot, 0, 0, false});
    }
    steps_.push_back(Step{Step::AddFrame, p.index, p.t, false});
    shot_open_ = true;
    if (new_shot || p.rate_sample) {
        if (p.input.empty())
            throw std::logic_error("shot detector cut on frame " + std::to_string(v.frame) +
                                   ", which it did not flag when it was pushed");
        worker_->submit(p.input, new_shot);
        // Frames between the shot's previous sample and this one are interpolated linearly.
        steps_.push_back(Step{Step::Sample, v.frame, 0, !new_shot});
    }
    if (!p.input.empty())
        spare_inputs_.push_back(std::move(p.input));
}

void Engine::apply_sample(int64_t index, bool interp)
{
    std::vector<float> profile(bins_);
    map_to_profile(geo_, map_buf_.data(), model_->map_height(), model_->map_width(), profile.data());
    for (Frame &f : frames_) {
        if (f.known || f.index > index)
            continue;
        if (f.index == index || !interp) {
            f.profile = profile;
            if (opt_.keep_maps)
                f.map = map_buf_;
        } else {
            const float a = float(f.index - last_sample_) / float(index - last_sample_);
            f.profile.resize(bins_);
            for (int k = 0; k < bins_; k++)
                f.profile[k] = (1 - a) * last_profile_[k] + a * profile[k];
            if (opt_.keep_maps) {
                f.map.resize(map_buf_.size());
                for (size_t k = 0; k < map_buf_.size(); k++)
                    f.map[k] = (1 - a) * last_map_[k] + a * map_buf_[k];
            }
        }
        f.known = true;
    }
    last_sample_ = index;
    last_profile_ = std::move(profile);
    if (opt_.keep_maps)
        last_map_ = map_buf_;
}

void Engine::run_steps(bool wait, size_t max_samples)
{
    size_t samples = 0;
    while (!steps_.empty()) {
        const Step s = steps_.front();
        switch (s.kind) {
        case Step::Sample:
            if (samples == max_samples || !worker_->take(map_buf_, wait))
                return;
            samples++;
            apply_sample(s.frame, s.interp);
            break;
        case Step::NewShot:
            shot_++;
            carry_ = Carry{};
            break;
        case Step::AddFrame: {
            Frame f;
            f.index = s.frame;
            f.t = s.t;
            frames_.push_back(std::move(f));
            break;
        }
        case Step::Plan:
            plan_known(false);
            break;
        case Step::PlanShot:
            hold_tail();
            plan_known(true);
            break;
        }
        steps_.pop_front();
    }
}

void Engine::finish_shot()
{
    if (!shot_open_)
        return;
    steps_.push_back(Step{Step::PlanShot, 0, 0, false});
    shot_open_ = false;
}

void Engine::hold_tail()
{
    // The frames after a shot's last sample keep its map. They changed little since (under kChangeToSample,
    // or fewer than `stride` frames): the reason the network did not run on them.
    for (Frame &f : frames_) {
        if (f.known)
            continue;
        f.profile = last_profile_;
        if (opt_.keep_maps)
            f.map = last_map_;
        f.known = true;
    }
}

void Engine::plan_known(bool whole_shot)
{
    for (;;) {
        size_t known = 0;
        while (known < frames_.size() && frames_[known].known)
            known++;
        if (known == 0)
            return;
        if (!whole_shot && known < size_t(lookahead_frames_))
            return;
        std::vector<const float *> prof;
        std::vector<double> pins;
        for (size_t k = 0; k < known; k++) {
            prof.push_back(frames_[k].profile.data());
            auto pin = pins_.find(frames_[k].index);
            if (pin != pins_.end()) {
                pins.resize(known, std::nan(""));
                pins[k] = pin->second;
            }
        }
        const size_t count = whole_shot ? known : std::max<size_t>(1, size_t(lookahead_frames_) / 2);
        ChunkPlan plan = plan_chunk(geo_, params_, prof, bins_, carry_, count, pins);
        carry_ = plan.carry;
        commit(plan, count);
        if (whole_shot)
            return;
    }
}

void Engine::commit(const ChunkPlan &plan, size_t count)
{
    for (size_t k = 0; k < count; k++) {
        Frame &f = frames_.front();
        Decision d;
        d.frame = f.index;
        d.t = f.t;
        d.win = plan.windows[k];
        d.shot = shot_;
        d.mode = plan.mode;
        d.segment = plan.labels[k];
        ready_.push_back(d);
        decided_++;
        if (opt_.keep_maps)
            ready_maps_.push_back(std::move(f.map));
        frames_.pop_front();
    }
}

bool Engine::pop(Decision *out)
{
    if (ready_.empty())
        return false;
    *out = ready_.front();
    ready_.pop_front();
    if (opt_.keep_maps) {
        popped_map_ = std::move(ready_maps_.front());
        ready_maps_.pop_front();
    }
    popped_frame_ = out->frame;
    log_.push_back(*out);
    return true;
}

const std::string &Engine::path_json()
{
    json_ = make_path_json(opt_.width, opt_.height, opt_.fps, chk_.ratio, log_);
    return json_;
}

const std::vector<float> &Engine::popped_map() const
{
    if (!opt_.keep_maps)
        throw std::invalid_argument("popped_map needs the keep_maps option");
    if (popped_frame_ < 0)
        throw std::invalid_argument("popped_map: no decision has been popped yet");
    return popped_map_;
}

void Engine::draw_debug(const Decision &d, uint8_t *const data[4], const int linesize[4],
                        SalcropPixelFormat format) const
{
    if (!opt_.keep_maps)
        throw std::invalid_argument("draw_debug needs the keep_maps option");
    if (d.frame != popped_frame_ || popped_map_.empty())
        throw std::invalid_argument("draw_debug: decision " + std::to_string(d.frame) +
                                    " is not the most recently popped one");
    check_window(d.win, opt_.width, opt_.height, "draw_debug");
    Decision shown = d;
    shown.segment = log_.back().segment;  // the C ABI's decision does not carry it; the log does
    draw_debug_view(format, opt_.width, opt_.height, data, linesize, popped_map_.data(), model_->map_height(),
                    model_->map_width(), shown);
}

void Engine::render_padded(const Decision &d, const SalcropImage &src, uint8_t *const dst[4],
                           const int dst_ls[4]) const
{
    check_image(src, opt_.width, opt_.height);
    check_window(d.win, opt_.width, opt_.height, "render_padded");
    render_padded_view(src, d.win, geo_.win_w, geo_.win_h, chk_.pad == PadMode::Black, dst, dst_ls);
}

SampleClock::SampleClock(int stride, double fps)
    : stride_(stride), max_idle_(std::max(stride, int(std::lround(kMaxIdleSeconds * fps))))
{
}

bool SampleClock::rate_sample(int64_t index, double change)
{
    change_ += change;
    const int64_t since = index - last_;
    const bool sample = index == 0 || (since >= stride_ && (change_ >= kChangeToSample || since >= max_idle_));
    if (sample) {
        last_ = index;
        change_ = 0;
    }
    return sample;
}

ScheduleRecorder::ScheduleRecorder(const EngineOptions &o)
    : opt_([&] {
          validate(o);  // option errors before anything is built
          return o;
      }()), thumbs_(o.width, o.height), detector_(o.scene_threshold, o.fps), clock_(o.stride, o.fps)
{
}

void ScheduleRecorder::record(const std::vector<ShotDetector::Verdict> &verdicts, int64_t release)
{
    for (const auto &v : verdicts) {
        FrameSchedule &f = frames_.at(size_t(v.frame));
        f.cut = v.cut || v.frame == 0;
        f.release = release;
    }
}

void ScheduleRecorder::push(const SalcropImage &img)
{
    if (finished_)
        throw std::runtime_error("push after finish: the stream has ended");
    check_image(img, opt_.width, opt_.height);
    const int64_t index = int64_t(frames_.size());
    frames_.push_back(FrameSchedule{});
    const auto verdicts = detector_.push(thumbs_.make(img));
    frames_.back().rate_sample = clock_.rate_sample(index, detector_.newest_change());
    record(verdicts, index);
}

std::vector<FrameSchedule> ScheduleRecorder::finish()
{
    if (finished_)
        throw std::runtime_error("finish called twice");
    finished_ = true;
    record(detector_.flush(), int64_t(frames_.size()));
    return std::move(frames_);
}

}  // namespace salcrop
