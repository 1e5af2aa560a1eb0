// The streaming engine: frames in, one crop decision per frame out, in order, after a bounded lookahead.
//
// Per push: a thumbnail feeds the shot detector; the network runs on a shot's first frame (whose temporal state
// and prev_frame start fresh), then every `stride` frames while the picture changes and every kMaxIdleSeconds
// while it is still; the maps of the frames in between are interpolated linearly, and the frames after a
// shot's last sample keep its map. Only the frames it may run on are resampled to the model's input, at push
// (the rate is known then; a cut is confirmed later, but only on frames the detector flags at push).
// Only small per-frame summaries are buffered for planning:
//   per undecided frame: the saliency profile along the moving axis (map_w or map_h floats: 100 B for the
//   25-wide map of a 200x112 model) + bookkeeping (~64 B); with keep_maps also the full map (map_h*map_w
//   floats, 1400 B at 14x25) until the decision is popped.
// The frames it may run on wait for the shot detector's verdict with their model input in bytes (3*H*W at the
// model size, 67 KB at 200x112): at most ShotDetector::kWindow+1 of them, at most lag()+1 while a fade
// through black is open (2 s: 60 frames, 4 MB at 30 fps). Besides that, a constant amount: the previous
// sampled input and the temporal state.
// The network runs on a worker thread (SaliencyWorker) while push() returns to the caller; push() waits for it
// only when the frames not yet decided would exceed max_delay(), which allows kWorkerSlack samples in flight
// (a copy of their input each).
// Frames of a shot are planned when the shot ends (whole shots that fit the lookahead) or, for a longer shot,
// in chunks: once `lookahead` seconds of it are known, plan them and commit the first half, carrying the
// camera's position, velocity and acceleration into the next chunk so the path has no jump and no kink.
// Several ratios (options.ratio "9:16|1|4:5"): one output each. Shots, sampling and the network are shared; each
// output has its own profiles, planner state and decisions, so each path equals its single-ratio run's. The
// outputs decide the same frames at the same pushes (their decisions can be popped side by side).
#pragma once

#include <cstdint>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "audio.h"
#include "face_worker.h"
#include "faces.h"
#include "model.h"
#include "options.h"
#include "planner.h"
#include "planner_sphere.h"
#include "sphere_faces.h"
#include "preprocess.h"
#include "saliency_worker.h"
#include "salcrop/salcrop.h"
#include "shots.h"
#include "subject_tracker.h"
#include "subjects.h"
#include "speaker_plan.h"
#include "speaker_policy.h"
#include "speakers.h"
#include "tracks.h"

namespace salcrop {

// The network's sampling rate, settled at push: it runs every `stride` frames once the picture has changed by
// kChangeToSample since it last ran at this rate, else after max_idle frames (a still picture has a still map).
// Shared by the engine and the first pass of a split run (ScheduleRecorder).
class SampleClock {
public:
    // 3 is about two frames of a moving camera (basketball.mp4 scores ~2 per frame) and 25 frames of a near-still
    // one (testvideo.mp4 ~0.1). 6 (12% fewer runs on testvideo.mp4, 46% on a talking head) cost Vidyo1 0.53 point
    // of fixations kept through the filter on hevc-gaze, 10 cost Couple 2.8 (issue 27 stop 32, EVALUATION.md).
    static constexpr double kChangeToSample = 3.0;
    static constexpr double kMaxIdleSeconds = 0.5;

    SampleClock(int stride, double fps);
    int max_idle() const { return max_idle_; }
    // Frame `index` (pushed in order) with the detector's content score against the previous frame.
    bool rate_sample(int64_t index, double change);

private:
    int stride_, max_idle_;
    int64_t last_ = -1;
    double change_ = 0;
};

// First pass of a split run: the shot detector and the sampling rule over every frame of an input, without the
// network (a thumbnail per frame): what each frame's schedule was, for segments replayed by other engines.
class ScheduleRecorder {
public:
    explicit ScheduleRecorder(const EngineOptions &o);  // width, height, fps, stride, scene_threshold
    void push(const SalcropImage &img);
    std::vector<FrameSchedule> finish();  // once, at the end of the input

private:
    void record(const std::vector<ShotDetector::Verdict> &verdicts, int64_t release);

    EngineOptions opt_;
    Thumbnailer thumbs_;
    ShotDetector detector_;
    SampleClock clock_;
    std::vector<FrameSchedule> frames_;
    bool finished_ = false;
};

// A face on a decided frame (the debug view, the editor): its track, its box and whether it speaks.
struct FaceMark {
    int id = -1;
    Box box;
    float speaking = kSpeakingUnknown;
};

struct Decision {
    int64_t frame = 0;
    double t = 0;
    Window win;
    int shot = 0;
    ShotMode mode = ShotMode::Stationary;
    SegmentKind segment = SegmentKind::Stationary;  // what the camera does on this frame
    PlanReason reason = PlanReason::Planned;        // the planner held: its chunk's plan fell below the floor
    std::string note;  // the first frame of a chunk that held: the planner's why, with the masses (path JSON)
    double yaw = 0, pitch = 0, fov = 0;  // projection=equirect: the view's direction and fov, degrees
    int speaker = -1;  // the face track followed because it speaks (tracks.h), -1 = none
    int subject = -1;  // the picked subject's track kept on this frame, -1 = none or lost
    Box subject_box;   // that track's box on this frame (path JSON "subject"); empty where lost
    std::vector<FaceMark> faces;  // speakers=auto: the faces seen on this frame
};

// A track's extent for the path JSON's shots: the frames from its first to its last detection.
struct TrackSpan {
    int id = -1;
    TrackKind kind = TrackKind::Face;
    int shot = 0;
    int64_t start = 0, end = 0;
};

class Engine {
public:
    explicit Engine(const EngineOptions &o);

    void push(const SalcropImage &img, double t);
    // Sound for analysis (salcrop_push_audio): mixed down and resampled into audio(); std::invalid_argument for a
    // malformed block. audio_end(): no more sound (or none at all).
    void push_audio(const SalcropAudio &a, double t);
    void audio_end();
    // The sound of the frames not yet decided (and kAudioKeepSeconds before them: the speaker models' context).
    const AudioTrack &audio() const { return audio_; }
    static constexpr double kAudioKeepSeconds = 2.0;
    bool pop(Decision *out, size_t output = 0);  // the output's next decision if one is ready
    void flush();

    size_t outputs() const { return outputs_.size(); }  // one per ratio
    void output_size(int *w, int *h, size_t output = 0) const;
    const Ratio &ratio(size_t output = 0) const { return output_at(output).ratio; }
    const std::string &describe() const { return describe_; }
    int max_delay() const { return max_delay_; }
    // Called once before the first push with what the caller keeps per frame awaiting its decision. Under the
    // memory budget (options max_memory: 0 = kDefaultMaxMemoryMB, > 0 = that many MB) it settles how many of
    // the max_delay() frames may stay in memory (frames_in_memory()); the caller keeps the others elsewhere
    // (the filter: a temporary file; the CLI: it decodes the file twice), so the lookahead and the path do not
    // change, and describe() says what the budget did. Without a budget (max_memory < 0) it throws
    // std::invalid_argument, naming a lookahead that would fit, when max_delay() frames exceed memory_limit().
    void check_buffer(int64_t bytes_per_frame);
    // How many frames awaiting their decision may stay in the caller's memory: max_delay() when all fit.
    int frames_in_memory() const { return frames_in_memory_; }
    // The frames a run usually holds: the lookahead and one gap between two runs of the network, without an
    // open fade or a worker running behind (max_delay() counts those too).
    int usual_delay() const { return lookahead_frames_ + clock_.max_idle() + ShotDetector::kWindow + 1; }
    const std::string &path_json(size_t output = 0);  // everything popped so far from that output
    // One line on what the run did to that output's popped frames: the shots, how much the camera held or moved,
    // its cuts, and with speakers=auto or picked subjects whom it followed and what finding them cost. The filter
    // logs it at the end of a stream, the CLI prints it: what a user sees without reading the path JSON.
    std::string summary(size_t output = 0);

    // The saliency map of the most recently popped decision, map_height() x map_width() row-major (needs
    // keep_maps): what the planner saw on that frame, for front ends that plan again from it (the editor).
    const std::vector<float> &popped_map() const;
    int map_height() const { return model_->map_height(); }
    int map_width() const { return model_->map_width(); }

    // Debug view of the most recently popped decision (needs keep_maps).
    void draw_debug(const Decision &d, uint8_t *const data[4], const int linesize[4], SalcropPixelFormat format) const;
    // A padded decision rendered into an output-sized picture of the source's format.
    void render_padded(const Decision &d, const SalcropImage &src, uint8_t *const dst[4], const int dst_ls[4],
                       size_t output = 0) const;

    // projection=equirect: renders the decision's view of the (eye of the) equirect frame into an output-sized
    // picture of the source's format.
    void render_view(const Decision &d, const SalcropImage &src, uint8_t *const dst[4], const int dst_ls[4]);
    bool sphere() const { return projection_ == Projection::Equirect; }
    const ViewGeometry &view_geometry() const { return view_; }

    // The people tracks (faces with who speaks, picked subjects) of the frames not yet decided, and of the most
    // recently popped one (tracks.h): for the debug view, the path JSON and the editor.
    const TrackSet &tracks() const { return people_; }
    // Every track seen so far, with its extent (path JSON "tracks").
    const std::vector<TrackSpan> &track_spans() const { return spans_; }
    // speakers=auto on a flat input: faces are detected and tracked.
    bool faces_on() const { return faces_ != nullptr; }
    // The scheduled face detections so far: run, and let go while the faces kept still (face_worker.h). Counted
    // as the engine takes the worker's results, in push order, so the threaded and the synchronous runs agree.
    struct FaceDetectionCounts {
        int64_t run = 0, let_go = 0;
    };
    const FaceDetectionCounts &face_detections() const { return face_counts_; }

    const EngineOptions &options() const { return opt_; }
    const Geometry &geometry(size_t output = 0) const { return output_at(output).geo; }

private:
    struct Frame {
        int64_t index = 0;
        double t = 0;
        bool known = false;         // profiles (and map) filled: sampled or interpolated
        std::vector<std::vector<float>> profiles;  // one per output
        std::vector<float> map;     // keep_maps only
    };
    // One output: its ratio's window, what it plans from and what it decided.
    struct Output {
        Ratio ratio;
        Geometry geo;
        int bins = 0;
        std::map<int64_t, double> pins;  // the user's keyframes: frame -> window position along the axis
        Carry carry;
        std::vector<float> last_profile;
        std::deque<Decision> ready;
        std::vector<Decision> log;  // popped decisions, for path_json
        std::string json;
        FloorState floor;  // who the camera follows (speaker_policy.h)
    };
    struct Pending {
        int64_t index;
        double t;
        std::vector<uint8_t> input;  // model input, 0..255; only for rate samples and possible cuts
        bool rate_sample;            // the network runs on it whatever the verdict
    };

    // What follows a verdict is queued as steps and run in order once the maps they need are back from the
    // worker: the same steps in the same order as with the model inline, so the decisions are identical.
    struct Step {
        enum Kind { AddFrame, NewShot, Sample, Plan, PlanShot } kind;
        int64_t frame;  // AddFrame, Sample
        double t;       // AddFrame
        bool interp;    // Sample: interpolate back to the shot's previous sample
    };
    static constexpr int kWorkerSlack = 2;

    bool replaying() const { return !opt_.replay.empty(); }
    // Replay: the verdicts the whole run's detector returned at push `release` (and before).
    std::vector<ShotDetector::Verdict> replay_verdicts(int64_t release);
    void on_verdict(const ShotDetector::Verdict &v);
    void apply_sample(int64_t index, bool interp);
    void note_motion(const std::vector<uint8_t> &input, bool new_shot);  // equirect: what moves (sphere.h)
    // equirect with speakers=auto: faces on the sphere (sphere_faces.h), detected at push on sampled frames at
    // most every sphere_face_every_ frames; each sample plans with the cell-wise second largest of its shot's last
    // kFaceDetections detections' maps (face_maps_): a face counts while two of them found it.
    void detect_sphere_faces(const SalcropImage &img, int64_t index, bool sampled, bool may_start_shot);
    void note_sphere_faces(int64_t frame, bool new_shot);
    // Runs queued steps until one needs a map that is not back yet (wait=false) or max_samples maps were used.
    void run_steps(bool wait, size_t max_samples = SIZE_MAX);
    void finish_shot();
    void hold_tail();
    // Plans what is known; false when it stopped to wait for sound (heard_enough), to be called again.
    bool plan_known(bool whole_shot);
    // Whether the speaker scores of the frames added so far can be final: the sound is known kSoundAfterCrop
    // past the newest, or none will come, or the stream is at its end or past max_delay (then as it is). Until
    // then planning waits, so the path does not depend on how the sound and the frames interleave (the CLI's
    // threaded decoder gave two paths for one clip; issue 25, stop 33).
    bool heard_enough() const;
    // Decisions for frames_[offset, offset + count) from the plan's first count frames.
    void commit(Output &output, const ChunkPlan &plan, size_t count, size_t offset = 0,
                const std::vector<int> *speaker = nullptr);
    // Plans frames_[from, to) of one output (targets: the whole chunk's, from frames_[0]).
    ChunkPlan plan_part(const Output &output, size_t n, size_t from, size_t to, const Carry &carry, size_t commit,
                        const std::vector<FrameTargets> &targets, const PlanParams *params = nullptr);
    void detect_faces(const SalcropImage &img, int64_t index, double t, bool sampled, bool may_start_shot);
    // The face worker's results up to frame `upto` into face_dets_ and pending_crops_; false when one is not back
    // yet (wait=false).
    bool take_faces(int64_t upto, bool wait);
    void add_face_frame(int64_t index);
    void score_speakers();
    void release(size_t count);  // the first count frames are decided by every output
    const Output &output_at(size_t output) const;  // throws std::invalid_argument for an output it does not have
    Output &output_at(size_t output);

    EngineOptions opt_;
    CheckedOptions chk_;
    std::vector<Output> outputs_;
    PlanParams params_;
    std::unique_ptr<SaliencyModel> model_;
    std::unique_ptr<Thumbnailer> thumbs_;  // every frame
    std::unique_ptr<Resampler> input_rs_;  // the frames the network may run on
    std::unique_ptr<SaliencyWorker> worker_;  // after model_: stopped before the model goes
    ShotDetector detector_;
    SampleClock clock_;
    int lookahead_frames_ = 0, max_delay_ = 0;
    int frames_in_memory_ = 0;  // check_buffer: what the memory budget lets the caller keep in memory
    std::string describe_;

    int64_t pushed_ = 0, decided_ = 0;
    bool flushed_ = false;
    std::deque<Pending> pending_;  // awaiting the detector's verdict
    std::vector<uint8_t> last_input_;           // equirect: the previous sample's input
    std::deque<std::vector<float>> motions_;    // equirect: per submitted sample, its motion map (or empty)
    std::deque<std::vector<float>> recent_motion_;  // equirect: the shot's last motion maps
    static constexpr size_t kMotionSamples = 3;
    std::unique_ptr<FaceDetector> sphere_faces_;  // equirect, speakers=auto
    static constexpr double kSphereFaceSeconds = 1.0;  // six small detector runs each: at most once a second
    int sphere_face_every_ = 0;
    // After two detections in a row with no face that counts (a landscape, a sky), the flat faces' back-off
    // (face_worker.h FaceWorker::kEmptySkips, the one number for both) until one is found or a shot may start: a
    // face is looked for every 5 s. A person who comes in is followed up to 4 s later (two detections must find them).
    int sphere_empty_run_ = 0;
    int64_t last_sphere_face_ = -1;
    std::map<int64_t, std::vector<SphereFace>> sphere_face_dets_;  // detected, not yet taken by a sample
    std::deque<std::vector<float>> recent_faces_;  // the shot's last detections as maps (empty: nobody)
    static constexpr size_t kFaceDetections = 5;
    std::deque<std::vector<float>> face_maps_;  // per submitted sample, its face map (or empty)
    std::deque<Frame> frames_;     // current shot, not yet decided
    std::deque<Step> steps_;       // not yet run
    int64_t released_ = 0;  // replay: frames whose verdict was given
    bool shot_open_ = false;
    std::vector<std::vector<uint8_t>> spare_inputs_;  // model-input buffers of past verdicts, for reuse
    std::vector<float> scratch_;
    // Updated as steps run (what the maps say).
    int shot_ = -1;
    int64_t last_sample_ = -1;
    std::vector<float> map_buf_, last_map_;

    std::deque<std::vector<float>> ready_maps_;  // keep_maps (one output): the map of each ready decision

    // projection=equirect (sphere.h, planner_sphere.h): one output; frames' profiles hold their sphere maps.
    SalcropImage eye(const SalcropImage &img) const;  // the eye used, of a stereo layout
    void plan_sphere(size_t known, size_t count);
    Projection projection_ = Projection::Flat;
    Stereo stereo_ = Stereo::Mono;
    ViewGeometry view_;
    SeamPadding seam_;
    SphereSaliency sphere_saliency_;
    SphereCarry sphere_carry_;
    std::map<int64_t, std::pair<double, double>> sphere_pins_;  // frame -> yaw, pitch
    std::vector<ViewRenderer> renderers_;
    std::vector<float> core_input_;
    std::vector<float> popped_map_;              // map of the most recently popped decision
    TrackSet people_;  // tracks.h: faces, speakers, picked subjects
    // Faces (speakers=auto, flat input): detected at push on the frames the saliency clock samples, at most every
    // face_every_ frames, and associated into people_ as the steps run, in frame order.
    std::unique_ptr<FaceDetector> faces_;
    std::unique_ptr<FaceTracker> face_tracker_;
    int face_every_ = 0;
    int64_t last_face_ = -1;
    bool face_must_detect_ = true;  // a shot may have started since the latest detection: the next one runs
    std::map<int64_t, std::vector<FaceDetection>> face_dets_;  // detected, not yet associated
    std::map<int64_t, std::vector<int>> face_ids_;             // a detected frame -> its detections' tracks
    struct PendingCrop {
        int64_t sample;  // the detected frame whose box it was cut with
        size_t det;
        FaceCrop crop;
    };
    std::unique_ptr<SpeakerScorer> scorer_;      // who speaks (speakers.h), with faces
    static constexpr double kNoAudioSeconds = 2.0;  // no sound pushed by then: no crops are cut (nothing to hear)
    // Without sound, the moving mouth as the guess of who speaks (speakers.h score_mouth, speaker_policy.h
    // kMouthRules; issue 25 stop 32): off by default (it did not help held out, EVALUATION.md), SALCROP_MOUTH_GUESS=1
    // turns it on (then crops are cut without sound too).
    static constexpr bool kMouthGuessDefault = false;
    bool mouth_guess_ = false;
    std::vector<SubjectPick> face_picks_;  // subjects picked by face track id (pinned in add_face_frame)
    std::vector<bool> face_pick_seen_;     // per face pick: its track was on screen from its frame on
    bool no_sound(double t) const { return !audio_.any() && (audio_.ended() || t > kNoAudioSeconds); }
    static constexpr int kFaceJobs = 4;  // frame copies the face worker may hold beyond one detection gap
    std::deque<PendingCrop> pending_crops_;      // cut, waiting for their detection's track
    // The detector and the crops run on their own thread (face_worker.h), in push order; last: stopped first.
    std::unique_ptr<FaceWorker> face_worker_;
    int face_jobs_ = 0;  // the most frame copies it holds (counted in the memory budget)
    FaceDetectionCounts face_counts_;
    std::map<int, std::vector<FaceCrop>> crops_; // per face track, not yet scored
    std::vector<TrackSpan> spans_;
    AudioTrack audio_;  // audio.h: the sound, mono 16 kHz, dropped behind the decided frames

    // Picked subjects (subjects.h): tracked forward at push; backward from a pick over the grey tracking copies
    // (subject_tracker.h) of the frames before it, kept only for the pick_lookback_ frames before a pick to come
    // (~300 KB each at 640x360), while no frame from pick_lookback_ before a pick to come is planned.
    void track_subjects(const SalcropImage &img, int64_t index);
    void cut_subjects(int64_t cut);  // a shot starts at `cut`: no track crosses it
    std::vector<SubjectPick> picks_;      // by frame
    size_t next_pick_ = 0;                // the first pick not yet pushed
    int pick_lookback_ = 0, hold_frames_ = 0;
    std::deque<std::pair<int64_t, GreyFrame>> grey_;  // frames before the next pick, oldest first
    struct LiveSubject {
        int id;
        SubjectTracker tracker;
    };
    std::vector<LiveSubject> live_;       // subjects tracked forward as frames come
    Resampler grey_rs_{1, 1};
    int64_t last_cut_ = 0;                // the latest shot start the detector confirmed
    int64_t popped_frame_ = -1;
};

}  // namespace salcrop
