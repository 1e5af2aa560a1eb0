// The crop planner: pure functions from saliency profiles and shot boundaries to crop windows. No model, no
// I/O, no ONNX Runtime: testable with plain arrays (through _core.plan_path).
//
// The window is the largest window of the target ratio inside the frame, so it moves along one axis only:
// x when the source is wider than the target, y when it is narrower. The planner therefore works on 1-D
// profiles: each frame's saliency summed across the axis the window does not move on.
//
// The objective is the map's mass inside the window, summed over frames, minus the costs of motion
// w1 |Dp|_1 + w2 |D2p|_1 + w3 |D3p|_1 (L1 norms, Grundmann, Kwatra & Essa, "Auto-directed video stabilization with
// robust L1 optimal camera paths", CVPR 2011: still segments, constant-speed pans, short eases). The mass is not
// concave in the position (several subjects), so it is maximised in two steps:
// 1. a dynamic programme over a grid of positions finds the global route (which subject, when to switch) for the
//    mass minus w1 |Dp| (bounded velocity, keyframes, the seam's position);
// 2. the L1 linear program (build_path_lp, solved by COIN-OR Clp, lp_solver.h) smooths within a corridor around
//    that route: per frame the lost mass is replaced by its convex hull over the corridor (exact where the mass is
//    concave, e.g. one subject), walls outside; bounded velocity and acceleration, keyframes hard.
// A static window is one of the route's candidates at zero motion cost, so the route never keeps less mass than
// the best static window; the smoothed path is checked against it over the shot so far and the chunk, and falls back
// to a hold on the shot's best static window when it keeps more than kFloorAllowance less (exact on a shot's first
// chunk; later chunks start from the seam) (ChunkPlan::reason says so). Moving must pay: a frame's
// whole mass is worth kMassValue window lengths of motion, so weak or flickering evidence leaves the camera still.
// With pad, several subjects widen the window to keep them all. In auto mode the window never turns back within
// kNoReversalSeconds: where the optimum does, the LP is solved again with that stretch held to one direction.
// Forced modes constrain the path: stationary Dp = 0, pan D2p = 0, track leaves it free.
// Streaming: chunks of the lookahead; the seam carries position, velocity and acceleration (no jump, no kink).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lp_solver.h"
#include "options.h"

namespace salcrop {

constexpr double kPadMinKept = 0.50;  // pad when even the best window per frame keeps less than this,
constexpr double kSplitShare = 0.8;   // or when the shortest interval holding this share of the mass is longer
constexpr double kPadSplitFrames = 0.5;  // than the window on this share of the frames (several subjects)
constexpr double kMassValue = 0.25;       // a frame's whole mass is worth this many window lengths of motion (w1 px);
                                          // chosen on hevc-gaze folds (EVALUATION.md): how sure before moving
constexpr double kCorridor = 0.5;         // the LP stays within this many window lengths of the route,
constexpr double kValleyRise = 0.02;      // and on its subject's side of a valley (the mass rising again by this)
constexpr int kHullPoints = 6;            // positions per half corridor the LP's per-frame hull is made from
constexpr double kFloorAllowance = 0.005;  // the path keeps at least the best static window's mean mass - this
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
    double mass_value = kMassValue;  // how sure before moving (planner.cpp); exposed for measuring it
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
    // The shot so far (the floor, planner.cpp): frames committed, the map mass the path kept on them, and the mass
    // each grid position of a static window would have kept.
    double shot_frames = 0, shot_mass = 0;
    std::vector<double> shot_static;
};

struct Window {
    int x = 0, y = 0, w = 0, h = 0;
    bool padded = false;
};

// What the camera does on one frame: holds still, pans at constant speed, or eases between the two; Cut: the
// camera cuts to a new framing on this frame (a speaker far from the window, speaker_policy.h).
enum class SegmentKind { Stationary = 0, Pan = 1, Ease = 2, Cut = 3 };
const char *segment_name(SegmentKind k);

// Why a chunk's path is what it is: planned for the mass, or held because the plan kept less of the map than the
// best static window (the floor), or no choice (padded, forced, no room to move).
enum class PlanReason { Planned = 0, FloorHold = 1 };
const char *reason_name(PlanReason r);

struct ChunkPlan {
    ShotMode mode = ShotMode::Stationary;  // the forced mode; else stationary (never moves), pan (one speed), track
    std::vector<Window> windows;
    std::vector<SegmentKind> labels;  // per frame
    Carry carry;  // state after frame `commit - 1`
    double kept = 0;  // salient mass kept by the plan relative to per-frame best windows
    PlanReason reason = PlanReason::Planned;
    std::string note;  // one line for the debug log: the chunk's mean mass, path vs best static window
    double mass = 0, static_mass = 0;  // mean map mass over the shot so far and the chunk: the path's, best static's
};

// Everything the path's linear program depends on, as plain arrays (one entry per frame of the chunk).
struct PathProblem {
    int frames = 0;
    double range = 0;                 // positions run over [0, range]
    // Soft constraints: on `frame`, the window's position should lie in [lo, hi]; each pixel outside costs
    // `weight`. Several nested bands per frame make a convex, piecewise-linear penalty.
    struct Band {
        int frame;
        double lo, hi, weight;  // lo = -inf or hi = +inf: a one-sided penalty (no row for the open side)
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

// What the planner sees of one track on one frame: the box's extent along the window's moving axis (x when the
// window moves along x, y when along y).
struct AxisTarget {
    int track = -1;
    double lo = 0, hi = 0;   // pixels along the axis, lo < hi
    // Soft: this share of the frame's saliency mass is added, spread over [lo, hi], to the profile the planner
    // maximises (a speaker's face: viewers look there). 0 = none.
    double weight = 0;
    // Hard: the window contains [lo, hi] on this frame wherever a window can (a picked subject); where [lo, hi] is
    // longer than the window, the window is centred on it.
    bool keep = false;
};
using FrameTargets = std::vector<AxisTarget>;

// What the keep-targets of one frame ask of the window's position: lie in [lo, hi] (the positions whose window
// contains the kept span: the first keep-target and every later one that still fits with it), as near `centre`
// (the span centred) as the smooth path allows. A span longer than the window: lo = hi = centre.
struct KeepSpan {
    bool active = false;
    double lo = 0, hi = 0, centre = 0;
};
std::vector<KeepSpan> keep_spans(const Geometry &g, const std::vector<FrameTargets> &targets, size_t frames);
constexpr double kKeepRouteWeight = 50;  // the route: a grid step outside a kept span costs 50 frames' whole mass
constexpr double kKeepCentring = 1.5;    // per window length off the span's centre: 1.5 frames' whole mass (more
                                         // than any saliency gains by moving that far: the subject outranks it)

// A frame's profile (`bins` floats along the axis) with the soft targets' mass added: each target adds
// weight * (the profile's total) spread evenly over the bins [lo, hi] covers. Keep-targets add nothing here.
std::vector<float> profile_with_targets(const Geometry &g, const float *profile, int bins, const FrameTargets &targets);


// Plans frames [0, n) of one shot from their profiles (each `bins` floats spanning the frame along the axis).
// carry: where the previous chunk of this shot left the camera (invalid for a shot's first chunk).
// commit: how many frames the caller will use; the returned carry describes the camera after them.
// pins: per frame, the window's position along the axis a keyframe fixes, or NaN (empty: none).
// targets: per frame, what the tracks ask of the window (tracks.h; empty: none): soft targets add to the mass,
// keep-targets are hard where the window can hold them.
ChunkPlan plan_chunk(const Geometry &g, const PlanParams &p, const std::vector<const float *> &profiles, int bins,
                     const Carry &carry, size_t commit, const std::vector<double> &pins = {},
                     const std::vector<FrameTargets> &targets = {});

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
    PlanReason reason = PlanReason::Planned;  // FloorHold when any chunk of the shot fell back to a hold
    std::string note;                         // the notes of the chunks that held ('; '-separated)
    double mass = 0, static_mass = 0;         // mean map mass of the path, and of the shot's best static window
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
// targets: empty, or per frame of the clip what the tracks ask (plan_chunk's targets).
// starts: receives, per chunk planned, where it started, the camera carried into it and the chunk's mode. resume
// (one shot, no cuts): start at resume->pos with its carry, as the whole run would have reached it; frames before
// pos get empty windows and stationary labels, for the caller to fill from its earlier plan (the editor: an edit
// late in a long shot re-plans from the chunk whose frames it touches). A chunk's plan depends only on its carry
// and its own frames, so the frames from pos on are exactly the whole run's.
struct ChunkStart {
    int64_t pos = 0;
    Carry carry;
    ShotMode mode = ShotMode::Stationary;
};
// faces (speaker_policy.h; each over the whole clip): plan around who speaks, as the engine does with
// speakers=auto and no picks (speaker_plan.h); targets must then be empty, and resume is refused (the policy's
// state is not in a ChunkStart). speaker: receives per frame the face followed because it speaks, -1 none.
struct FaceSeries;
void plan_offline(const Geometry &g, const PlanParams &p, const float *maps, size_t frames, int map_h, int map_w,
                  const std::vector<int64_t> &cuts, std::vector<Window> *windows, std::vector<ShotPlan> *shots,
                  const std::vector<double> &pins = {}, const std::vector<FrameTargets> &targets = {},
                  std::vector<ChunkStart> *starts = nullptr, const ChunkStart *resume = nullptr,
                  const std::vector<FaceSeries> *faces = nullptr, std::vector<int> *speaker = nullptr);

}  // namespace salcrop
