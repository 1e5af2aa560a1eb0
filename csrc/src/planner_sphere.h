// The view's direction on the sphere, planned with the flat planner (planner.h) through its public interface:
// yaw and pitch are each a 1-D window position.
//
// Yaw: each chunk is planned on an axis 360° long centred on where the camera is (the direction it carries in;
// the front, yaw 0, for a shot's first chunk), so the seam of the planning axis is always behind the camera:
// a path across ±180° of the frame is continuous, and reaching any direction never takes the long way round
// (at most half a turn either side). The next chunk re-centres the axis and shifts the carried state by the
// same angle. Pitch: an axis from +(limit + vfov/2) down to -(limit + vfov/2), so the view's centre stays within
// ±limit and its edge off the pole. The yaw profile is the sphere map's column sums; the pitch profile, per frame,
// the row sums over the columns the planned yaw's view covers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "planner.h"
#include "sphere.h"

namespace salcrop {

constexpr int kUnitsPerDegree = 10;  // planning axes in tenths of a degree

struct SphereCarry {
    bool valid = false;
    double yaw = 0;  // the camera's yaw at the end of the previous chunk (the next axis' centre)
    Carry yaw_carry, pitch_carry;
    int64_t since_cut = int64_t(1) << 40;  // frames since the view last cut (a far move, below)
};

struct SpherePlan {
    ShotMode mode = ShotMode::Stationary;
    std::vector<double> yaw, pitch;  // degrees per frame; yaw continuous across the chunk (not wrapped)
    std::vector<SegmentKind> labels;
    SphereCarry carry;
};

// maps: per frame a sphere map (sphere_map(), map_h x map_w over 360° x 180°). Pins: per frame a keyframe's
// yaw / pitch in degrees or NaN (empty: none); pitch pins beyond the limit are clamped (refused earlier, at
// parse time). commit: frames the caller uses; carry describes the camera after them.
//
// A far move is a cut, as an editor makes it (the flat speaker policy's rule, speaker_policy.h kFarShare and
// kMinCutSeconds): where the planned yaw would whip round, turning by more than kFarShare of the view's width
// within one second of a move that comes to rest within the planned frames (a sweep across what lies between, up
// to ~100° a second on the real clips), the view cuts to where that move ends, on the frame it would have
// started, and the rest of the chunk is planned afresh from there, its yaw and pitch (labelled SegmentKind::Cut).
// At most one cut per kMinCutSeconds (then it moves); none in a chunk with keyframes (the user's path); a view
// that keeps turning with a moving subject (~20° a second on the synthetic seam clip), or drifts, makes no cut.
SpherePlan plan_sphere_chunk(const ViewGeometry &vg, const PlanParams &p, const std::vector<const float *> &maps,
                             int map_h, int map_w, const SphereCarry &carry, size_t commit,
                             const std::vector<double> &yaw_pins = {}, const std::vector<double> &pitch_pins = {});

// A user's keyframe on the sphere: JSON [{"t": s or "frame": n, "yaw": deg, "pitch": deg}]. Throws
// std::invalid_argument for a pitch beyond the view's limit (saying the limit) or what parse_keyframes refuses.
struct SphereKeyframe {
    int64_t frame = 0;
    double yaw = 0, pitch = 0;
};
std::vector<SphereKeyframe> parse_sphere_keyframes(const std::string &json, double fps, const ViewGeometry &vg);

}  // namespace salcrop
