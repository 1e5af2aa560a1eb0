// The crop planner: pure functions from saliency profiles and shot boundaries to crop windows. No model, no
// I/O, no ONNX Runtime: testable with plain arrays (through _core.plan_path).
//
// The window is the largest window of the target ratio inside the frame, so it moves along one axis only:
// x when the source is wider than the target, y when it is narrower. The planner therefore works on 1-D
// profiles: each frame's saliency summed across the axis the window does not move on.
//
// Each shot's path p(t) is L1-optimal (Grundmann, Kwatra & Essa, "Auto-directed video stabilization with
// robust L1 optimal camera paths", CVPR 2011): it minimizes w1 |Dp|_1 + w2 |D2p|_1 + w3 |D3p|_1 plus, per frame,
// a penalty for each pixel by which the window misses the frame's salient cores (the shortest intervals holding
// kCoreShares of its saliency; one longer than the window, the best window itself), subject to the window
// staying inside the frame, bounded velocity and acceleration, and the user's keyframes (hard). L1 norms give
// what a camera operator does: still segments, constant-speed pans and short eases between them. The linear
// program is built from arrays alone (build_path_lp) and solved by COIN-OR Clp (lp_solver.h).
// Several subjects (the best window jumps by more than half a window): the camera holds its subject and takes
// the other only once that one has led for about a second (hold_subject, hysteresis); with pad, the window
// widens to keep both. In auto mode the window never turns back within kNoReversalSeconds: where the optimum
// does, the LP is solved again with that stretch held to one direction. Forced modes constrain the path:
// stationary Dp = 0, pan D2p = 0, track leaves it free.
// Streaming: chunks of the lookahead; the seam carries position, velocity and acceleration (no jump, no kink).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lp_solver.h"
#include "options.h"

namespace salcrop {

constexpr double kPadMinKept = 0.50;  // pad when even the best window per frame keeps less than this,
constexpr double kSplitShare = 0.8;   // or when the shortest interval holding this share of the mass is longer
constexpr double kPadSplitFrames = 0.5;  // than the window on this share of the frames (several subjects)
constexpr double kCoreShares[] = {0.5, 0.9};  // a frame's salient cores: the shortest intervals holding these
constexpr double kMovePaysSeconds = 0.1;     // at smoothing 0.5; the costs of motion (planner.cpp)
constexpr double kSpeedChangeSeconds = 0.05;
constexpr double kJerkSeconds = 0.05;
constexpr double kNoReversalSeconds = 1.0;  // auto mode: no turn back within this long of a move
constexpr int kMaxReversalPasses = 8;       // re-solves that forbid a turn back, per chunk

struct Geometry {
    int frame_w = 0, frame_h = 0;
    int win_w = 0, win_h = 0;
    bool vertical = false;  // the window moves along y (source narrower than the target)
    int length() const { return vertical ? frame_h : frame_w; }
    int win_length() const { return vertical ? win_h : win_w; }
    int range() const { return length() - win_length(); }
};

// The largest window of the ratio inside the frame (even sizes when `even`).
Geometry make_geometry(int width, int height, const Ratio &ratio, bool even);

struct PlanParams {
    double fps = 25;
    double smoothing = kDefaultSmoothing;
    bool forced = false;
    ShotMode mode = ShotMode::Track;  // when forced
    PadMode pad = PadMode::None;
    bool even = true;
    int lookahead_frames = 0;  // plan_offline: chunks as the streaming engine plans them; 0 = whole shots
};

// Velocity and acceleration limits of a track, per frame, for these parameters.
struct MotionLimits {
    double vmax = 0, amax = 0;  // px/frame, px/frame^2
};
MotionLimits motion_limits(const Geometry &g, const PlanParams &p);

// Where the camera is at the end of a planned chunk, so the next chunk of the same shot starts there.
struct Carry {
    bool valid = false;
    double x = 0, v = 0, a = 0;  // position along the axis, velocity and acceleration: px, px/frame, px/frame^2
    double held = 0;             // the best window of the subject held (several subjects: hysteresis)
    int dir = 0, dir_age = 0;    // the latest move's direction (+1, -1, 0 none) and how many frames ago
    ShotMode mode = ShotMode::Stationary;
    bool padded = false;
    int pad_x = 0, pad_len = 0;  // padded region along the axis
};

struct Window {
    int x = 0, y = 0, w = 0, h = 0;
    bool padded = false;
};

// What the camera does on one frame: holds still, pans at constant speed, or eases between the two.
enum class SegmentKind { Stationary = 0, Pan = 1, Ease = 2 };
const char *segment_name(SegmentKind k);

struct ChunkPlan {
    ShotMode mode = ShotMode::Stationary;  // the forced mode; else stationary (never moves), pan (one speed), track
    std::vector<Window> windows;
    std::vector<SegmentKind> labels;  // per frame
    Carry carry;  // state after frame `commit - 1`
    double kept = 0;  // salient mass kept by the plan relative to per-frame best windows
};

// Everything the path's linear program depends on, as plain arrays (one entry per frame of the chunk).
struct PathProblem {
    int frames = 0;
    double range = 0;                 // positions run over [0, range]
    // Soft constraints: on `frame`, the window's position should lie in [lo, hi]; each pixel outside costs
    // `weight`. Several nested bands per frame make a convex, piecewise-linear penalty.
    struct Band {
        int frame;
        double lo, hi, weight;
    };
    std::vector<Band> bands;
    std::vector<double> pins;         // a keyframe's position, or NaN
    double w1 = 1, w2 = 1, w3 = 1;    // costs of |Dp|, |D2p|, |D3p| per pixel
    double vmax = kLpInfinity, amax = kLpInfinity;  // bounds on |Dp| and |D2p|
    bool limits = true;               // apply vmax and amax
    Carry carry;                      // fixes the three positions before the chunk when valid
    int seam_order = 3;               // how many derivatives the seam carries (1: position only)
    bool forced = false;
    ShotMode mode = ShotMode::Track;  // when forced: Stationary adds Dp = 0, Pan D2p = 0
    std::vector<int> direction;       // per frame: +1 Dp >= 0, -1 Dp <= 0, 0 free (empty: all free)
};
// The LP: columns 0..n-1 are the positions; the rest are the L1 terms' parts and the slacks. velocity_columns
// (when given) receives, per frame, the columns of the positive and negative parts of its velocity (-1: none).
LinearProgram build_path_lp(const PathProblem &problem, std::vector<int> *velocity_columns = nullptr);

// Plans frames [0, n) of one shot from their profiles (each `bins` floats spanning the frame along the axis).
// carry: where the previous chunk of this shot left the camera (invalid for a shot's first chunk).
// commit: how many frames the caller will use; the returned carry describes the camera after them.
// pins: per frame, the window's position along the axis a keyframe fixes, or NaN (empty: none).
ChunkPlan plan_chunk(const Geometry &g, const PlanParams &p, const std::vector<const float *> &profiles, int bins,
                     const Carry &carry, size_t commit, const std::vector<double> &pins = {});

// Sums a map (map_h x map_w, row-major) into the profile along the geometry's axis.
void map_to_profile(const Geometry &g, const float *map, int map_h, int map_w, float *profile);
int profile_bins(const Geometry &g, int map_h, int map_w);

struct Segment {
    int64_t start = 0, end = 0;
    SegmentKind kind = SegmentKind::Stationary;
};
// Runs of equal labels, frame numbers from `first`.
std::vector<Segment> segments_of(const std::vector<SegmentKind> &labels, int64_t first);

struct ShotPlan {
    int64_t start = 0, end = 0;
    ShotMode mode = ShotMode::Stationary;
    std::vector<Segment> segments;
};

// A user's keyframe: at `frame`, the window's centre is at (x, y) in source pixels (only the coordinate along
// the moving axis matters).
struct Keyframe {
    int64_t frame = 0;
    double x = 0, y = 0;
};
// The window position along the axis that puts its centre on the keyframe (inside the frame).
double keyframe_position(const Geometry &g, const Keyframe &k);
// Per frame of a clip of `frames`, the window position a keyframe pins, or NaN. Throws std::invalid_argument
// for a keyframe outside the clip or two on one frame.
std::vector<double> keyframe_pins(const Geometry &g, const std::vector<Keyframe> &keys, size_t frames);

// Whole-clip planning: every shot independently, maps: T maps of map_h x map_w. With p.lookahead_frames, each
// shot in the engine's chunks (plan that many frames, keep the first half, carry on), else all of it at once.
// pins: empty, or per frame of the clip a keyframe's position along the axis (NaN where none).
void plan_offline(const Geometry &g, const PlanParams &p, const float *maps, size_t frames, int map_h, int map_w,
                  const std::vector<int64_t> &cuts, std::vector<Window> *windows, std::vector<ShotPlan> *shots,
                  const std::vector<double> &pins = {});

}  // namespace salcrop
