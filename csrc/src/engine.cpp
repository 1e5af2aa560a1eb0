#include "engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "debug_draw.h"
#include "memory_limit.h"
#include "keyframes.h"
#include "path_json.h"
#include "sphere_output.h"

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
    : opt_(o), chk_(validate(o)), detector_(o.scene_threshold, o.fps), clock_(o.stride, o.fps)
{
    if (o.keep_maps && chk_.ratios.size() > 1)
        throw std::invalid_argument("the debug view (keep_maps) shows one ratio's window: give one ratio, not " +
                                    std::to_string(chk_.ratios.size()));
    for (const Ratio &r : chk_.ratios) {
        Output t;
        t.ratio = r;
        t.geo = make_geometry(o.width, o.height, r, o.even);
        outputs_.push_back(std::move(t));
    }
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
    projection_ = parse_projection(o.projection);
    stereo_ = parse_stereo(o.stereo);
    int eye_w = o.width, eye_h = o.height;
    if (sphere()) {
        if (outputs_.size() > 1)
            throw std::invalid_argument("projection=equirect renders one view: give one ratio, not " +
                                        std::to_string(outputs_.size()));
        if (chk_.pad != PadMode::None)
            throw std::invalid_argument("pad: not available with projection=equirect (the view's fov is fixed)");
        eye_size(stereo_, o.width, o.height, &eye_w, &eye_h);
        if (o.front > 1)
            throw std::invalid_argument("front: " + std::to_string(o.front) + " is out of range: the front prior's "
                                        "weight is 0 (saliency alone) to 1 (always the front); negative: default");
        if (o.front >= 0)
            sphere_saliency_.front_weight = o.front;
        view_ = make_view_geometry(eye_w, eye_h, outputs_.front().ratio, o.fov, o.view_w, o.view_h, o.even);
        if (!o.keyframes.empty())
            for (const SphereKeyframe &k : parse_sphere_keyframes(o.keyframes, o.fps, view_))
                if (!sphere_pins_.emplace(k.frame, std::make_pair(k.yaw, k.pitch)).second)
                    throw std::invalid_argument("keyframes: two keyframes on frame " + std::to_string(k.frame));
    } else if (stereo_ != Stereo::Mono) {
        throw std::invalid_argument("stereo: " + o.stereo + " needs projection=equirect (a flat stereo video is "
                                    "not supported)");
    } else if (o.view_w || o.view_h) {
        throw std::invalid_argument("size: only with projection=equirect (a flat crop's size is the window's)");
    }
    if (!o.keyframes.empty() && !sphere())
        for (const Keyframe &k : parse_keyframes(o.keyframes, o.fps))
            for (Output &tr : outputs_)
                if (!tr.pins.emplace(k.frame, keyframe_position(tr.geo, k)).second)
                    throw std::invalid_argument("keyframes: two keyframes on frame " + std::to_string(k.frame));

    if (!o.subjects.empty()) {
        if (sphere())
            throw std::invalid_argument("subjects: not available with projection=equirect (a flat crop's option)");
        picks_ = parse_subjects(o.subjects, o.fps, o.width, o.height);
        std::stable_sort(picks_.begin(), picks_.end(),
                         [](const SubjectPick &a, const SubjectPick &b) { return a.frame < b.frame; });
        // Face tracks picked by id: pinned as they come (add_face_frame); the boxes go to the subject tracker.
        const auto faces_from = std::stable_partition(picks_.begin(), picks_.end(),
                                                      [](const SubjectPick &p) { return p.face < 0; });
        face_picks_.assign(faces_from, picks_.end());
        picks_.erase(faces_from, picks_.end());
        face_pick_seen_.assign(face_picks_.size(), false);
        if (!face_picks_.empty() && !chk_.speakers)
            throw std::invalid_argument("subjects: a face track (\"face\": " + std::to_string(face_picks_[0].face) +
                                        ") needs the face tracks: speakers=auto");
        if (!face_picks_.empty() && !picks_.empty())
            throw std::invalid_argument("subjects: give face tracks (\"face\") or boxes (\"box\"), not both");
    }

    model_ = std::make_unique<SaliencyModel>(o.model, o.device, o.threads, o.ort_library, /*background=*/true);
    thumbs_ = std::make_unique<Thumbnailer>(eye_w, eye_h);
    if (sphere()) {
        // The network sees the frame with the seam wrapped around on both sides; the planner, the sphere map.
        seam_ = seam_padding(model_->input_width(), model_->map_width());
        input_rs_ = std::make_unique<Resampler>(seam_.core_input, model_->input_height());
        outputs_.front().bins = model_->map_height() * seam_.core_map;
    } else {
        input_rs_ = std::make_unique<Resampler>(model_->input_width(), model_->input_height());
        for (Output &tr : outputs_)
            tr.bins = profile_bins(tr.geo, model_->map_height(), model_->map_width());
    }
    lookahead_frames_ = std::max(2, int(std::lround(o.lookahead * o.fps)));
    // Undecided frames: up to a lookahead of known frames, plus the frames after the last sample (< max_idle)
    // and up to kWorkerSlack samples the model's worker may run behind before push() waits for it, plus the
    // detector's verdict lag and the frame being pushed.
    max_delay_ = lookahead_frames_ + clock_.max_idle() * (1 + kWorkerSlack) + detector_.lag() + 1;
    // A pick is tracked backward over the lookback before it: those frames wait for it.
    hold_frames_ = std::max(1, int(std::lround(kLostHoldSeconds * o.fps)));
    if (!picks_.empty()) {
        pick_lookback_ = lookahead_frames_;
        max_delay_ += pick_lookback_;
    }

    std::ostringstream d;
    d << "salcrop: model " << model_->path() << " (input " << model_->input_width() << "x" << model_->input_height()
      << ", map " << model_->map_width() << "x" << model_->map_height() << ") on " << model_->provider()
      << " (" << model_->provider_reason() << "; " << model_->batching_note() << ") via " << ort_library_path() << "; source " << o.width << "x" << o.height;
    if (sphere()) {
        d << " -> equirect " << (stereo_ == Stereo::Mono ? "" : stereo_ == Stereo::TopBottom ? "(top eye) " : "(left eye) ")
          << eye_w << "x" << eye_h << ": a " << view_.out_w << "x" << view_.out_h << " perspective view, fov "
          << view_.hfov << " x " << std::lround(view_.vfov * 10) / 10.0 << " degrees, pitch within +-"
          << std::lround(view_.pitch_limit * 10) / 10.0 << ", seam padded by " << seam_.map_pad
          << " map columns, front prior " << sphere_saliency_.front_weight;
    } else {
        for (size_t k = 0; k < outputs_.size(); k++) {
            const Geometry &g = outputs_[k].geo;
            d << (k ? "; " : " -> ") << (outputs_.size() > 1 ? "output " + std::to_string(k) + ": " : "") << "window "
              << g.win_w << "x" << g.win_h << " (ratio " << outputs_[k].ratio.num << ":" << outputs_[k].ratio.den << ")";
            if (g.range() <= 0)
                d << ", the window is the whole frame: no camera movement";
            else if (g.vertical)
                d << ", input narrower than the target: the window spans the full width and moves vertically";
            else
                d << ", the window spans the full height and moves horizontally";
        }
    }
    d << "; stride " << o.stride << ", lookahead " << o.lookahead << " s (" << lookahead_frames_
      << " frames), scene_threshold " << o.scene_threshold << (o.scene_threshold > 0 ? "" : " (no shot detection)")
      << ", smoothing " << o.smoothing << ", mode " << o.mode << ", pad " << o.pad;
    if (!outputs_.front().pins.empty() || !sphere_pins_.empty())
        d << ", " << outputs_.front().pins.size() + sphere_pins_.size() << " keyframes";
    if (!picks_.empty())
        d << ", " << picks_.size() << " picked subject" << (picks_.size() > 1 ? "s" : "") << " (tracked back "
          << pick_lookback_ << " frames from each pick, forward to its shot's end)";
    describe_ = d.str();

    map_buf_.assign(model_->map_floats(), 0.0f);
    worker_ = std::make_unique<SaliencyWorker>(*model_);

    // Faces: on a flat input with speakers=auto. Every kFaceSeconds at most (faces move less than saliency does),
    // on frames the saliency clock samples.
    // The face and voice models' sessions are built here, after the saliency model's, one after the other: built on
    // threads of their own beside it they saved ~0.2 s of start-up, but ThreadSanitizer saw a race inside ONNX
    // Runtime between the concurrent session builds (scripts/sanitize.sh tsan, in one clean run of two).
    if (chk_.speakers && !sphere()) {
        faces_ = std::make_unique<FaceDetector>(o.ort_library);
        face_every_ = std::max(o.stride, int(std::lround(kFaceSeconds * o.fps)));
        // A face holds its box across the longest gap between two detections (a still picture: max_idle).
        face_tracker_ = std::make_unique<FaceTracker>(o.fps, face_every_ + clock_.max_idle());
        scorer_ = std::make_unique<SpeakerScorer>(o.ort_library, 1);
        // SALCROP_FACES_SYNC=1: every face job inside push(), as before the worker (the tests compare the two).
        const char *sync = std::getenv("SALCROP_FACES_SYNC");
        const bool synchronous = sync && *sync && std::string(sync) != "0";
        const char *mouth = std::getenv("SALCROP_MOUTH_GUESS");
        mouth_guess_ = mouth && *mouth ? std::string(mouth) != "0" : kMouthGuessDefault;
        face_jobs_ = face_every_ + kFaceJobs;
        face_worker_ = std::make_unique<FaceWorker>(*faces_, size_t(face_jobs_), synchronous);
        describe_ += "; faces: " + faces_->path() + " every " + std::to_string(face_every_) + " frames at most" +
                     (synchronous ? " (in push: SALCROP_FACES_SYNC)" : " (on a worker thread)") +
                     (mouth_guess_ ? "; without sound, the moving mouth guesses who speaks" : "");
    }
    // Equirect with speakers=auto: faces on the sphere pull the view (issue 28, round 2; sphere_faces.h).
    if (chk_.speakers && sphere()) {
        sphere_faces_ = std::make_unique<FaceDetector>(o.ort_library);
        sphere_face_every_ = std::max(o.stride, int(std::lround(kSphereFaceSeconds * o.fps)));
        describe_ += "; faces on the sphere: " + sphere_faces_->path() + " every " +
                     std::to_string(sphere_face_every_) + " frames at most";
    }
}

namespace {

std::string byte_size(double bytes)
{
    char buf[32];
    if (bytes >= 1e9)
        std::snprintf(buf, sizeof(buf), "%.1f GB", bytes / 1e9);
    else
        std::snprintf(buf, sizeof(buf), bytes >= 1e7 ? "%.0f MB" : "%.1f MB", bytes / 1e6);
    return std::string(buf);
}

}  // namespace

void Engine::check_buffer(int64_t bytes_per_frame)
{
    if (bytes_per_frame <= 0)
        throw std::invalid_argument("check_buffer: bytes per frame must be positive, got " +
                                    std::to_string(bytes_per_frame));
    frames_in_memory_ = max_delay_;
    // The face worker's copies of frames (at most face_jobs_, each at most a frame) count as frames held.
    const double worst = double(max_delay_ + face_jobs_) * double(bytes_per_frame);
    if (opt_.max_memory >= 0) {
        // A budget: the lookahead keeps its length; the frames past the budget wait outside memory.
        const double mb = opt_.max_memory > 0 ? opt_.max_memory : kDefaultMaxMemoryMB;
        const MemoryLimit limit = memory_limit();  // a machine (or container) smaller than the budget bounds it
        // The caller holds at least the frame in hand: one that does not fit the machine fits no budget.
        if (limit.bytes > 0 && double(bytes_per_frame) > double(limit.bytes))
            throw std::invalid_argument("one " + std::to_string(opt_.width) + "x" + std::to_string(opt_.height) +
                                        " picture takes " + byte_size(double(bytes_per_frame)) + ", more than " +
                                        byte_size(double(limit.bytes)) + " (" + limit.source +
                                        "): no lookahead fits; scale the input down first");
        const double budget = limit.bytes > 0 ? std::min(mb * 1024 * 1024, double(limit.bytes)) : mb * 1024 * 1024;
        if (worst <= budget)
            return;
        // A frame larger than the budget leaves none in memory (all wait outside it), as before the face worker.
        frames_in_memory_ = std::max(0, int(std::min<double>(max_delay_, std::floor(budget / double(bytes_per_frame)) -
                                                                          face_jobs_)));
        std::ostringstream m;
        m << "; max_memory " << mb << " MB" << (opt_.max_memory > 0 ? "" : " (default)")
          << (budget < mb * 1024 * 1024 ? ", bounded by " + limit.source + " (" + byte_size(budget) + ")" : "")
          << ": up to " << max_delay_
          << " frames of " << byte_size(double(bytes_per_frame)) << " await their decision (" << byte_size(worst)
          << "), " << frames_in_memory_ << " stay in memory, the others wait outside it (the lookahead is kept)";
        describe_ += m.str();
        return;
    }
    const MemoryLimit limit = memory_limit();
    if (limit.bytes <= 0 || worst <= double(limit.bytes))
        return;
    auto size = byte_size;
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

const Engine::Output &Engine::output_at(size_t output) const
{
    if (output >= outputs_.size())
        throw std::invalid_argument("output " + std::to_string(output) + " does not exist: the engine has " +
                                    std::to_string(outputs_.size()) + " (one per ratio)");
    return outputs_[output];
}

Engine::Output &Engine::output_at(size_t output)
{
    return const_cast<Output &>(std::as_const(*this).output_at(output));
}

void Engine::output_size(int *w, int *h, size_t output) const
{
    const Geometry &g = output_at(output).geo;
    *w = sphere() ? view_.out_w : g.win_w;
    *h = sphere() ? view_.out_h : g.win_h;
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
        verdicts = detector_.push(thumbs_->make(eye(img)));
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
        if (sphere()) {
            const int iw = model_->input_width(), ih = model_->input_height(), core = seam_.core_input;
            core_input_.resize(size_t(3) * core * ih);
            image_to_rgb_planes(eye(img), *input_rs_, 1.0f / 255.0f, core_input_.data());
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < ih; y++)
                    std::copy_n(&core_input_[(size_t(c) * ih + y) * core], core,
                                &scratch_[(size_t(c) * ih + y) * iw + seam_.input_pad]);
            wrap_pad_planes(scratch_.data(), iw, ih, seam_.input_pad);
        } else {
            image_to_rgb_planes(img, *input_rs_, 1.0f / 255.0f, scratch_.data());
        }
        for (size_t k = 0; k < scratch_.size(); k++)  // clamped to [0, 1]: +0.5 and truncation round
            p.input[k] = uint8_t(scratch_[k] * 255.0f + 0.5f);
    }
    const int64_t index = p.index;
    if (faces_)
        detect_faces(img, p.index, t, p.rate_sample, may_start_shot);
    if (sphere_faces_)
        detect_sphere_faces(img, p.index, p.rate_sample, may_start_shot);
    pending_.push_back(std::move(p));
    for (const auto &v : verdicts)
        on_verdict(v);
    if (!picks_.empty())
        track_subjects(img, index);
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
    if (next_pick_ < picks_.size())
        throw std::invalid_argument("subjects: a subject is picked on frame " + std::to_string(picks_[next_pick_].frame) +
                                    " (" + std::to_string(picks_[next_pick_].frame / opt_.fps) +
                                    " s), past the video's last frame (" + std::to_string(pushed_ - 1) + ")");
    run_steps(true);
    for (size_t i = 0; i < face_picks_.size(); i++) {
        if (face_pick_seen_[i])
            continue;
        std::string ids;
        for (const TrackSpan &span : spans_)
            if (span.kind == TrackKind::Face)
                ids += (ids.empty() ? "" : ", ") + std::to_string(span.id);
        throw std::invalid_argument(
            "subjects: face track " + std::to_string(face_picks_[i].face) + " is not in this run" +
            (face_picks_[i].frame > 0 ? " from frame " + std::to_string(face_picks_[i].frame) : std::string()) +
            " (its face tracks: " + (ids.empty() ? std::string("none") : ids) +
            "; the ids are those of the path JSON's \"tracks\" of a run with the same input and options)");
    }
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
    if (new_shot && !picks_.empty())
        cut_subjects(v.frame);
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
        if (sphere())
            note_motion(p.input, new_shot);
        if (sphere_faces_)
            note_sphere_faces(v.frame, new_shot);
        // Frames between the shot's previous sample and this one are interpolated linearly.
        steps_.push_back(Step{Step::Sample, v.frame, 0, !new_shot});
    }
    if (!p.input.empty())
        spare_inputs_.push_back(std::move(p.input));
}

// The sample's motion against the shot's previous sample (none for a shot's first), queued in the order of the
// worker's maps; apply_sample takes it with the map.
void Engine::note_motion(const std::vector<uint8_t> &input, bool new_shot)
{
    std::vector<float> motion;
    if (new_shot)
        recent_motion_.clear();
    if (!new_shot && last_input_.size() == input.size()) {
        std::vector<float> now(size_t(model_->map_height()) * seam_.core_map);
        motion_map(last_input_.data(), input.data(), model_->input_width(), model_->input_height(), seam_,
                   model_->map_height(), now.data());
        // What persists: the mean over the last kMotionSamples samples, so a brief movement (a flash, a bird)
        // does not pull the view; a subject that keeps moving does.
        recent_motion_.push_back(std::move(now));
        if (recent_motion_.size() > kMotionSamples)
            recent_motion_.pop_front();
        motion.assign(recent_motion_.back().size(), 0.0f);
        for (const std::vector<float> &m : recent_motion_)
            for (size_t k = 0; k < m.size(); k++)
                motion[k] += m[k] / float(kMotionSamples);
    }
    motions_.push_back(std::move(motion));
    last_input_ = input;
}

void Engine::detect_sphere_faces(const SalcropImage &img, int64_t index, bool sampled, bool may_start_shot)
{
    // A shot may start here: its faces are looked for at the usual rate again.
    if (may_start_shot)
        sphere_empty_run_ = 0;
    const int every = sphere_empty_run_ >= 2 ? sphere_face_every_ * (FaceWorker::kEmptySkips + 1) : sphere_face_every_;
    if (!sampled || (last_sphere_face_ >= 0 && index - last_sphere_face_ < every))
        return;
    last_sphere_face_ = index;
    std::vector<SphereFace> faces = faces_on_sphere(*sphere_faces_, eye(img));
    const bool counts = std::any_of(faces.begin(), faces.end(), [this](const SphereFace &f) {
        return face_counts(f, sphere_saliency_.face_min_width, sphere_saliency_.face_max_width);
    });
    sphere_empty_run_ = counts ? 0 : sphere_empty_run_ + 1;
    sphere_face_dets_[index] = std::move(faces);
}

// The faces a sample plans with: cell by cell, the second largest of the maps of its shot's last kFaceDetections
// detections at or before it (one with nobody counts as an empty map). So a face counts once two detections in
// the last five found it, at the mass they both give it, and holds while two of the last five still find it: a
// face found once (a false positive at a score of 0.6, a passer-by) moves nothing, and a face the detector misses
// at some samples (a small one, at the edge of what it finds) does not take the view away and back. On Alcatraz
// a face found once at 7 s pulled the view 40° and back when the maps were averaged (EVALUATION.md "Issue 28
// (stop 35)"). A still's faces, found alike each time, give one detection's map.
void Engine::note_sphere_faces(int64_t frame, bool new_shot)
{
    if (new_shot)
        recent_faces_.clear();
    const size_t cells = size_t(model_->map_height()) * seam_.core_map;
    for (auto it = sphere_face_dets_.begin(); it != sphere_face_dets_.end() && it->first <= frame;) {
        if (!new_shot || it->first == frame) {
            std::vector<float> map(cells);
            if (!face_sphere_map(it->second, model_->map_height(), seam_.core_map, sphere_saliency_.face_sigma,
                                 sphere_saliency_.face_min_width, sphere_saliency_.face_max_width, map.data()))
                map.clear();
            recent_faces_.push_back(std::move(map));
            if (recent_faces_.size() > kFaceDetections)
                recent_faces_.pop_front();
        }
        it = sphere_face_dets_.erase(it);
    }
    std::vector<float> map;
    size_t present = 0;
    for (const std::vector<float> &m : recent_faces_)
        present += !m.empty();
    if (present >= 2) {
        map.assign(cells, 0.0f);
        bool any = false;
        for (size_t k = 0; k < cells; k++) {
            float first = 0.0f, second = 0.0f;
            for (const std::vector<float> &m : recent_faces_) {
                if (m.empty())
                    continue;
                const float v = m[k];
                second = std::max(second, std::min(first, v));
                first = std::max(first, v);
            }
            map[k] = second;
            any = any || second > 0.0f;
        }
        if (!any)
            map.clear();
    }
    face_maps_.push_back(std::move(map));
}

void Engine::apply_sample(int64_t index, bool interp)
{
    std::vector<std::vector<float>> profiles(outputs_.size());
    if (sphere()) {
        // The sphere map is both the planner's input and (keep_maps) what the debug view shows.
        profiles[0].resize(size_t(outputs_[0].bins));
        std::vector<float> motion;
        if (!motions_.empty()) {
            motion = std::move(motions_.front());
            motions_.pop_front();
        }
        std::vector<float> faces;
        if (!face_maps_.empty()) {
            faces = std::move(face_maps_.front());
            face_maps_.pop_front();
        }
        sphere_map(map_buf_.data(), model_->map_height(), model_->map_width(), seam_, sphere_saliency_,
                   profiles[0].data(), motion.empty() ? nullptr : motion.data(),
                   faces.empty() ? nullptr : faces.data());
        map_buf_ = profiles[0];
    } else {
        for (size_t n = 0; n < outputs_.size(); n++) {
            profiles[n].resize(size_t(outputs_[n].bins));
            map_to_profile(outputs_[n].geo, map_buf_.data(), model_->map_height(), model_->map_width(),
                           profiles[n].data());
        }
    }
    for (Frame &f : frames_) {
        if (f.known || f.index > index)
            continue;
        if (f.index == index || !interp) {
            f.profiles = profiles;
            if (opt_.keep_maps)
                f.map = map_buf_;
        } else {
            const float a = float(f.index - last_sample_) / float(index - last_sample_);
            f.profiles.resize(outputs_.size());
            for (size_t n = 0; n < outputs_.size(); n++) {
                const std::vector<float> &last = outputs_[n].last_profile;
                std::vector<float> &p = f.profiles[n];
                p.resize(profiles[n].size());
                for (size_t k = 0; k < p.size(); k++)
                    p[k] = (1 - a) * last[k] + a * profiles[n][k];
            }
            if (opt_.keep_maps) {
                f.map.resize(map_buf_.size());
                for (size_t k = 0; k < map_buf_.size(); k++)
                    f.map[k] = (1 - a) * last_map_[k] + a * map_buf_[k];
            }
        }
        f.known = true;
    }
    last_sample_ = index;
    for (size_t n = 0; n < outputs_.size(); n++)
        outputs_[n].last_profile = std::move(profiles[n]);
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
            for (Output &tr : outputs_) {
                tr.carry = Carry{};
                tr.floor = FloorState{};
            }
            if (face_tracker_)
                face_tracker_->new_shot(shot_);
            sphere_carry_ = SphereCarry{};
            break;
        case Step::AddFrame: {
            if (faces_ && !take_faces(s.frame, wait))
                return;  // its faces are not back from the worker yet
            Frame f;
            f.index = s.frame;
            f.t = s.t;
            frames_.push_back(std::move(f));
            if (faces_)
                add_face_frame(s.frame);
            break;
        }
        case Step::Plan:
            if (!plan_known(false))
                return;  // waits for the sound (heard_enough)
            break;
        case Step::PlanShot:
            hold_tail();
            if (!plan_known(true))
                return;
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
        f.profiles.resize(outputs_.size());
        for (size_t n = 0; n < outputs_.size(); n++)
            f.profiles[n] = outputs_[n].last_profile;
        if (opt_.keep_maps)
            f.map = last_map_;
        f.known = true;
    }
}

bool Engine::heard_enough() const
{
    if (!scorer_ || flushed_ || frames_.empty() || audio_.ended() || pushed_ - decided_ > max_delay_)
        return true;
    const double newest = frames_.back().t;
    return no_sound(newest) || audio_.known_until() >= newest + kSoundAfterCrop;
}

bool Engine::plan_known(bool whole_shot)
{
    for (;;) {
        size_t known = 0;
        // Frames within the lookback before a pick not yet pushed wait for its backward track (not at a shot's
        // end: the pick is in a later shot).
        const int64_t wait_from = !whole_shot && next_pick_ < picks_.size()
                                      ? picks_[next_pick_].frame - pick_lookback_
                                      : INT64_MAX;
        while (known < frames_.size() && frames_[known].known && frames_[known].index < wait_from)
            known++;
        if (known == 0)
            return true;
        if (!whole_shot && known < size_t(lookahead_frames_))
            return true;
        // Each chunk sees exactly `lookahead` frames, however many the model's worker made known at once, and
        // the shot's rest is planned whole only once less than that is left: the path does not depend on the
        // worker's timing, and plan_offline (plan_path) reproduces it frame for frame.
        const bool last = whole_shot && known < size_t(lookahead_frames_);
        const size_t span = last ? known : size_t(lookahead_frames_);
        const size_t count = last ? known : std::max<size_t>(1, size_t(lookahead_frames_) / 2);
        known = span;
        if (scorer_) {
            if (!heard_enough())
                return false;
            score_speakers();
        }
        if (sphere()) {
            plan_sphere(known, count);
            release(count);
            if (last)
                return true;
            continue;
        }
        for (size_t n = 0; n < outputs_.size(); n++) {
            Output &tr = outputs_[n];
            // A picked subject outranks the speaker (and the saliency): with picks, the faces are not followed.
            if (!faces_ || !picks_.empty()) {
                const std::vector<FrameTargets> targets =
                    picks_.empty() ? std::vector<FrameTargets>{}
                                   : subject_targets(tr.geo, people_, frames_[0].index, known, hold_frames_);
                ChunkPlan plan = plan_part(tr, n, 0, known, tr.carry, count, targets);
                tr.carry = plan.carry;
                commit(tr, plan, count);
                continue;
            }
            // Who the camera follows, and the parts a cut splits the chunk into (speaker_plan.h).
            const SpeakerChunk chunk = plan_speaker_chunk(
                tr.geo, params_, opt_.fps, face_series(people_, frames_[0].index, int(known)), known, count, tr.carry,
                tr.floor,
                [&](size_t from, size_t to, const Carry &carry, size_t keep, const std::vector<FrameTargets> &targets,
                    const PlanParams &params) { return plan_part(tr, n, from, to, carry, keep, targets, &params); },
                audio_.any() ? kHeardRules : kMouthRules);
            tr.floor = chunk.floor;
            tr.carry = chunk.carry;
            for (const SpeakerPart &part : chunk.parts)
                commit(tr, part.plan, part.keep, part.from, &chunk.speaker);
        }
        release(count);
        if (last)
            return true;
    }
}

// Plans the view's direction for the first `count` of `known` frames (one output: a sphere has one view).
void Engine::plan_sphere(size_t known, size_t count)
{
    std::vector<const float *> maps;
    std::vector<double> yaw_pins, pitch_pins;
    for (size_t k = 0; k < known; k++) {
        maps.push_back(frames_[k].profiles[0].data());
        auto pin = sphere_pins_.find(frames_[k].index);
        if (pin != sphere_pins_.end()) {
            yaw_pins.resize(known, std::nan(""));
            pitch_pins.resize(known, std::nan(""));
            yaw_pins[k] = pin->second.first;
            pitch_pins[k] = pin->second.second;
        }
    }
    const SpherePlan plan = plan_sphere_chunk(view_, params_, maps, model_->map_height(), seam_.core_map,
                                              sphere_carry_, count, yaw_pins, pitch_pins);
    sphere_carry_ = plan.carry;
    for (size_t k = 0; k < count; k++) {
        const Frame &f = frames_[k];
        Decision d;
        d.frame = f.index;
        d.t = f.t;
        d.win = Window{0, 0, view_.out_w, view_.out_h, false};
        d.shot = shot_;
        d.mode = plan.mode;
        d.segment = plan.labels[k];
        d.yaw = wrap_yaw(plan.yaw[k]);
        d.pitch = plan.pitch[k];
        d.fov = view_.hfov;
        outputs_.front().ready.push_back(d);
    }
}

SalcropImage Engine::eye(const SalcropImage &img) const
{
    SalcropImage e = img;
    if (stereo_ == Stereo::TopBottom)
        e.height = img.height / 2;
    else if (stereo_ == Stereo::SideBySide)
        e.width = img.width / 2;
    return e;
}

void Engine::render_view(const Decision &d, const SalcropImage &src, uint8_t *const dst[4], const int dst_ls[4])
{
    if (!sphere())
        throw std::invalid_argument("render_view needs projection=equirect");
    check_image(src, opt_.width, opt_.height);
    const SalcropImage e = eye(src);
    const Components in = split_components(e.format, e.width, e.height, e.data, e.linesize);
    const Components out = split_components(e.format, view_.out_w, view_.out_h, dst, dst_ls);
    salcrop::render_view(view_, renderers_, in, d.yaw, d.pitch, out);
}

ChunkPlan Engine::plan_part(const Output &tr, size_t n, size_t from, size_t to, const Carry &carry, size_t commit,
                            const std::vector<FrameTargets> &targets, const PlanParams *params)
{
    std::vector<const float *> prof;
    std::vector<double> pins;
    std::vector<FrameTargets> part;
    for (size_t k = from; k < to; k++) {
        prof.push_back(frames_[k].profiles[n].data());
        auto pin = tr.pins.find(frames_[k].index);
        if (pin != tr.pins.end()) {
            pins.resize(to - from, std::nan(""));
            pins[k - from] = pin->second;
        }
    }
    if (!targets.empty())
        part.assign(targets.begin() + std::ptrdiff_t(from), targets.begin() + std::ptrdiff_t(to));
    return plan_chunk(tr.geo, params ? *params : params_, prof, tr.bins, carry, commit, pins, part);
}

void Engine::detect_faces(const SalcropImage &img, int64_t index, double t, bool sampled, bool may_start_shot)
{
    const bool detect = sampled && (last_face_ < 0 || index - last_face_ >= face_every_);
    // The worker may let a detection go while the faces keep still (face_worker.h), never the first after a frame
    // that may start a shot (a new shot's faces are not the old one's).
    face_must_detect_ = face_must_detect_ || may_start_shot;
    const bool must_detect = face_must_detect_;
    if (detect) {
        last_face_ = index;
        face_must_detect_ = false;
    }
    // Each face's crop for the speaker scorer, cut from this frame (the engine keeps no frames: the worker gets a
    // copy) with the latest detection's box; not when there is no sound to hear (none came, or the front end said
    // so) unless the mouth alone guesses (mouth_guess_), nor when the latest detection found no face (then there is
    // nothing to copy).
    const bool cut = scorer_ && (mouth_guess_ || !no_sound(t));
    if (detect || (cut && !face_worker_->no_faces()))
        face_worker_->submit(img, index, t, detect, cut, detect && must_detect);
}

bool Engine::take_faces(int64_t upto, bool wait)
{
    for (;;) {
        FaceWorker::Result r;
        switch (face_worker_->take(upto, r, wait)) {
        case FaceWorker::Take::None:
            return true;
        case FaceWorker::Take::NotYet:
            return false;
        case FaceWorker::Take::Took:
            break;
        }
        face_counts_.run += r.detected;
        face_counts_.let_go += r.let_go;
        if (r.detected)
            face_dets_[r.frame] = std::move(r.dets);
        for (FaceWorker::Crop &c : r.crops)
            pending_crops_.push_back(PendingCrop{c.sample, c.det, std::move(c.crop)});
    }
}

void Engine::add_face_frame(int64_t index)
{
    auto it = face_dets_.find(index);
    const std::vector<int> ids = face_tracker_->add_frame(people_, index, it == face_dets_.end() ? nullptr : &it->second);
    if (it != face_dets_.end()) {
        for (int id : ids) {
            auto span = std::find_if(spans_.begin(), spans_.end(), [&](const TrackSpan &s) { return s.id == id; });
            if (span == spans_.end())
                spans_.push_back(TrackSpan{id, TrackKind::Face, shot_, index, index + 1});
            else
                span->end = index + 1;
        }
        face_ids_.erase(face_ids_.begin(), face_ids_.lower_bound(index));
        face_ids_[index] = ids;
        face_dets_.erase(it);
    }
    // Face tracks the user picked by id (subjects "face"): followed from the pick's frame on, whatever the sound says.
    for (size_t i = 0; i < face_picks_.size(); i++) {
        if (face_picks_[i].frame > index)
            continue;
        if (Track *t = people_.find(face_picks_[i].face); t && t->kind == TrackKind::Face) {
            t->user = TrackOverride::Pinned;
            face_pick_seen_[i] = face_pick_seen_[i] || t->end() > face_picks_[i].frame;
        }
    }
    while (!pending_crops_.empty() && pending_crops_.front().crop.frame <= index) {
        PendingCrop &c = pending_crops_.front();
        auto ids_of = face_ids_.find(c.sample);
        if (ids_of != face_ids_.end() && c.det < ids_of->second.size())
            crops_[ids_of->second[c.det]].push_back(std::move(c.crop));
        pending_crops_.pop_front();
    }
}

void Engine::score_speakers()
{
    const bool mouth_only = mouth_guess_ && !frames_.empty() && no_sound(frames_.back().t);
    if (!audio_.any() && !mouth_only)
        return;
    // Crops more than the scorer's context behind the first undecided frame are no longer needed.
    const int64_t keep_from = frames_.empty() ? decided_ : frames_.front().index - int64_t(std::lround(2.0 * opt_.fps));
    for (auto it = crops_.begin(); it != crops_.end();) {
        Track *t = people_.find(it->first);
        std::vector<FaceCrop> &crops = it->second;
        crops.erase(crops.begin(), std::find_if(crops.begin(), crops.end(), [&](const FaceCrop &c) {
                        return c.frame >= keep_from && (!t || c.frame >= t->first);
                    }));
        if (!t || crops.empty()) {
            it = crops_.erase(it);
            continue;
        }
        if (audio_.any())
            scorer_->score(*t, crops, audio_, opt_.fps);
        else
            scorer_->score_mouth(*t, crops);
        ++it;
    }
}

void Engine::commit(Output &output, const ChunkPlan &plan, size_t count, size_t offset, const std::vector<int> *speaker)
{
    for (size_t i = 0; i < count; i++) {
        const size_t k = offset + i;
        const Frame &f = frames_[k];
        Decision d;
        d.frame = f.index;
        d.t = f.t;
        d.shot = shot_;
        d.mode = plan.mode;
        d.win = plan.windows[i];
        d.segment = plan.labels[i];
        d.reason = plan.reason;
        if (i == 0 && plan.reason != PlanReason::Planned)
            d.note = plan.note;
        if (speaker)
            d.speaker = (*speaker)[k];
        for (const Track *t : people_.on(f.index)) {
            const TrackPoint *p = t->at(f.index);
            if (t->kind == TrackKind::Face && !p->lost)
                d.faces.push_back(FaceMark{t->id, p->box, p->speaking});
        }
        if (const Track *kept = picks_.empty() ? nullptr : kept_subject(people_, f.index)) {
            d.subject = kept->id;
            d.subject_box = kept->at(f.index)->box;
        }
        output.ready.push_back(d);
    }
}

void Engine::release(size_t count)
{
    if (count > 0 && count <= frames_.size())
        audio_.drop_before(frames_[count - 1].t - kAudioKeepSeconds);
    for (size_t k = 0; k < count; k++) {
        decided_++;
        if (opt_.keep_maps)
            ready_maps_.push_back(std::move(frames_.front().map));
        frames_.pop_front();
    }
    // People tracks of decided frames go, but for what still looks back: a lost subject's hold, the face
    // tracker's memory.
    int64_t look_back = picks_.empty() ? -1 : hold_frames_;
    if (face_tracker_)
        look_back = std::max<int64_t>(look_back, face_tracker_->memory_frames());
    if (look_back >= 0 && decided_ > look_back)
        people_.drop_before(decided_ - look_back);
}

void Engine::track_subjects(const SalcropImage &img, int64_t index)
{
    const bool pick_near = next_pick_ < picks_.size() && picks_[next_pick_].frame - pick_lookback_ <= index;
    if (live_.empty() && !pick_near)
        return;
    GreyFrame grey = make_grey_frame(img, kTrackingSide, &grey_rs_);
    for (LiveSubject &s : live_)
        if (Track *t = people_.find(s.id); t && t->end() == index)
            t->points.push_back(s.tracker.update(grey));
    while (next_pick_ < picks_.size() && picks_[next_pick_].frame <= index) {
        const SubjectPick &pick = picks_[next_pick_];
        if (pick.frame == index) {
            // Backward over the kept frames of this shot, then forward from here as frames come.
            std::vector<TrackPoint> back;
            SubjectTracker tracker(grey, pick.box);
            int64_t first = index;
            for (auto it = grey_.rbegin(); it != grey_.rend() && it->first == first - 1 && it->first >= last_cut_;
                 ++it) {
                back.push_back(tracker.update(it->second));
                first--;
            }
            Track &t = people_.add(TrackKind::Subject, -1, first);
            t.pick = int(next_pick_);
            t.points.assign(back.rbegin(), back.rend());
            TrackPoint at;
            at.box = pick.box;
            at.score = 1;
            t.points.push_back(at);
            live_.push_back(LiveSubject{t.id, SubjectTracker(grey, pick.box)});
        }
        next_pick_++;
    }
    // Keep this frame only while a pick to come may track back over it.
    const bool keep = next_pick_ < picks_.size() && picks_[next_pick_].frame - pick_lookback_ <= index;
    if (keep)
        grey_.emplace_back(index, std::move(grey));
    const int64_t oldest = next_pick_ < picks_.size() ? picks_[next_pick_].frame - pick_lookback_ : INT64_MAX;
    while (!grey_.empty() && (grey_.front().first < oldest || grey_.front().first < last_cut_))
        grey_.pop_front();
}

void Engine::cut_subjects(int64_t cut)
{
    last_cut_ = std::max(last_cut_, cut);
    while (!grey_.empty() && grey_.front().first < cut)
        grey_.pop_front();
    for (Track &t : people_.tracks()) {
        if (t.kind != TrackKind::Subject || t.pick < 0)
            continue;
        const int64_t pick = picks_[size_t(t.pick)].frame;
        if (pick >= cut && t.first < cut) {
            // Tracked back across a cut confirmed since: the frames before it are another shot.
            t.points.erase(t.points.begin(), t.points.begin() + (cut - t.first));
            t.first = cut;
        } else if (pick < cut && t.end() > cut) {
            t.points.resize(size_t(cut - t.first));
        }
        if (pick < cut)
            live_.erase(std::remove_if(live_.begin(), live_.end(), [&](const LiveSubject &s) { return s.id == t.id; }),
                        live_.end());
    }
}

void Engine::push_audio(const SalcropAudio &a, double t)
{
    audio_.push(a, t);
    run_steps(false);  // a plan that waited for this sound (heard_enough)
}

void Engine::audio_end()
{
    audio_.end();
    run_steps(false);
}

bool Engine::pop(Decision *out, size_t output)
{
    Output &tr = output_at(output);
    if (tr.ready.empty())
        return false;
    *out = tr.ready.front();
    tr.ready.pop_front();
    if (output == 0) {
        if (opt_.keep_maps) {
            popped_map_ = std::move(ready_maps_.front());
            ready_maps_.pop_front();
        }
        popped_frame_ = out->frame;
    }
    tr.log.push_back(*out);
    return true;
}

const std::string &Engine::path_json(size_t output)
{
    Output &tr = output_at(output);
    tr.json = sphere() ? make_sphere_path_json(opt_.width, opt_.height, opt_.fps, tr.ratio, view_, opt_.stereo, tr.log)
                       : make_path_json(opt_.width, opt_.height, opt_.fps, tr.ratio, tr.log, spans_, !picks_.empty());
    return tr.json;
}

std::string Engine::summary(size_t output)
{
    const Output &tr = output_at(output);
    const std::vector<Decision> &log = tr.log;
    if (log.empty())
        return std::to_string(tr.ratio.num) + ":" + std::to_string(tr.ratio.den) + ": no frame decided";
    int64_t moving = 0, speaking = 0, kept = 0;
    int shots = 0, cuts = 0, last_shot = -1;
    std::set<int> followed;
    SegmentKind previous = SegmentKind::Stationary;
    for (const Decision &d : log) {
        if (d.shot != last_shot) {
            shots++;
            last_shot = d.shot;
            previous = SegmentKind::Stationary;
        }
        moving += d.segment == SegmentKind::Pan || d.segment == SegmentKind::Ease;
        cuts += d.segment == SegmentKind::Cut && previous != SegmentKind::Cut;
        previous = d.segment;
        if (d.speaker >= 0) {
            speaking++;
            followed.insert(d.speaker);
        }
        kept += d.subject >= 0;
    }
    const double n = double(log.size());
    auto percent = [n](int64_t k) { return std::to_string(int(std::lround(100.0 * double(k) / n))) + "%"; };
    std::string s = std::to_string(tr.ratio.num) + ":" + std::to_string(tr.ratio.den) + ": " +
                    std::to_string(log.size()) + " frames in " + std::to_string(shots) +
                    (shots == 1 ? " shot" : " shots") + "; the " + (sphere() ? "view" : "window") + " moved on " +
                    percent(moving) + " of them";
    if (cuts)
        s += " and cut to a speaker " + std::to_string(cuts) + (cuts == 1 ? " time" : " times");
    if (faces_on()) {
        const int64_t faces = std::count_if(spans_.begin(), spans_.end(),
                                            [](const TrackSpan &t) { return t.kind == TrackKind::Face; });
        s += "; it followed a speaker on " + percent(speaking) + " of the frames (" +
             std::to_string(followed.size()) + " of " + std::to_string(faces) + " face tracks; face detection run " +
             std::to_string(face_counts_.run) + " times, let go " + std::to_string(face_counts_.let_go) + ")";
    }
    if (!picks_.empty() || !face_picks_.empty())
        s += "; it kept the picked subject on " + percent(kept) + " of the frames";
    return s;
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
    Decision shown = d;
    // The C ABI's decision does not carry these; the log does.
    shown.segment = outputs_.front().log.back().segment;
    shown.faces = outputs_.front().log.back().faces;
    shown.speaker = outputs_.front().log.back().speaker;
    shown.subject_box = outputs_.front().log.back().subject_box;
    if (sphere()) {
        const SalcropImage e = eye(SalcropImage{format, opt_.width, opt_.height, {data[0], data[1], data[2], data[3]},
                                                {linesize[0], linesize[1], linesize[2], linesize[3]}, 0, 0});
        draw_sphere_debug(format, e.width, e.height, data, linesize, popped_map_.data(), model_->map_height(),
                          seam_.core_map, shown, view_);
        return;
    }
    check_window(d.win, opt_.width, opt_.height, "draw_debug");
    draw_debug_view(format, opt_.width, opt_.height, data, linesize, popped_map_.data(), model_->map_height(),
                    model_->map_width(), shown);
}

void Engine::render_padded(const Decision &d, const SalcropImage &src, uint8_t *const dst[4],
                           const int dst_ls[4], size_t output) const
{
    const Geometry &g = output_at(output).geo;
    check_image(src, opt_.width, opt_.height);
    check_window(d.win, opt_.width, opt_.height, "render_padded");
    render_padded_view(src, d.win, g.win_w, g.win_h, chk_.pad == PadMode::Black, dst, dst_ls);
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
