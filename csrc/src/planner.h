// The crop planner: pure functions from saliency profiles and shot boundaries to crop windows. No model, no
// I/O, no ONNX Runtime: testable with plain arrays (through _core.plan_path).
//
// The window is the largest window of the target ratio inside the frame, so it moves along one axis only:
// x when the source is wider than the target, y when it is narrower. The planner therefore works on 1-D
// profiles: each frame's saliency summed across the axis the window does not move on.
//
// Each shot is filmed like an editor would: STATIONARY (one fixed window) when that keeps at least
// kStationaryKeep of the salient mass the per-frame best windows would keep; PAN (constant speed sweep) when
// that keeps kPanKeep and clearly beats standing still; otherwise TRACK: a least-squares path with penalties
// on velocity and acceleration (a banded system), a dead band so small motions do not move the camera, then a
// follower that bounds velocity and acceleration (scaled to the frame size, in px/s and px/s^2).
#pragma once

#include <cstddef>
#include <vector>

#include "options.h"

namespace salcrop {

constexpr double kStationaryKeep = 0.90;
constexpr double kPanKeep = 0.90;
constexpr double kPanGain = 0.04;     // a pan must keep this much more than the stationary window
constexpr double kPadMinKept = 0.50;  // pad when even the best window per frame keeps less than this

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
};

// Velocity and acceleration limits of a track, per frame, for these parameters.
struct MotionLimits {
    double vmax = 0, amax = 0;  // px/frame, px/frame^2
};
MotionLimits motion_limits(const Geometry &g, const PlanParams &p);

// Where the camera is at the end of a planned chunk, so the next chunk of the same shot starts there.
struct Carry {
    bool valid = false;
    double x = 0, v = 0;  // position along the axis and velocity, px and px/frame
    ShotMode mode = ShotMode::Stationary;
    bool padded = false;
    int pad_x = 0, pad_len = 0;  // padded region along the axis
};

struct Window {
    int x = 0, y = 0, w = 0, h = 0;
    bool padded = false;
};

struct ChunkPlan {
    ShotMode mode = ShotMode::Stationary;
    std::vector<Window> windows;
    Carry carry;  // state after frame `commit - 1`
    double kept = 0;  // salient mass kept by the plan relative to per-frame best windows
};

// Plans frames [0, n) of one shot from their profiles (each `bins` floats spanning the frame along the axis).
// carry: where the previous chunk of this shot left the camera (invalid for a shot's first chunk).
// commit: how many frames the caller will use; the returned carry describes the camera after them.
ChunkPlan plan_chunk(const Geometry &g, const PlanParams &p, const std::vector<const float *> &profiles, int bins,
                     const Carry &carry, size_t commit);

// Sums a map (map_h x map_w, row-major) into the profile along the geometry's axis.
void map_to_profile(const Geometry &g, const float *map, int map_h, int map_w, float *profile);
int profile_bins(const Geometry &g, int map_h, int map_w);

struct ShotPlan {
    int64_t start = 0, end = 0;
    ShotMode mode = ShotMode::Stationary;
};

// Whole-clip planning: every shot independently, all of it seen at once. maps: T maps of map_h x map_w.
void plan_offline(const Geometry &g, const PlanParams &p, const float *maps, size_t frames, int map_h, int map_w,
                  const std::vector<int64_t> &cuts, std::vector<Window> *windows, std::vector<ShotPlan> *shots);

}  // namespace salcrop
