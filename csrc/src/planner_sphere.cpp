#include "planner_sphere.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "keyframes.h"
#include "speaker_policy.h"

namespace salcrop {

namespace {

constexpr double kU = kUnitsPerDegree;

// Linear interpolation of a periodic sequence of n values (value k centred at (k + 0.5) / n of the period).
double periodic_at(const std::vector<double> &v, double pos)  // pos in [0, n) units of one value
{
    const int n = int(v.size());
    double p = pos - 0.5;
    double f = std::floor(p);
    const double a = p - f;
    int k0 = int(f) % n;
    if (k0 < 0)
        k0 += n;
    return (1 - a) * v[size_t(k0)] + a * v[size_t((k0 + 1) % n)];
}

double clamped_at(const std::vector<double> &v, double pos)
{
    const int n = int(v.size());
    const double p = std::clamp(pos - 0.5, 0.0, double(n - 1));
    const int k0 = std::min(int(p), n - 1), k1 = std::min(k0 + 1, n - 1);
    return (1 - (p - k0)) * v[size_t(k0)] + (p - k0) * v[size_t(k1)];
}

// Shifts a carried state along its axis (the axis re-centred `units` further).
Carry shifted(Carry c, double units)
{
    c.x -= units;
    c.held -= units;
    c.pad_x = int(std::lround(c.pad_x - units));
    return c;
}

// The view planned as the chunk's maps ask, without cuts.
SpherePlan plan_smooth(const ViewGeometry &vg, const PlanParams &p, const std::vector<const float *> &maps, int map_h,
                       int map_w, const SphereCarry &carry, size_t commit, const std::vector<double> &yaw_pins,
                       const std::vector<double> &pitch_pins)
{
    SpherePlan plan;
    const size_t n = maps.size();
    if (n == 0)
        return plan;
    commit = std::clamp<size_t>(commit, 1, n);
    PlanParams pp = p;
    pp.even = false;
    pp.pad = PadMode::None;  // the view's fov is fixed (no widening for spread content)

    // Yaw: the axis runs from centre - 180 to centre + 180; the window is the view's horizontal fov. The centre
    // is where the camera is (the front for a shot's first chunk), moved as little as it takes to bring the
    // chunk's yaw keyframes within reach (the view's centre reaches 180 - fov/2 either side).
    double centre = carry.valid ? carry.yaw : 0.0;
    {
        const double reach = 180.0 - vg.hfov / 2 - 0.5;
        double ref = centre;  // angles relative to the camera, or to the first keyframe for a first chunk
        bool any = carry.valid;
        double lo = 0, hi = 0;
        for (size_t t = 0; t < n && t < yaw_pins.size(); t++) {
            if (!std::isfinite(yaw_pins[t]))
                continue;
            if (!any) {
                ref = yaw_pins[t];
                any = true;
            }
            const double rel = wrap_yaw(yaw_pins[t] - ref);
            lo = std::min(lo, rel);
            hi = std::max(hi, rel);
        }
        if (any && hi - lo <= 2 * reach) {
            // Shift s with hi - s <= reach and lo - s >= -reach, nearest to the camera (or the front).
            const double want = carry.valid ? 0.0 : wrap_yaw(0.0 - ref);
            const double s = std::clamp(want, hi - reach, lo + reach);
            centre = wrap_yaw(ref + s);
        }
    }
    Geometry gy;
    gy.frame_w = 360 * kUnitsPerDegree;
    gy.frame_h = 1;
    gy.win_w = int(std::lround(vg.hfov * kU));
    gy.win_h = 1;
    gy.vertical = false;
    const int ybins = 360;
    std::vector<std::vector<float>> yprof(n, std::vector<float>(ybins));
    std::vector<double> cols(static_cast<size_t>(map_w));
    for (size_t t = 0; t < n; t++) {
        std::fill(cols.begin(), cols.end(), 0.0);
        for (int r = 0; r < map_h; r++)
            for (int c = 0; c < map_w; c++)
                cols[size_t(c)] += maps[t][size_t(r) * map_w + c];
        for (int b = 0; b < ybins; b++) {
            const double yaw = centre - 180.0 + (b + 0.5) * 360.0 / ybins;
            yprof[t][size_t(b)] = float(periodic_at(cols, (yaw + 180.0) / 360.0 * map_w));
        }
    }
    std::vector<const float *> yptr(n);
    for (size_t t = 0; t < n; t++)
        yptr[t] = yprof[t].data();
    auto yaw_to_x = [&](double yaw) {
        const double rel = wrap_yaw(yaw - centre);  // shortest way from the axis' centre
        return std::clamp((rel + 180.0) * kU - gy.win_w / 2.0, 0.0, double(gy.range()));
    };
    auto x_to_yaw = [&](double x) { return centre - 180.0 + (x + gy.win_w / 2.0) / kU; };
    std::vector<double> ypins;
    if (!yaw_pins.empty()) {
        ypins.assign(n, std::nan(""));
        for (size_t t = 0; t < n && t < yaw_pins.size(); t++)
            if (std::isfinite(yaw_pins[t]))
                ypins[t] = yaw_to_x(yaw_pins[t]);
    }
    const Carry ycarry = carry.valid ? shifted(carry.yaw_carry, wrap_yaw(centre - carry.yaw) * kU) : Carry{};
    const ChunkPlan yplan = plan_chunk(gy, pp, yptr, ybins, ycarry, commit, ypins);
    plan.mode = yplan.mode;
    plan.yaw.resize(n);
    for (size_t t = 0; t < n; t++)
        plan.yaw[t] = x_to_yaw(yplan.windows[t].x);

    // Pitch: per frame, the rows under the view's columns.
    const double extent = vg.pitch_limit + vg.vfov / 2;  // the axis spans [+extent, -extent]
    Geometry gp;
    gp.frame_w = 1;
    gp.win_w = 1;
    gp.frame_h = std::max(1, int(std::lround(2 * extent * kU)));
    gp.win_h = std::min(gp.frame_h, int(std::lround(vg.vfov * kU)));
    gp.vertical = true;
    const int pbins = std::max(2, int(std::lround(2 * extent)));
    std::vector<std::vector<float>> pprof(n, std::vector<float>(size_t(pbins)));
    std::vector<double> rows(static_cast<size_t>(map_h));
    for (size_t t = 0; t < n; t++) {
        std::fill(rows.begin(), rows.end(), 0.0);
        for (int c = 0; c < map_w; c++) {
            const double yaw = (c + 0.5) * 360.0 / map_w - 180.0;
            if (std::fabs(wrap_yaw(yaw - plan.yaw[t])) > vg.hfov / 2 + 180.0 / map_w)
                continue;
            for (int r = 0; r < map_h; r++)
                rows[size_t(r)] += maps[t][size_t(r) * map_w + c];
        }
        for (int b = 0; b < pbins; b++) {
            const double pitch = extent - (b + 0.5) * 2 * extent / pbins;
            pprof[t][size_t(b)] = float(clamped_at(rows, (90.0 - pitch) / 180.0 * map_h));
        }
    }
    std::vector<const float *> pptr(n);
    for (size_t t = 0; t < n; t++)
        pptr[t] = pprof[t].data();
    // Window top at y: the view's centre is at pitch = limit - y / kU.
    std::vector<double> ppins;
    if (!pitch_pins.empty()) {
        ppins.assign(n, std::nan(""));
        for (size_t t = 0; t < n && t < pitch_pins.size(); t++)
            if (std::isfinite(pitch_pins[t]))
                ppins[t] = std::clamp((vg.pitch_limit - pitch_pins[t]) * kU, 0.0, double(gp.range()));
    }
    const Carry pcarry = carry.valid ? carry.pitch_carry : Carry{};
    const ChunkPlan pplan = plan_chunk(gp, pp, pptr, pbins, pcarry, commit, ppins);
    plan.pitch.resize(n);
    for (size_t t = 0; t < n; t++)
        plan.pitch[t] = gp.range() > 0 ? vg.pitch_limit - pplan.windows[t].y / kU : 0.0;

    // What the camera does: the yaw's label unless only the pitch moves.
    plan.labels = yplan.labels;
    for (size_t t = 0; t < n; t++)
        if (plan.labels[t] == SegmentKind::Stationary)
            plan.labels[t] = pplan.labels[t];

    // Carry: the next axis is centred on where the camera is after the committed frames.
    plan.carry.valid = true;
    plan.carry.yaw = wrap_yaw(plan.yaw[commit - 1]);
    const double shift_units = (plan.yaw[commit - 1] - centre) * kU;
    plan.carry.yaw_carry = shifted(yplan.carry, shift_units);
    plan.carry.pitch_carry = pplan.carry;
    return plan;
}

// The first whip of the planned yaw: a move that starts within the committed frames, turns by more than `far`
// degrees in all, more than `far` within one `second` (frames) of it, and comes to rest within the planned frames;
// its first frame and its last. A view that keeps turning with a subject, or drifts, makes none. Frames whose yaw
// changes by at most kStill are at rest (the planning axis moves in tenths of a degree).
bool far_move(const std::vector<double> &yaw, double before, size_t commit, double far, size_t second, size_t *start,
              size_t *end)
{
    constexpr double kStill = 0.05;
    const size_t n = yaw.size();
    for (size_t t = 0; t < commit && t < n;) {
        const double from = t == 0 ? before : yaw[t - 1];
        if (std::fabs(yaw[t] - from) <= kStill) {
            t++;
            continue;
        }
        size_t last = t;
        while (last + 1 < n && std::fabs(yaw[last + 1] - yaw[last]) > kStill)
            last++;
        bool whip = false;
        for (size_t i = t; i <= last && !whip; i++)
            whip = std::fabs(yaw[std::min(last, i + second)] - (i == t ? from : yaw[i - 1])) > far;
        if (last + 1 < n && std::fabs(yaw[last] - from) > far && whip) {
            *start = t;
            *end = last;
            return true;
        }
        t = last + 1;
    }
    return false;
}

}  // namespace

SpherePlan plan_sphere_chunk(const ViewGeometry &vg, const PlanParams &p, const std::vector<const float *> &maps,
                             int map_h, int map_w, const SphereCarry &carry, size_t commit,
                             const std::vector<double> &yaw_pins, const std::vector<double> &pitch_pins)
{
    SpherePlan plan = plan_smooth(vg, p, maps, map_h, map_w, carry, commit, yaw_pins, pitch_pins);
    const size_t n = plan.yaw.size();
    if (n == 0)
        return plan;
    commit = std::clamp<size_t>(commit, 1, n);
    const int64_t since = carry.valid ? carry.since_cut : SphereCarry{}.since_cut;
    plan.carry.since_cut = since + int64_t(commit);
    auto pinned = [](const std::vector<double> &pins) {
        return std::any_of(pins.begin(), pins.end(), [](double v) { return std::isfinite(v); });
    };
    if (pinned(yaw_pins) || pinned(pitch_pins))
        return plan;  // the user's keyframes: no cut the user did not ask for
    size_t cut = 0, end = 0;
    const size_t second = size_t(std::max(1L, std::lround(p.fps)));
    if (!far_move(plan.yaw, carry.valid ? carry.yaw : plan.yaw[0], commit, kFarShare * vg.hfov, second, &cut, &end) ||
        since + int64_t(cut) < std::lround(kMinCutSeconds * p.fps))
        return plan;
    // The rest of the chunk afresh, from where the move ends (its yaw and its pitch).
    const std::vector<const float *> rest(maps.begin() + std::ptrdiff_t(cut), maps.end());
    std::vector<double> yaw_pin(n - cut, std::nan("")), pitch_pin(n - cut, std::nan(""));
    yaw_pin[0] = plan.yaw[end];
    pitch_pin[0] = plan.pitch[end];
    SpherePlan after = plan_smooth(vg, p, rest, map_h, map_w, SphereCarry{}, commit - cut, yaw_pin, pitch_pin);
    // Unwrapped as the part before: the cut's own turn, not a whole turn more.
    const double turns = std::round((plan.yaw[end] - after.yaw[0]) / 360.0) * 360.0;
    for (size_t t = cut; t < n; t++) {
        plan.yaw[t] = after.yaw[t - cut] + turns;
        plan.pitch[t] = after.pitch[t - cut];
        plan.labels[t] = after.labels[t - cut];
    }
    plan.labels[cut] = SegmentKind::Cut;
    plan.carry = after.carry;
    plan.carry.since_cut = int64_t(commit - cut);
    return plan;
}

std::vector<SphereKeyframe> parse_sphere_keyframes(const std::string &json, double fps, const ViewGeometry &vg)
{
    std::vector<SphereKeyframe> out;
    for (const Keyframe &k : parse_keyframes(json, fps, "yaw", "pitch")) {
        if (std::fabs(k.y) > vg.pitch_limit + 1e-9) {
            char buf[200];
            std::snprintf(buf, sizeof(buf),
                          "keyframes: frame %lld has pitch %g, beyond the limit of +-%.1f degrees for a view %.1f "
                          "degrees tall (its edge stays %g degrees off the pole)",
                          static_cast<long long>(k.frame), k.y, vg.pitch_limit, vg.vfov, kPoleMarginDeg);
            throw std::invalid_argument(buf);
        }
        if (!(k.x >= -360 && k.x <= 360))
            throw std::invalid_argument("keyframes: frame " + std::to_string(k.frame) + " has yaw " +
                                        std::to_string(k.x) + ", outside -360 .. 360 degrees");
        out.push_back(SphereKeyframe{k.frame, k.x, k.y});
    }
    return out;
}

}  // namespace salcrop
