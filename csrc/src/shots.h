// Shot-boundary detection, two rules in the spirit of PySceneDetect:
//  - hard cuts (AdaptiveDetector): the content score of a frame is the mean absolute difference of H, S and V
//    against the previous frame (ContentDetector's measure); a frame starts a new shot when its score is at
//    least `threshold` times the average score of its neighbours (kWindow frames each side) and at least
//    kMinScorePerThreshold*threshold in absolute terms. Comparing against neighbours keeps fast camera motion
//    (high but steady scores) from reading as cuts. Changes into or out of black are left to the next rule.
//  - fades through black (ThresholdDetector): frames darker than kBlackLevel form a dark run; when content
//    fades back in after content faded out, the boundary is placed inside the run at ThresholdDetector's split
//    with fade_bias kFadeBias (a little after the middle, as the hand-labelled cuts of testvideo.mp4 are).
//    Black before the first content or after the last is not a shot of its own.
// Every shot lasts at least half a second; the frames decided only at the end (the last kWindow, whose right
// neighbours never come) start no shot either, so a file's stray last frame is no shot of its own (BQTerrace of
// hevc-gaze). The boundary of a fade is only known when the picture comes back,
// so verdicts wait while a fade is open, at most kMaxFadeSeconds (then the fade is closed there).
#pragma once

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "preprocess.h"

namespace salcrop {

class ShotDetector {
public:
    static constexpr int kWindow = 2;                      // neighbours each side (PySceneDetect's default)
    static constexpr double kMinScorePerThreshold = 5.0;  // 15 at the default threshold 3, like min_content_val
    static constexpr double kBlackLevel = 5.5;            // mean RGB (0..255) below which a frame is black
    static constexpr double kFadeBias = 0.3;              // ThresholdDetector's fade_bias (-1 = fade-out end)
    static constexpr double kMaxFadeSeconds = 2.0;        // longest a verdict waits for a fade-in
    static constexpr double kMinShotSeconds = 0.5;
    static constexpr float kDarkPixel = 32.0f;            // V below which a pixel's hue and saturation are noise

    // threshold 0 disables detection (one shot).
    ShotDetector(double threshold, double fps);

    struct Verdict {
        int64_t frame;
        bool cut;  // frame starts a new shot (frame 0 never counts as a cut)
    };

    // Each frame is reported once, in order, at most lag() frames after it was pushed.
    std::vector<Verdict> push(const Thumbnail &t);
    std::vector<Verdict> flush();
    int lag() const { return enabled_ ? kWindow + max_fade_ : 0; }

    // What is known of the frame pushed last as soon as it is pushed, long before its verdict: its content
    // score against the previous frame (0 for frame 0; also with detection off) and whether it may turn out
    // to start a shot. The latter is a superset of
    // the cuts: frame 0, a content score reaching the cut minimum (content cuts need it), or a dark frame
    // (fades place their boundary inside the dark run).
    double newest_change() const { return newest_change_; }
    bool newest_may_start_shot() const { return newest_may_start_; }

private:
    bool content_cut(int64_t i, int64_t last) const;
    double score(int64_t frame) const;
    bool dark(int64_t frame) const;
    void decide_until(int64_t end, int64_t last, std::vector<Verdict> *out, bool at_end = false);

    bool enabled_;
    double threshold_, min_score_;
    int64_t min_len_, max_fade_;
    int64_t pushed_ = 0, decided_ = 0, last_cut_ = 0;
    // Per-frame score and darkness of frames [base_, pushed_).
    std::deque<std::pair<double, bool>> frames_;
    int64_t base_ = 0;
    Thumbnail prev_;
    double newest_change_ = 0;
    bool newest_may_start_ = false;
    // Fade state.
    bool seen_content_ = false;  // a non-black frame before the current dark run
    bool in_dark_ = false;
    bool fade_closed_ = false;   // the current dark run already produced its boundary
    int64_t fade_out_ = 0;
    std::deque<int64_t> fade_cuts_;  // boundaries found, not yet reported
};

}  // namespace salcrop
