#include "planner.h"
#include "speaker_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>

namespace salcrop {

Geometry make_geometry(int width, int height, const Ratio &ratio, bool even)
{
    Geometry g;
    g.frame_w = width;
    g.frame_h = height;
    const double r = ratio.value();
    auto fit = [even](double v, int limit) {
        int x = even ? 2 * int(std::floor(v / 2.0 + 0.5)) : int(std::lround(v));
        if (x > limit)
            x = even ? limit & ~1 : limit;
        return std::max(even ? 2 : 1, x);
    };
    if (double(width) / height >= r) {
        g.win_h = fit(height, height);
        g.win_w = fit(g.win_h * r, width);
        g.vertical = false;
    } else {
        g.win_w = fit(width, width);
        g.win_h = fit(g.win_w / r, height);
        g.vertical = true;
    }
    return g;
}

MotionLimits motion_limits(const Geometry &g, const PlanParams &p)
{
    // Speeds scale with the frame: at smoothing 0.5 the window may cross the frame's length in 2.5 s and
    // reaches full speed in half a second; calmer with more smoothing.
    const double vmax_s = g.length() * (0.55 - 0.3 * p.smoothing);
    const double amax_s = vmax_s * (2.5 - 1.5 * p.smoothing);
    return {vmax_s / p.fps, amax_s / (p.fps * p.fps)};
}

const char *segment_name(SegmentKind k)
{
    switch (k) {
    case SegmentKind::Stationary:
        return "stationary";
    case SegmentKind::Pan:
        return "pan";
    case SegmentKind::Ease:
        return "ease";
    case SegmentKind::Cut:
        return "cut";
    }
    return "ease";
}

const char *reason_name(PlanReason r)
{
    return r == PlanReason::FloorHold ? "hold: the plan kept less of the map than the best static window" : "planned";
}

std::vector<Segment> segments_of(const std::vector<SegmentKind> &labels, int64_t first)
{
    std::vector<Segment> out;
    for (size_t t = 0; t < labels.size(); t++) {
        if (out.empty() || out.back().kind != labels[t])
            out.push_back({first + int64_t(t), first + int64_t(t), labels[t]});
        out.back().end = first + int64_t(t) + 1;
    }
    return out;
}

LinearProgram build_path_lp(const PathProblem &pb, std::vector<int> *velocity_columns)
{
    LinearProgram lp;
    if (velocity_columns)
        velocity_columns->assign(2 * size_t(pb.frames), -1);
    const int n = pb.frames;
    for (int t = 0; t < n; t++) {
        const double pin = t < int(pb.pins.size()) ? pb.pins[t] : std::nan("");
        if (std::isfinite(pin)) {
            const double at = std::clamp(pin, 0.0, pb.range);
            lp.add_column(0, at, at);
        } else {
            lp.add_column(0, 0, pb.range);
        }
    }
    // Positions before the chunk, from the carry: x[-1], x[-2], x[-3].
    const Carry &c = pb.carry;
    const double past[3] = {c.x, c.x - c.v, c.x - 2 * c.v + c.a};
    static const double kDiff[4][4] = {{1, 0, 0, 0}, {1, -1, 0, 0}, {1, -2, 1, 0}, {1, -3, 3, -1}};
    const double weight[4] = {0, pb.w1, pb.w2, pb.w3};
    for (int k = 1; k <= 3; k++) {
        double bound = kLpInfinity;
        if (pb.limits && k == 1)
            bound = pb.vmax;
        if (pb.limits && k == 2)
            bound = pb.amax;
        if (pb.forced && ((pb.mode == ShotMode::Stationary && k == 1) || (pb.mode == ShotMode::Pan && k == 2)))
            bound = 0;
        const int reach = c.valid ? std::min(k, pb.seam_order) : 0;  // how far back into the carry
        for (int t = k - reach; t < n; t++) {
            // D^k x at t = up - down, |D^k x| = up + down at the optimum (both cost).
            std::vector<std::pair<int, double>> row;
            double fixed = 0;
            for (int j = 0; j <= k; j++) {
                if (t - j >= 0)
                    row.emplace_back(t - j, kDiff[k][j]);
                else
                    fixed += kDiff[k][j] * past[j - t - 1];
            }
            // A direction constraint keeps the window from turning back: Dp >= 0 (no down) or <= 0 (no up).
            const int dir = k == 1 && t < int(pb.direction.size()) ? pb.direction[t] : 0;
            const int up = lp.add_column(weight[k], 0, dir < 0 ? 0.0 : bound);
            const int down = lp.add_column(weight[k], 0, dir > 0 ? 0.0 : bound);
            if (k == 1 && velocity_columns) {
                (*velocity_columns)[2 * size_t(t)] = up;
                (*velocity_columns)[2 * size_t(t) + 1] = down;
            }
            row.emplace_back(up, -1.0);
            row.emplace_back(down, 1.0);
            lp.add_row(-fixed, -fixed, row);
        }
    }
    // The salient bands: x <= hi + over, x >= lo - under.
    for (const PathProblem::Band &b : pb.bands) {
        if (std::isfinite(b.hi)) {
            const int over = lp.add_column(b.weight, 0, kLpInfinity);
            lp.add_row(-kLpInfinity, b.hi, {{b.frame, 1.0}, {over, -1.0}});
        }
        if (std::isfinite(b.lo)) {
            const int under = lp.add_column(b.weight, 0, kLpInfinity);
            lp.add_row(b.lo, kLpInfinity, {{b.frame, 1.0}, {under, 1.0}});
        }
    }
    return lp;
}

double keyframe_position(const Geometry &g, const Keyframe &k)
{
    const double centre = g.vertical ? k.y : k.x;
    return std::clamp(centre - g.win_length() / 2.0, 0.0, double(g.range()));
}

std::vector<double> keyframe_pins(const Geometry &g, const std::vector<Keyframe> &keys, size_t frames)
{
    std::vector<double> pins;
    if (keys.empty())
        return pins;
    pins.assign(frames, std::nan(""));
    for (const Keyframe &k : keys) {
        if (k.frame < 0 || size_t(k.frame) >= frames)
            throw std::invalid_argument("keyframe at frame " + std::to_string(k.frame) + " is outside the clip (0.." +
                                        std::to_string(int64_t(frames) - 1) + ")");
        if (!std::isfinite(k.x) || !std::isfinite(k.y))
            throw std::invalid_argument("keyframe at frame " + std::to_string(k.frame) + " has no finite x, y");
        if (std::isfinite(pins[size_t(k.frame)]))
            throw std::invalid_argument("two keyframes on frame " + std::to_string(k.frame));
        pins[size_t(k.frame)] = keyframe_position(g, k);
    }
    return pins;
}

int profile_bins(const Geometry &g, int map_h, int map_w)
{
    return g.vertical ? map_h : map_w;
}

void map_to_profile(const Geometry &g, const float *map, int map_h, int map_w, float *profile)
{
    const int bins = profile_bins(g, map_h, map_w);
    std::fill(profile, profile + bins, 0.0f);
    for (int i = 0; i < map_h; i++)
        for (int j = 0; j < map_w; j++)
            profile[g.vertical ? i : j] += std::max(0.0f, map[size_t(i) * map_w + j]);
}

namespace {

// Salient mass of one frame inside [x, x + len) along the axis, from its normalised cumulative profile.
struct FrameMass {
    std::vector<double> cdf;  // bins + 1
    double px_per_bin = 1;
    double at(double pos) const
    {
        double b = pos / px_per_bin;
        const int n = int(cdf.size()) - 1;
        if (b <= 0)
            return 0.0;
        if (b >= n)
            return 1.0;
        int k = int(b);
        return cdf[k] + (cdf[k + 1] - cdf[k]) * (b - k);
    }
    double mass(double x, double len) const { return at(x + len) - at(x); }
};

std::vector<FrameMass> make_masses(const Geometry &g, const std::vector<const float *> &profiles, int bins)
{
    std::vector<FrameMass> out(profiles.size());
    for (size_t t = 0; t < profiles.size(); t++) {
        FrameMass &m = out[t];
        m.px_per_bin = double(g.length()) / bins;
        m.cdf.assign(bins + 1, 0.0);
        double total = 0;
        for (int k = 0; k < bins; k++)
            total += std::max(0.0f, profiles[t][k]);
        for (int k = 0; k < bins; k++) {
            // An empty map (nothing salient) counts as uniform: no reason to move.
            double v = total > 1e-12 ? std::max(0.0f, profiles[t][k]) / total : 1.0 / bins;
            m.cdf[k + 1] = m.cdf[k] + v;
        }
    }
    return out;
}

double clampd(double v, double lo, double hi)
{
    return std::min(hi, std::max(lo, v));
}

// The shortest interval [lo, hi] (px along the axis) holding `share` of one frame's mass.
constexpr double kStill = 1e-3;  // px/frame: the solver's round-off, not a move

std::pair<double, double> core_interval(const FrameMass &m, double share)
{
    const int n = int(m.cdf.size()) - 1;
    int best_i = 0, best_j = n;
    for (int i = 0, j = 0; i < n; i++) {
        j = std::max(j, i + 1);
        while (j < n && m.cdf[j] - m.cdf[i] < share)
            j++;
        if (m.cdf[j] - m.cdf[i] >= share && j - i < best_j - best_i) {
            best_i = i;
            best_j = j;
        }
    }
    return {best_i * m.px_per_bin, best_j * m.px_per_bin};
}

// The latest move: its direction (+1, -1; 0 = none yet) and how many frames ago it was.
struct MoveState {
    int dir = 0;
    int age = 1 << 20;
};

// Scans positions x (after `before`) for the first frame that moves against the latest move within `window`
// frames of it; returns that frame (state: the earlier move) or -1 (state: after the last frame).
int first_reversal(const std::vector<double> &x, double before, int window, MoveState *state)
{
    double prev = before;
    for (size_t t = 0; t < x.size(); t++) {
        const double v = x[t] - prev;
        prev = x[t];
        const int s = v > kStill ? 1 : v < -kStill ? -1 : 0;
        if (s != 0 && state->dir != 0 && s != state->dir && state->age < window)
            return int(t);
        if (s != 0)
            *state = {s, 0};
        state->age = std::min(state->age + 1, 1 << 20);
    }
    return -1;
}

// The route of step 1 (planner.h): per frame a grid position j (x = j * step) maximising value * M[t][j] summed over
// the frames less w1 |Dx|, |Dj| <= reach per frame, from the seam's position. pin(t): the grid position a keyframe
// fixes on frame t, or -1. The no-turn-back rule is left to the LP: a route that holds it as well (states for the
// latest move's direction and age) kept less on hevc-gaze (BQMall: 45% of the fixations instead of 52%).
// extra(t, j): a further cost of grid position j on frame t (a kept subject's, keep_cost below).
template <class Pin, class Extra>
std::vector<int> best_route(const std::vector<double> &M, size_t n, int grid, double step, double w1, double value,
                            int reach, const Carry &carry, Pin pin, Extra extra)
{
    const int cells = grid + 1;
    constexpr double kInf = 1e300;
    std::vector<double> cost(cells, kInf), next(cells);
    std::vector<int> back(n * size_t(cells), -1);  // the previous frame's position
    for (int j = 0; j < cells; j++) {
        const double d = carry.valid ? std::fabs(j * step - carry.x) : 0.0;
        if (d <= reach * step + step / 2 && (pin(0) < 0 || pin(0) == j))
            cost[j] = w1 * d - value * M[j] + extra(0, j);
    }
    if (pin(0) >= 0 && cost[pin(0)] >= kInf)
        cost[pin(0)] = -value * M[size_t(pin(0))];  // a keyframe out of the seam's reach: it wins
    for (size_t t = 1; t < n; t++) {
        const int pj = pin(t);
        for (int j = 0; j < cells; j++) {
            next[j] = kInf;
            if (pj >= 0 && pj != j)
                continue;
            for (int i = std::max(0, j - reach); i <= std::min(grid, j + reach); i++) {
                const double c = cost[i] + w1 * step * std::abs(j - i);
                if (c < next[j]) {
                    next[j] = c;
                    back[t * cells + j] = i;
                }
            }
            if (next[j] < kInf)
                next[j] += extra(t, j) - value * M[t * cells + j];
        }
        if (pj >= 0 && next[pj] >= kInf) {  // a keyframe out of reach at the usual speed: the route jumps there
            const int i = int(std::min_element(cost.begin(), cost.end()) - cost.begin());
            next[pj] = cost[i] - value * M[t * cells + pj] + extra(t, pj);
            back[t * cells + pj] = i;
        }
        cost.swap(next);
    }
    std::vector<int> route(n, 0);
    int j = int(std::min_element(cost.begin(), cost.end()) - cost.begin());
    for (size_t t = n; t-- > 0;) {
        route[t] = j;
        if (t > 0)
            j = std::max(0, back[t * cells + j]);
    }
    return route;
}

// Solves the path LP (relaxing, in turn, the speed limits, the seam's derivatives and the forced mode when it is
// infeasible) and, in auto mode, forbids turning back within kNoReversalSeconds; the n positions, or empty.
std::vector<double> solve_path(PathProblem pb, double fps, const Carry &carry, size_t n)
{
    std::vector<double> sol;
    LpStatus status = LpStatus::Failed;
    LinearProgram lp;
    std::vector<int> velocity;  // columns of each frame's velocity parts (up, down)
    std::unique_ptr<LpSession> session;
    // A chunk continuing a moving camera cannot stop at once: the seam's velocity wins over a forced stationary
    // mode, and a forced pan that would leave the frame becomes free (both only in that chunk).
    const bool forced = pb.forced;
    for (int attempt = 0; attempt < 4 && status != LpStatus::Optimal; attempt++) {
        if (attempt == 1)
            pb.limits = false;  // keyframes out of reach at the usual speed
        if (attempt == 2)
            pb.seam_order = 1;
        if (attempt == 3)
            pb.forced = false;
        lp = build_path_lp(pb, &velocity);
        session = std::make_unique<LpSession>(lp);
        status = session->solve();
    }
    if (status != LpStatus::Optimal)
        return {};
    sol = session->solution();
    // In auto mode the window never turns back within kNoReversalSeconds of a move the other way: where the
    // optimum does, a stretch is held to one direction (its velocity's other part bounded to 0) and the LP
    // solved again, warm from the last basis.
    const int no_turn = std::max(1, int(std::lround(kNoReversalSeconds * fps)));
    std::vector<int> direction(n, 0);
    auto restrict = [&](int u, int dir) {
        const int col = velocity[2 * size_t(u) + (dir > 0 ? 1 : 0)];  // moving +: no down part
        if (col >= 0)
            session->set_column_bounds(col, 0, 0.0);
    };
    for (int pass = 0; pass < kMaxReversalPasses && !forced; pass++) {
        // Every turn back found holds the earlier move's direction for a second (a hold instead of a
        // wobble); then one warm re-solve. Earlier constraints stay.
        std::vector<double> x(sol.begin(), sol.begin() + n);
        MoveState state = carry.valid ? MoveState{carry.dir, carry.dir_age} : MoveState{};
        double before = carry.valid ? carry.x : x[0];
        bool added = false;
        for (int start = 0; start < int(n);) {
            const std::vector<double> rest(x.begin() + start, x.end());
            const int found = first_reversal(rest, before, no_turn, &state);
            if (found < 0)
                break;
            const int at = start + found, earlier = at - state.age;
            for (int u = std::max(0, earlier); u < std::min(int(n), earlier + no_turn + 1); u++)
                if (direction[u] == 0) {
                    direction[u] = state.dir;
                    restrict(u, state.dir);
                    added = true;
                }
            // Go on after the held stretch, as if the camera had held there.
            start = std::min(int(n), std::max(at, earlier + no_turn + 1));
            before = start > 0 ? x[start - 1] : before;
            state = MoveState{};
        }
        if (!added)
            break;
        if (session->solve() != LpStatus::Optimal)
            break;  // e.g. keyframes that ask for the turn: they win (the last optimum stands)
        sol = session->solution();
    }
    return std::vector<double>(sol.begin(), sol.begin() + n);
}

SegmentKind label_of(double v, double a)
{
    constexpr double eps = 0.05;  // px/frame: below the rounding of any window position
    if (std::fabs(v) < eps)
        return SegmentKind::Stationary;
    if (std::fabs(a) < eps)
        return SegmentKind::Pan;
    return SegmentKind::Ease;
}

}  // namespace

std::vector<KeepSpan> keep_spans(const Geometry &g, const std::vector<FrameTargets> &targets, size_t frames)
{
    std::vector<KeepSpan> out(frames);
    const double len = g.win_length(), range = g.range();
    for (size_t t = 0; t < frames && t < targets.size(); t++) {
        // In the order given (the earliest pick first): each one that still fits joins the kept span.
        double lo = 0, hi = 0;
        bool any = false;
        for (const AxisTarget &a : targets[t]) {
            if (!a.keep || !(a.hi > a.lo))
                continue;
            if (!any) {
                lo = a.lo;
                hi = a.hi;
                any = true;
            } else if (std::max(hi, a.hi) - std::min(lo, a.lo) <= len) {
                lo = std::min(lo, a.lo);
                hi = std::max(hi, a.hi);
            }
        }
        if (!any || range <= 0)
            continue;
        KeepSpan &k = out[t];
        k.active = true;
        k.centre = clampd((lo + hi) / 2 - len / 2, 0, range);
        if (hi - lo <= len) {
            k.lo = clampd(hi - len, 0, range);
            k.hi = clampd(lo, 0, range);
        } else {
            k.lo = k.hi = k.centre;  // longer than the window: centred on it
        }
    }
    return out;
}

std::vector<float> profile_with_targets(const Geometry &g, const float *profile, int bins, const FrameTargets &targets)
{
    std::vector<float> out(profile, profile + bins);
    double total = 0;
    for (int k = 0; k < bins; k++)
        total += std::max(0.0f, profile[k]);
    // An empty map still lets a face count: its share is of a uniform map's mass.
    if (total <= 1e-12)
        total = 1.0;
    const double px_per_bin = double(g.length()) / bins;
    for (const AxisTarget &a : targets) {
        if (a.weight <= 0 || !(a.hi > a.lo))
            continue;
        // Spread over the bins [lo, hi] covers, in proportion to the overlap (a face narrower than a bin still
        // lands in the bins it straddles).
        const double span = a.hi - a.lo;
        for (int k = 0; k < bins; k++) {
            const double b0 = k * px_per_bin, b1 = b0 + px_per_bin;
            const double overlap = std::min(b1, a.hi) - std::max(b0, a.lo);
            if (overlap > 0)
                out[size_t(k)] += float(a.weight * total * overlap / span);
        }
    }
    return out;
}


ChunkPlan plan_chunk(const Geometry &g, const PlanParams &p, const std::vector<const float *> &profiles_in, int bins,
                     const Carry &carry, size_t commit, const std::vector<double> &pins,
                     const std::vector<FrameTargets> &targets)
{
    // The tracks' soft targets join the saliency mass; the rest of the planner sees one profile per frame.
    std::vector<std::vector<float>> with_targets;
    with_targets.reserve(targets.size());
    std::vector<const float *> profiles = profiles_in;
    for (size_t t = 0; t < targets.size() && t < profiles.size(); t++) {
        bool soft = false;
        for (const AxisTarget &a : targets[t])
            soft = soft || (a.weight > 0 && !a.keep);
        if (soft) {
            with_targets.push_back(profile_with_targets(g, profiles[t], bins, targets[t]));
            profiles[t] = with_targets.back().data();
        }
    }
    const size_t n = profiles.size();
    ChunkPlan plan;
    if (n == 0)
        return plan;
    commit = std::clamp<size_t>(commit, 1, n);
    const double range = g.range();
    const double len = g.win_length();
    const std::vector<FrameMass> masses = make_masses(g, profiles, bins);
    const MotionLimits lim = motion_limits(g, p);
    const std::vector<KeepSpan> keeps = keep_spans(g, targets, n);
    bool any_keep = false;
    for (const KeepSpan &k : keeps)
        any_keep = any_keep || k.active;

    // Per-frame best windows on a grid of positions.
    const int grid = range > 0 ? int(std::min<double>(range, 160)) : 0;
    auto grid_x = [&](int j) { return grid ? range * j / grid : 0.0; };
    std::vector<double> best(n, 0.0), xopt(n, 0.0);
    double best_sum = 0;
    for (size_t t = 0; t < n; t++) {
        // Ties (a flat region) go to the position nearest the centre of mass, so flat maps do not drift.
        double centroid = 0;
        for (int k = 0; k < bins; k++)
            centroid += (masses[t].cdf[k + 1] - masses[t].cdf[k]) * (k + 0.5) * masses[t].px_per_bin;
        const double centred = clampd(centroid - len / 2, 0, range);
        double bv = -1, bx = 0;
        for (int j = 0; j <= grid; j++) {
            double x = grid_x(j);
            double v = masses[t].mass(x, len) - 1e-6 * std::fabs(x - centred) / std::max(1.0, range);
            if (v > bv) {
                bv = v;
                bx = x;
            }
        }
        best[t] = masses[t].mass(bx, len);
        xopt[t] = bx;
        best_sum += best[t];
    }
    best_sum = std::max(best_sum, 1e-12);
    // Padding: the subject is spread wider than any window (only a shot's first chunk decides).
    bool padded = carry.valid ? carry.padded : false;
    int pad_x = carry.pad_x, pad_len = carry.pad_len;
    // Several subjects farther apart than the window on most frames (the core holding kSplitShare of a frame's
    // mass is longer than the window) pad as well: the view widens to keep them all.
    size_t split = 0;
    for (size_t t = 0; t < n; t++) {
        auto [lo, hi] = core_interval(masses[t], kSplitShare);
        split += hi - lo > len;
    }
    const bool spread = best_sum / n < kPadMinKept || split >= kPadSplitFrames * n;
    if (!carry.valid && p.pad != PadMode::None && range > 0 && spread) {
        // Smallest interval holding 80% of the shot's mass, at least one window long.
        std::vector<double> acc(bins + 1, 0.0);
        for (size_t t = 0; t < n; t++)
            for (int k = 0; k <= bins; k++)
                acc[k] += masses[t].cdf[k] / n;
        const double ppb = double(g.length()) / bins;
        double bw = g.length(), bx0 = 0;
        for (int i = 0; i <= bins; i++)
            for (int j = i + 1; j <= bins; j++)
                if (acc[j] - acc[i] >= 0.8 && (j - i) * ppb < bw) {
                    bw = (j - i) * ppb;
                    bx0 = i * ppb;
                    break;
                }
        double plen = std::max(bw, len);
        double px = clampd(bx0 + bw / 2 - plen / 2, 0, g.length() - plen);
        pad_len = int(std::lround(plen));
        pad_x = int(std::lround(px));
        if (p.even) {
            pad_len = std::min(g.length() & ~1, (pad_len + 1) & ~1);
            pad_x = std::clamp(pad_x & ~1, 0, (g.length() - pad_len) & ~1);
        }
        padded = true;
    }

    std::vector<double> path(n, 0.0);
    std::vector<SegmentKind> labels(n, SegmentKind::Stationary);
    ShotMode mode = ShotMode::Stationary;
    if (!padded && range > 0) {
        // Costs per pixel, in units of one pixel of miss on one frame: a move pays for itself once it keeps the
        // subject kMovePaysSeconds longer; a change of speed costs as much as moving kSpeedChangeSeconds at it,
        // a change of acceleration as much as accelerating for kJerkSeconds (measured on hevc-gaze, EVALUATION.md).
        const double w1 = p.fps * kMovePaysSeconds * (0.5 + p.smoothing);
        // The value of a frame's whole mass in the same units: moving kMassValue window lengths.
        const double value = p.mass_value * len * w1;
        const int cells = grid + 1;
        const double step = range / grid;
        // M[t][j]: frame t's mass inside the window at grid position j.
        std::vector<double> M(n * size_t(cells));
        for (size_t t = 0; t < n; t++)
            for (int j = 0; j < cells; j++)
                M[t * cells + j] = masses[t].mass(grid_x(j), len);
        auto nearest = [&](double x) { return std::clamp(int(std::lround(x / step)), 0, grid); };
        auto pin_at = [&](size_t t) { return t < pins.size() && std::isfinite(pins[t]) ? pins[t] : std::nan(""); };
        // The best static window of the chunk: the floor's reference.
        int js = 0;
        {
            double bs = -1;
            for (int j = 0; j < cells; j++) {
                double sum = 0;
                for (size_t t = 0; t < n; t++)
                    sum += M[t * cells + j];
                // Ties (a flat map) go to the position nearest the centre: no reason to stand aside.
                const double tie = 1e-9 * std::fabs(grid_x(j) - range / 2) / range;
                if (sum - tie > bs) {
                    bs = sum - tie;
                    js = j;
                }
            }
        }
        // 1. The route: a dynamic programme over grid positions maximising value * mass - w1 |Dp|, |Dp| <= vmax
        // (at least one grid step), from the seam's position, through the keyframes. Stationary forced: the best
        // static window (or the seam's position).
        std::vector<int> route(n, js);
        const bool still_forced = p.forced && p.mode == ShotMode::Stationary;
        if (still_forced) {
            if (carry.valid)
                std::fill(route.begin(), route.end(), nearest(carry.x));
        } else {
            // The route moves at most at the top speed.
            const int reach = std::max(1, int(std::floor(lim.vmax / step + 1e-9)));
            route = best_route(
                M, n, grid, step, w1, value, reach, carry,
                [&](size_t t) {
                    const double pin = pin_at(t);
                    return std::isfinite(pin) ? nearest(pin) : -1;
                },
                [&](size_t t, int j) {
                    if (t >= keeps.size() || !keeps[t].active)
                        return 0.0;
                    const KeepSpan &k = keeps[t];
                    const double x = grid_x(j);
                    const double out = std::max({0.0, k.lo - x - step / 2, x - k.hi - step / 2});
                    return kKeepRouteWeight * value / step * out + kKeepCentring * value / len * std::fabs(x - k.centre);
                });
        }
        plan.carry.held = grid_x(route[commit - 1]);

        // 2. The L1 LP within a corridor around a route: per frame, the convex hull of the lost mass
        // value * (1 - mass(x)) over the corridor, as one-sided bands, and walls outside it.
        auto solve_along = [&](const std::vector<int> &rt, bool forced) {
            PathProblem pb;
            pb.range = range;
            pb.frames = int(n);
            const int half = std::max(1, int(std::lround(kCorridor * len / step)));
            const double wall = 2 * value / len;  // losing the whole mass over half a window
            const int hull_step = std::max(1, half / kHullPoints);
            std::vector<double> hx, hf;
            for (size_t t = 0; t < n; t++) {
                // The corridor ends at the route's subject's edge: where, going outwards, the mass rises again by
                // kValleyRise (a valley: another subject beyond it), or kCorridor window lengths away.
                auto edge = [&](int dir) {
                    int end = rt[t], low = rt[t];
                    for (int j = rt[t] + dir; j >= 0 && j <= grid && std::abs(j - rt[t]) <= half; j += dir) {
                        if (M[t * cells + j] > M[t * cells + low] + kValleyRise)
                            return low;
                        if (M[t * cells + j] <= M[t * cells + low])
                            low = j;
                        end = j;
                    }
                    return end;
                };
                const int lo = edge(-1), hi = edge(+1);
                // Lower convex hull of (x, -value * mass) over the corridor (monotone chain).
                hx.clear();
                hf.clear();
                // Every hull_step-th grid position (and the ends): a handful of bands per frame keeps the LP small.
                for (int j = lo; j <= hi; j = j < hi && j + hull_step > hi ? hi : j + hull_step) {
                    const double x = grid_x(j), f = -value * M[t * cells + j];
                    while (hx.size() >= 2) {
                        const size_t k = hx.size();
                        const double cross = (hx[k - 1] - hx[k - 2]) * (f - hf[k - 2]) -
                                             (hf[k - 1] - hf[k - 2]) * (x - hx[k - 2]);
                        if (cross > 0)
                            break;
                        hx.pop_back();
                        hf.pop_back();
                    }
                    hx.push_back(x);
                    hf.push_back(f);
                }
                const size_t m = hx.size();
                const size_t lowest = size_t(std::min_element(hf.begin(), hf.end()) - hf.begin());
                const double eps = 1e-6 * value / len;
                double acc = 0;  // left of the lowest vertex: slopes grow steeper going left
                for (size_t v = lowest; v >= 1; v--) {
                    const double slope = -(hf[v] - hf[v - 1]) / (hx[v] - hx[v - 1]);
                    if (slope - acc > eps) {
                        pb.bands.push_back({int(t), hx[v], kLpInfinity, slope - acc});
                        acc = slope;
                    }
                }
                if (hx[0] > 0)
                    pb.bands.push_back({int(t), hx[0], kLpInfinity, wall});
                acc = 0;
                for (size_t v = lowest; v + 1 < m; v++) {
                    const double slope = (hf[v + 1] - hf[v]) / (hx[v + 1] - hx[v]);
                    if (slope - acc > eps) {
                        pb.bands.push_back({int(t), -kLpInfinity, hx[v], slope - acc});
                        acc = slope;
                    }
                }
                if (hx[m - 1] < range)
                    pb.bands.push_back({int(t), -kLpInfinity, hx[m - 1], wall});
            }
            pb.pins = pins;
            pb.w1 = w1;
            pb.w2 = pb.w1 * p.fps * kSpeedChangeSeconds;
            pb.w3 = pb.w2 * p.fps * kJerkSeconds;
            // A kept subject: its span is a band whose every pixel outside costs more than anything the other
            // terms could gain by it (an exact penalty: hard wherever the limits allow); centred on it as far as
            // the smooth path allows, at a pull stronger than any saliency's.
            const double keep_weight = 10 * (2 * pb.w1 + 4 * pb.w2 + 8 * pb.w3) + 100 * value / len;
            for (size_t t = 0; t < keeps.size() && t < n; t++) {
                if (!keeps[t].active)
                    continue;
                pb.bands.push_back({int(t), keeps[t].lo, keeps[t].hi, keep_weight});
                pb.bands.push_back({int(t), keeps[t].centre, keeps[t].centre, kKeepCentring * value / len});
            }
            pb.vmax = lim.vmax;
            pb.amax = lim.amax;
            pb.carry = carry;
            pb.forced = forced;
            pb.mode = p.mode;
            return solve_path(pb, p.fps, carry, n);
        };
        path = solve_along(route, p.forced);
        if (path.empty())  // the solver failed: stay
            path.assign(n, carry.valid ? carry.x : grid_x(js));

        // 3. The floor: over the shot so far and this chunk (the frames the route was planned for), the path keeps
        // at least the best static window's mean mass, less kFloorAllowance; else the camera holds on the shot's
        // best static window: exactly on a shot's first chunk (nothing pins it elsewhere), else as smoothly there as
        // the seam allows. (The committed frames alone would refuse a move that pays later in the lookahead.)
        std::vector<double> shot_static(cells, 0.0);
        if (carry.valid && carry.shot_static.size() == size_t(cells))
            shot_static = carry.shot_static;
        const double before = carry.valid ? carry.shot_frames : 0.0, before_mass = carry.valid ? carry.shot_mass : 0.0;
        std::vector<double> with_chunk = shot_static;
        for (size_t t = 0; t < n; t++)
            for (int j = 0; j < cells; j++)
                with_chunk[j] += M[t * cells + j];
        // Ties (a flat map) go to the position nearest the centre: no reason to stand aside.
        int jf = 0;
        for (int j = 1; j < cells; j++)
            if (with_chunk[j] - 1e-9 * std::fabs(grid_x(j) - range / 2) >
                with_chunk[jf] - 1e-9 * std::fabs(grid_x(jf) - range / 2))
                jf = j;
        const double frames_so_far = before + n;
        const double static_mass = with_chunk[jf] / frames_so_far;
        auto shot_mean = [&](const std::vector<double> &x) {
            double s = before_mass;
            for (size_t t = 0; t < n; t++)
                s += masses[t].mass(clampd(x[t], 0, range), len);
            return s / frames_so_far;
        };
        double kept_mass = shot_mean(path);
        if (!still_forced && !any_keep && kept_mass < static_mass - kFloorAllowance) {
            double route_mass = before_mass;
            for (size_t t = 0; t < n; t++)
                route_mass += M[t * cells + route[t]];
            char buf[200];
            std::snprintf(buf, sizeof(buf),
                          "path kept %.3f of the map (its route %.3f), the best static window %.3f, over %d frames",
                          kept_mass, route_mass / frames_so_far, static_mass, int(frames_so_far));
            std::vector<double> hold;
            bool pinned = false;
            for (size_t t = 0; t < n; t++)
                pinned = pinned || std::isfinite(pin_at(t));
            if (!carry.valid && !pinned)
                hold.assign(n, grid_x(jf));
            else
                hold = solve_along(std::vector<int>(n, jf), p.forced);
            const double hold_mass = hold.empty() ? -1 : shot_mean(hold);
            if (hold_mass > kept_mass) {
                char tail[64];
                std::snprintf(tail, sizeof(tail), "; the hold %.3f", hold_mass);
                path = hold;
                plan.reason = PlanReason::FloorHold;
                plan.note = std::string("hold: ") + buf + tail;
                kept_mass = hold_mass;
            }
        }
        // The shot's running sums after the committed frames, for the next chunk's floor.
        for (size_t t = 0; t < commit; t++) {
            for (int j = 0; j < cells; j++)
                shot_static[j] += M[t * cells + j];
            plan.carry.shot_mass += masses[t].mass(clampd(path[t], 0, range), len);
        }
        plan.carry.shot_mass += before_mass;
        plan.carry.shot_frames = before + commit;
        plan.carry.shot_static = std::move(shot_static);
        plan.mass = kept_mass;
        plan.static_mass = static_mass;
        if (plan.note.empty()) {
            char buf[160];
            std::snprintf(buf, sizeof(buf), "planned: path kept %.3f of the map, the best static window %.3f",
                          kept_mass, static_mass);
            plan.note = buf;
        }
        // Snap what the solver leaves within rounding of still to exactly still, then label each frame.
        double prev_x = carry.valid ? carry.x : path[0], prev_v = carry.valid ? carry.v : 0.0;
        for (size_t t = 0; t < n; t++) {
            path[t] = clampd(path[t], 0, range);
            if (std::fabs(path[t] - prev_x) < kStill)
                path[t] = prev_x;
            const double v = path[t] - prev_x;
            labels[t] = label_of(v, v - prev_v);
            prev_x = path[t];
            prev_v = v;
        }
        if (p.forced) {
            mode = p.mode;
        } else {
            // The chunk's one word: stationary only when it never moves, pan only when it is one constant
            // speed throughout; anything else (holds, pans and eases) is a track. Segments say more.
            size_t count[3] = {0, 0, 0};
            for (SegmentKind k : labels)
                count[int(k)]++;
            mode = count[0] == n ? ShotMode::Stationary : count[1] == n ? ShotMode::Pan : ShotMode::Track;
        }
    }

    // Windows, rounded (to even when asked); the continuous path carries over to the next chunk.
    plan.mode = mode;
    plan.labels = labels;
    plan.windows.resize(n);
    const int max_pos = g.range();
    for (size_t t = 0; t < n; t++) {
        Window &w = plan.windows[t];
        int pos, wl;
        if (padded) {
            pos = pad_x;
            wl = pad_len;
        } else {
            pos = int(std::lround(path[t]));
            if (p.even)
                pos = 2 * int(std::lround(path[t] / 2.0));
            pos = std::clamp(pos, 0, p.even ? max_pos & ~1 : max_pos);
            wl = g.win_length();
        }
        if (g.vertical) {
            w = {0, pos, g.win_w, wl, padded};
        } else {
            w = {pos, 0, wl, g.win_h, padded};
        }
    }
    double kept = 0;
    for (size_t t = 0; t < n; t++)
        kept += masses[t].mass(path[t], len);
    plan.kept = kept / best_sum;
    if (padded || range <= 0)
        plan.carry.held = path[commit - 1];
    {
        MoveState state = carry.valid ? MoveState{carry.dir, carry.dir_age} : MoveState{};
        first_reversal(std::vector<double>(path.begin(), path.begin() + commit), carry.valid ? carry.x : path[0],
                       0, &state);
        plan.carry.dir = state.dir;
        plan.carry.dir_age = state.age;
    }
    plan.carry.valid = true;
    plan.carry.mode = mode;
    plan.carry.padded = padded;
    plan.carry.pad_x = pad_x;
    plan.carry.pad_len = pad_len;
    plan.carry.x = path[commit - 1];
    auto at = [&](long t) { return t >= 0 ? path[t] : t == -1 ? carry.x : t == -2 ? carry.x - carry.v
                                                                          : carry.x - 2 * carry.v + carry.a; };
    const long last = long(commit) - 1;
    const bool history = carry.valid || last >= 2;
    plan.carry.v = history || last >= 1 ? at(last) - at(last - 1) : 0.0;
    plan.carry.a = history ? at(last) - 2 * at(last - 1) + at(last - 2) : 0.0;
    return plan;
}

namespace {
size_t starts_of_cuts(const std::vector<int64_t> &cuts, size_t frames)
{
    size_t n = 1;
    int64_t last = 0;
    for (int64_t c : cuts)
        if (c > last && c < int64_t(frames)) {
            n++;
            last = c;
        }
    return n;
}
}  // namespace

void plan_offline(const Geometry &g, const PlanParams &p, const float *maps, size_t frames, int map_h, int map_w,
                  const std::vector<int64_t> &cuts, std::vector<Window> *windows, std::vector<ShotPlan> *shots,
                  const std::vector<double> &pins, const std::vector<FrameTargets> &targets,
                  std::vector<ChunkStart> *chunk_starts, const ChunkStart *resume,
                  const std::vector<FaceSeries> *faces, std::vector<int> *speaker)
{
    if (resume && (starts_of_cuts(cuts, frames) > 1 || resume->pos < 0 || size_t(resume->pos) >= frames ||
                   !resume->carry.valid))
        throw std::invalid_argument("plan: resume needs one shot and a chunk start inside it");
    if (faces && (resume || !targets.empty()))
        throw std::invalid_argument("plan: faces are planned from a shot's start and without other targets");
    if (faces)
        for (const FaceSeries &f : *faces)
            if (f.seen.size() != frames || f.box.size() != frames || f.speaking.size() != frames)
                throw std::invalid_argument("plan: face track " + std::to_string(f.id) + " does not span the clip");
    if (speaker)
        speaker->assign(frames, -1);
    const int bins = profile_bins(g, map_h, map_w);
    std::vector<float> profiles(frames * bins);
    for (size_t t = 0; t < frames; t++)
        map_to_profile(g, maps + t * size_t(map_h) * map_w, map_h, map_w, &profiles[t * bins]);
    std::vector<int64_t> starts{0};
    for (int64_t c : cuts)
        if (c > starts.back() && c < int64_t(frames))
            starts.push_back(c);
    windows->clear();
    shots->clear();
    for (size_t s = 0; s < starts.size() && frames > 0; s++) {
        const int64_t a = starts[s], b = s + 1 < starts.size() ? starts[s + 1] : int64_t(frames);
        // The engine plans a chunk once `lookahead` frames of the shot are known and keeps the first half; the
        // rest of the shot at its end.
        const int64_t chunk = p.lookahead_frames > 0 ? p.lookahead_frames : b - a;
        Carry carry;
        ShotPlan shot;
        shot.start = a;
        shot.end = b;
        std::vector<SegmentKind> labels;
        bool first = true;
        FloorState floor;  // who the camera follows: afresh in every shot, as in the engine
        int64_t pos = a;
        if (resume) {
            pos = resume->pos;
            carry = resume->carry;
            const Window empty{};
            windows->insert(windows->end(), size_t(pos - a), empty);
            labels.insert(labels.end(), size_t(pos - a), SegmentKind::Stationary);
        }
        for (; pos < b;) {
            const bool last = b - pos < chunk || chunk == b - a;
            const int64_t end = last ? b : pos + chunk;
            const size_t keep = last ? size_t(end - pos) : size_t(std::max<int64_t>(1, chunk / 2));
            std::vector<const float *> prof;
            for (int64_t t = pos; t < end; t++)
                prof.push_back(&profiles[size_t(t) * bins]);
            std::vector<double> chunk_pins;
            if (!pins.empty())
                chunk_pins.assign(pins.begin() + pos, pins.begin() + end);
            std::vector<FrameTargets> chunk_targets;
            if (!targets.empty())
                chunk_targets.assign(targets.begin() + pos, targets.begin() + end);
            if (faces) {
                // The chunk's parts (a cut splits it) merged into one plan of its kept frames, as the engine
                // commits them.
                std::vector<FaceSeries> part;
                for (const FaceSeries &f : *faces) {
                    // The engine's tracks live from their first to their last sighting (and a little after, which
                    // the frames' faces do not say): outside that, no such track.
                    const auto on = [](uint8_t v) { return v != 0; };
                    const auto seen_first = std::find_if(f.seen.begin(), f.seen.end(), on);
                    const auto seen_last = std::find_if(f.seen.rbegin(), f.seen.rend(), on);
                    if (seen_first == f.seen.end() || seen_first - f.seen.begin() >= end ||
                        f.seen.rend() - seen_last <= pos)
                        continue;
                    FaceSeries s;
                    s.id = f.id;
                    s.user = f.user;
                    s.seen.assign(f.seen.begin() + pos, f.seen.begin() + end);
                    s.box.assign(f.box.begin() + pos, f.box.begin() + end);
                    s.speaking.assign(f.speaking.begin() + pos, f.speaking.begin() + end);
                    part.push_back(std::move(s));
                }
                const SpeakerChunk sc = plan_speaker_chunk(
                    g, p, p.fps, part, size_t(end - pos), keep, carry, floor,
                    [&](size_t from, size_t to, const Carry &c, size_t k, const std::vector<FrameTargets> &t,
                        const PlanParams &pp) {
                        std::vector<const float *> pr(prof.begin() + std::ptrdiff_t(from),
                                                      prof.begin() + std::ptrdiff_t(to));
                        std::vector<double> pn;
                        if (!chunk_pins.empty())
                            pn.assign(chunk_pins.begin() + std::ptrdiff_t(from), chunk_pins.begin() + std::ptrdiff_t(to));
                        std::vector<FrameTargets> tg;
                        if (!t.empty())
                            tg.assign(t.begin() + std::ptrdiff_t(from), t.begin() + std::ptrdiff_t(to));
                        return plan_chunk(g, pp, pr, bins, c, k, pn, tg);
                    });
                if (chunk_starts)
                    chunk_starts->push_back(ChunkStart{pos, carry, sc.parts.front().plan.mode});
                for (const SpeakerPart &sp : sc.parts) {
                    const ChunkPlan &cp = sp.plan;
                    if (cp.reason != PlanReason::Planned) {
                        shot.reason = cp.reason;
                        shot.note += (shot.note.empty() ? "" : "; ") + std::string("frames ") +
                                     std::to_string(pos + int64_t(sp.from)) + "-" +
                                     std::to_string(pos + int64_t(sp.from + sp.keep)) + ": " + cp.note;
                    }
                    windows->insert(windows->end(), cp.windows.begin(), cp.windows.begin() + std::ptrdiff_t(sp.keep));
                    labels.insert(labels.end(), cp.labels.begin(), cp.labels.begin() + std::ptrdiff_t(sp.keep));
                    shot.mode = first || cp.mode == shot.mode ? cp.mode : ShotMode::Track;
                    first = false;
                }
                if (speaker)
                    std::copy(sc.speaker.begin(), sc.speaker.begin() + std::ptrdiff_t(keep),
                              speaker->begin() + pos);
                carry = sc.carry;
                floor = sc.floor;
                pos += int64_t(keep);
                continue;
            }
            ChunkPlan cp = plan_chunk(g, p, prof, bins, carry, keep, chunk_pins, chunk_targets);
            if (chunk_starts)
                chunk_starts->push_back(ChunkStart{pos, carry, cp.mode});
            carry = cp.carry;
            if (cp.reason != PlanReason::Planned) {
                shot.reason = cp.reason;
                shot.note += (shot.note.empty() ? "" : "; ") + std::string("frames ") + std::to_string(pos) + "-" +
                             std::to_string(pos + int64_t(keep)) + ": " + cp.note;
            }
            windows->insert(windows->end(), cp.windows.begin(), cp.windows.begin() + keep);
            labels.insert(labels.end(), cp.labels.begin(), cp.labels.begin() + keep);
            shot.mode = first || cp.mode == shot.mode ? cp.mode : ShotMode::Track;  // as path_json merges them
            first = false;
            pos += int64_t(keep);
        }
        shot.segments = segments_of(labels, a);
        // The shot's mean map mass: its path's, and its best static window's (the floor's reference).
        const std::vector<Window> &w = *windows;
        std::vector<double> stat(size_t(g.range()) + 1, 0.0);
        for (int64_t t = resume ? resume->pos : a; t < b; t++) {  // resumed: over the frames it planned
            const float *pr = &profiles[size_t(t) * bins];
            std::vector<double> cdf(bins + 1, 0.0);
            for (int k = 0; k < bins; k++)
                cdf[k + 1] = cdf[k] + std::max(0.0f, pr[k]);
            const double total = cdf[bins];
            auto at = [&](double pos) {
                const double c = clampd(pos * bins / g.length(), 0, bins);
                const int k = std::min(bins - 1, int(c));
                const double v = cdf[k] + (cdf[k + 1] - cdf[k]) * (c - k);
                return total > 1e-12 ? v / total : c / bins;
            };
            const Window &wt = w[size_t(t)];
            const double x = g.vertical ? wt.y : wt.x, l = g.vertical ? wt.h : wt.w;
            shot.mass += at(x + l) - at(x);
            for (int x0 = 0; x0 <= g.range(); x0 += 2)
                stat[size_t(x0)] += at(x0 + g.win_length()) - at(x0);
        }
        const double counted = double(b - (resume ? resume->pos : a));
        shot.mass /= counted;
        shot.static_mass = *std::max_element(stat.begin(), stat.end()) / counted;
        shots->push_back(shot);
    }
}

}  // namespace salcrop
