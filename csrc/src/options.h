// Engine options as C++ values, their defaults and their validation. Shared by the C ABI and the
// Python module so both refuse the same things with the same messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace salcrop {

// Defaults, measured on the real clips (see shots.h for the detector's).
constexpr int kDefaultStride = 3;
constexpr double kDefaultLookahead = 4.0;
constexpr double kDefaultSmoothing = 0.5;
constexpr double kDefaultSceneThreshold = 3.0;
// The default budget (MB) for the frames a front end keeps awaiting their decisions: with the decoder's own frames
// and the core, 8 s of 3840x2160 at 60 fps stays under 1 GB (BENCHMARKS.md, issue 27). Frames past it wait in a
// temporary file (the filter) or are decoded again (the CLI's second pass).
constexpr double kDefaultMaxMemoryMB = 448.0;

struct Ratio {
    int num = 9, den = 16;
    double value() const { return double(num) / den; }
};

// "W:H", "W/H" or a decimal; refuses zero, negative, non-numeric and absurd (outside 1:10 .. 10:1) ratios.
Ratio parse_ratio(const std::string &text);

// One ratio, or several separated by '|' (the filter's list syntax) or ',' (the CLI's): one output each, planned
// from the same saliency pass. Refuses an empty item and a ratio given twice (9:16 and 18:32 are one ratio).
std::vector<Ratio> parse_ratios(const std::string &text);

// `speakers` when the user gave none, the one rule of every front end (the filter through the C ABI, Python
// through _core): "auto" where sound reaches the engine (a user who gives it the sound wants who speaks followed;
// it serves nothing else) or the view is 360° (the faces around the camera pull it; the operator's face, too close
// to the lens, does not count: sphere.h), else "off" (saliency alone).
const char *default_speakers(bool sound, bool sphere);

enum class ShotMode { Stationary = 0, Pan = 1, Track = 2 };
const char *mode_name(ShotMode m);

enum class PadMode { None, Blur, Black };

// One frame's fate in a run over a whole input, as the shot detector and the network's sampling rule decided it
// (recorded by ScheduleRecorder, engine.h). A segment of the input that starts at a cut, replayed with its
// frames' schedules, gets exactly the decisions the whole run gives those frames (salcrop --split-shots).
struct FrameSchedule {
    bool rate_sample = false;  // the network runs on it at the sampling rate
    bool cut = false;          // it starts a shot (frame 0 of the input does)
    int64_t release = 0;       // the push (frame index) whose call returned its verdict; the frame count: flush
};

struct EngineOptions {
    int width = 0, height = 0;
    double fps = 0;
    std::string ratio = "9:16";
    std::string model;        // empty = default model
    std::string device = "auto";
    std::string mode = "auto";
    std::string ort_library;  // empty = search
    int stride = kDefaultStride;
    double lookahead = kDefaultLookahead;
    double scene_threshold = kDefaultSceneThreshold;
    double smoothing = kDefaultSmoothing;
    std::string pad = "none";
    int threads = 0;
    bool even = true;
    bool keep_maps = false;
    // Replay instead of detection: the schedule of this segment's frames (indices and releases relative to its
    // first frame, which must start a shot), and the push, relative to it, whose verdicts closed the segment's
    // last shot in the whole run (the next segment's cut; the segment's frame count at the input's end).
    std::vector<FrameSchedule> replay;
    int64_t replay_end = 0;
    std::string keyframes;    // JSON text of the user's keyframes (keyframes.h); empty = none
    // 360° input (sphere.h): "equirect" renders a perspective view of the sphere instead of cropping.
    std::string projection = "flat";
    double fov = 90.0;        // the view's horizontal field of view, degrees
    int view_w = 0, view_h = 0;  // output size; 0 = keep the source's angular resolution at the view's centre
    std::string stereo = "mono";  // "tb" / "sbs": the top / left eye is used
    double front = -1;        // weight of the front prior, 0..1; < 0 = the default (sphere.h, SphereSaliency)
    // People (tracks.h): "auto" = faces, and who speaks when audio is pushed; "off" (the default until who-speaks
    // beats saliency on a labelled dialogue: EVALUATION.md, Issue 25) = saliency alone.
    std::string speakers = "off";
    std::string subjects;     // JSON text of the user's picked subjects (subjects.h); empty = none
    double max_memory = 0;    // MB for the caller's held frames: 0 = default budget, < 0 = none
};

// Parsed and checked values derived from EngineOptions.
struct CheckedOptions {
    Ratio ratio;                // the first of ratios
    std::vector<Ratio> ratios;  // one output each
    bool forced = false;   // mode != auto
    ShotMode mode = ShotMode::Track;
    PadMode pad = PadMode::None;
    bool speakers = false;  // speakers=auto: faces (and who speaks, with audio) enter the plan
};

// Throws OptionError naming the first bad option and the allowed values.
CheckedOptions validate(const EngineOptions &o);

// Device string check alone (used by SaliencyRunner too).
void validate_device(const std::string &device);
ShotMode parse_mode(const std::string &mode, bool *forced);

}  // namespace salcrop
