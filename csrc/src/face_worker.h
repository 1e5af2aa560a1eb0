// Faces on a thread of their own (issue 25's cost). The face detector is the dearest part of speakers=auto
// (~26 ms a run at 720p on one core): run inside push() it held up the thread that feeds the engine while the other
// core idled. The worker takes, in push order, a copy of what each job needs of a frame (every plane for a frame
// the detector runs on; the luma for one whose faces are only cut out for the speaker scorer while a detection is
// still running: when none is, its crops are cut inside submit(), without a copy) and gives back what push()
// computed before: the detections of the detected frames and each face's crop, cut with the latest detection's
// boxes (held while they only jitter, kCropHold). Jobs run strictly in order and the engine takes the
// results in order before the frame's AddFrame step, so the tracks, the speaking scores and the path do not depend
// on timing (SALCROP_FACES_SYNC=1 runs every job inside submit(), as before: the tests compare the two).
//
// Still faces (issue 25, stop 32): a detection whose faces all stayed where the crops hold them (each within
// kStillShare of its size of its held box, the same number of faces; no face twice counts too) lets the next
// scheduled detection go (kStillSkips in a row at most): the crops keep the held boxes, and the tracks interpolate
// over the longer gap. The detector is the dearest part of speakers=auto, and talking heads keep still. A detection the
// engine marks `must_detect` (a shot may start on or before its frame) always runs. Decided in job order, on the
// results alone, so the threaded and the synchronous runs skip the same detections.
//
// Memory: at most max_jobs frame copies wait (submit() waits for the oldest beyond that): the engine counts them in
// its memory budget. Copies are recycled, so a long run allocates them once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "faces.h"
#include "ordered_jobs.h"
#include "speakers.h"

namespace salcrop {

class FaceWorker {
public:
    // The crops' box moves once the face moved this share of its size (the scorer reads the mouth's brightness
    // against the eyes', and every jump of the box is a change of both).
    static constexpr double kCropHold = 0.15;
    // Scheduled detections let go in a row while the faces keep still (1: a still face is looked at every 0.4 s
    // instead of 0.2 s, and a face that comes in is found at most 0.2 s later than before).
    static constexpr int kStillSkips = 1;
    // Let go in a row where the latest two detections found no face at all (a landscape, a game, an animation
    // with a voice over it): a face is then looked for every 1 s instead of every 0.4 s. A face that comes in
    // mid-shot is found up to 0.8 s later than with kStillSkips, before it could compete for the floor anyway
    // (speaker_policy.h kSettleSeconds, 0.5 s on screen); the first detection after a possible cut still always
    // runs. Since speakers=auto is the default where there is sound, video without people would otherwise pay for
    // ~2.5 detector runs a second for nothing.
    static constexpr int kEmptySkips = 4;
    // Still: every face within this share of its size of its held box (half of kCropHold), so that the detection
    // let go would most likely have held the same box and the speaker scorer reads the same crops. Measured on
    // msdwild-00115 (issue 25, stop 32; tuned there): letting go whenever the boxes were held (0.15) moved the
    // mouth scores where a face leaned back and forth and the speaker was inside on 62% of the frames, not 91%.
    static constexpr double kStillShare = 0.075;

    // detector: used from the worker's thread only from now on. synchronous: run each job inside submit().
    FaceWorker(FaceDetector &detector, size_t max_jobs, bool synchronous);
    ~FaceWorker();  // stops after the running job and joins
    FaceWorker(const FaceWorker &) = delete;
    FaceWorker &operator=(const FaceWorker &) = delete;

    struct Crop {
        int64_t sample;  // the detected frame whose box it was cut with
        size_t det;      // that detection's index
        FaceCrop crop;
    };
    struct Result {
        int64_t frame = 0;
        bool detected = false;
        bool let_go = false;  // a scheduled detection let go: the faces kept still (the crops keep the held boxes)
        std::vector<FaceDetection> dets;  // detected: the detector's boxes, as found
        std::vector<Crop> crops;
    };

    // Queues frame `frame` (pushed in order): detect runs the detector on it, cut cuts each face's crop with the
    // latest detection (this one's when detect). must_detect: the detection runs even if the faces kept still.
    // Waits while max_jobs copies are waiting.
    void submit(const SalcropImage &img, int64_t frame, double t, bool detect, bool cut, bool must_detect = false);
    // Whether a crop-only job for the next frame would find no face: nothing queued or running, and the latest
    // detection found none (then the frame need not be copied at all).
    bool no_faces() const;
    // The oldest result not yet taken, if its frame is at most `upto`: Took; None when there is no such job;
    // NotYet when it is not finished (wait=false; wait=true waits for it). Rethrows the job's error.
    enum class Take { Took, None, NotYet };
    Take take(int64_t upto, Result &out, bool wait);
    // Bytes one waiting copy takes at most for this picture (every plane).
    static int64_t copy_bytes(const SalcropImage &img);

private:
    struct Job {
        int64_t frame = 0;
        double t = 0;
        bool detect = false, cut = false, must_detect = false;
        SalcropImage img{};          // views into pixels
        std::vector<uint8_t> pixels;  // the copy
        bool done = false;
        Result result;
        std::exception_ptr error;
    };
    void copy_into(const SalcropImage &img, bool all_planes, Job &job);
    void loop();
    void run(Job &job);  // on the worker's thread (or inside submit when synchronous)

    FaceDetector &detector_;
    const size_t max_jobs_;
    const bool synchronous_;
    mutable std::mutex mu_;
    std::condition_variable work_cv_, done_cv_;
    std::deque<Job> jobs_;  // oldest first; jobs_[next_] is the next to run; finished ones stay until taken
    size_t next_ = 0;
    size_t waiting_ = 0;    // jobs holding a copy (not yet run)
    bool stop_ = false;
    bool latest_empty_ = true;  // the latest finished detection found no face (guarded by mu_)
    std::vector<std::vector<uint8_t>> spare_;  // recycled copies (guarded by mu_)
    // Touched by the running job only.
    std::vector<FaceDetection> latest_dets_;  // the crops' boxes
    int64_t latest_frame_ = -1;
    bool still_ = false;  // the latest detection found the faces of the one before it, where they were
    int skips_ = 0;       // scheduled detections let go since the latest one that ran
    std::thread thread_;  // last: starts once everything above exists
};

}  // namespace salcrop
