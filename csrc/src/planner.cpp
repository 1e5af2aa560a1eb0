#include "planner.h"

#include <algorithm>
#include <cmath>
#include <functional>

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

// Banded symmetric positive definite system (bandwidth 2), solved by banded Cholesky.
struct Banded {
    explicit Banded(size_t n) : n(n), a(n * 3, 0.0), b(n, 0.0) {}
    size_t n;
    std::vector<double> a;  // a[i*3 + k] = A[i][i-k]
    std::vector<double> b;
    double &at(size_t i, size_t j) { return i >= j ? a[i * 3 + (i - j)] : a[j * 3 + (j - i)]; }
    // Adds w * (sum coef_k x_k + c)^2 where indices < 0 are fixed values given in `fixed`.
    void add_term(const std::vector<std::pair<long, double>> &terms, double w, const std::function<double(long)> &fixed)
    {
        double c = 0;
        std::vector<std::pair<size_t, double>> free;
        for (auto &[idx, coef] : terms) {
            if (idx < 0)
                c += coef * fixed(idx);
            else
                free.emplace_back(size_t(idx), coef);
        }
        for (auto &[i, ci] : free) {
            for (auto &[j, cj] : free)
                if (i >= j)
                    at(i, j) += w * ci * cj;  // lower triangle; each pair (i > j) visited once
            b[i] -= w * ci * c;
        }
    }
    std::vector<double> solve()
    {
        std::vector<double> l(n * 3, 0.0);
        auto L = [&](size_t i, size_t j) -> double & { return l[i * 3 + (i - j)]; };
        for (size_t i = 0; i < n; i++) {
            size_t j0 = i >= 2 ? i - 2 : 0;
            for (size_t j = j0; j <= i; j++) {
                double s = at(i, j);
                for (size_t k = std::max(j0, j >= 2 ? j - 2 : 0); k < j; k++)
                    s -= L(i, k) * L(j, k);
                if (i == j)
                    L(i, i) = std::sqrt(std::max(s, 1e-12));
                else
                    L(i, j) = s / L(j, j);
            }
        }
        std::vector<double> y(n), x(n);
        for (size_t i = 0; i < n; i++) {
            double s = b[i];
            for (size_t k = i >= 2 ? i - 2 : 0; k < i; k++)
                s -= L(i, k) * y[k];
            y[i] = s / L(i, i);
        }
        for (size_t ii = n; ii-- > 0;) {
            double s = y[ii];
            for (size_t k = ii + 1; k < std::min(n, ii + 3); k++)
                s -= L(k, ii) * x[k];
            x[ii] = s / L(ii, ii);
        }
        return x;
    }
};

double clampd(double v, double lo, double hi)
{
    return std::min(hi, std::max(lo, v));
}

// Fastest speed from which a follower decelerating by `a` per frame stops within distance d.
double stop_speed(double d, double a)
{
    if (d <= 0)
        return 0.0;
    return 0.5 * (-a + std::sqrt(a * a + 8.0 * a * d));
}

struct Scored {
    double x = 0, score = 0;
};

}  // namespace

ChunkPlan plan_chunk(const Geometry &g, const PlanParams &p, const std::vector<const float *> &profiles, int bins,
                     const Carry &carry, size_t commit)
{
    const size_t n = profiles.size();
    ChunkPlan plan;
    if (n == 0)
        return plan;
    commit = std::clamp<size_t>(commit, 1, n);
    const double range = g.range();
    const double len = g.win_length();
    const std::vector<FrameMass> masses = make_masses(g, profiles, bins);
    const MotionLimits lim = motion_limits(g, p);

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
    auto path_score = [&](const std::function<double(size_t)> &x_of) {
        double s = 0;
        for (size_t t = 0; t < n; t++)
            s += masses[t].mass(x_of(t), len);
        return s;
    };

    // Padding: the subject is spread wider than any window (only a shot's first chunk decides).
    bool padded = carry.valid ? carry.padded : false;
    int pad_x = carry.pad_x, pad_len = carry.pad_len;
    if (!carry.valid && p.pad != PadMode::None && range > 0 && best_sum / n < kPadMinKept) {
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
    ShotMode mode = ShotMode::Track;
    if (padded) {
        mode = ShotMode::Stationary;
    } else if (range <= 0) {
        mode = ShotMode::Stationary;
    } else {
        // Stationary candidate: a chunk continuing a moving camera can only stop where it is.
        Scored stat;
        const bool can_stop = !carry.valid || std::fabs(carry.v) < 0.05;
        if (carry.valid) {
            stat.x = carry.x;
            stat.score = path_score([&](size_t) { return carry.x; });
        } else {
            for (int j = 0; j <= grid; j++) {
                double x = grid_x(j);
                double s = path_score([&](size_t) { return x; });
                if (s > stat.score) {
                    stat = {x, s};
                }
            }
        }
        // Pan candidate: constant speed, from where the camera is when continuing a pan.
        Scored pan_a, pan_b;
        double pan_score = -1;
        const double tn = n > 1 ? double(n - 1) : 1.0;
        if (carry.valid) {
            // Continue the sweep only if it does not run into the frame's edge (a sudden stop); else track.
            const double end = carry.x + carry.v * n;
            if (carry.mode == ShotMode::Pan && end >= 0 && end <= range) {
                auto x_of = [&](size_t t) { return clampd(carry.x + carry.v * (t + 1), 0, range); };
                pan_score = path_score(x_of);
                pan_a.x = carry.x + carry.v;
                pan_b.x = carry.x + carry.v * n;
            }
        } else if (n > 1) {
            const int steps = 24;
            auto try_pan = [&](double a, double b) {
                if (std::fabs(b - a) / tn > lim.vmax)
                    return;
                double s = path_score([&](size_t t) { return a + (b - a) * t / tn; });
                if (s > pan_score) {
                    pan_score = s;
                    pan_a.x = a;
                    pan_b.x = b;
                }
            };
            for (int i = 0; i <= steps; i++)
                for (int j = 0; j <= steps; j++)
                    try_pan(range * i / steps, range * j / steps);
            double step = range / steps;
            for (int pass = 0; pass < 2; pass++) {
                double ca = pan_a.x, cb = pan_b.x;
                for (int i = -4; i <= 4; i++)
                    for (int j = -4; j <= 4; j++)
                        try_pan(clampd(ca + step * i / 4, 0, range), clampd(cb + step * j / 4, 0, range));
                step /= 4;
            }
        }
        const double stat_keep = stat.score / best_sum;
        const double pan_keep = pan_score / best_sum;
        if (p.forced) {
            mode = p.mode;
            if (mode == ShotMode::Pan && pan_score < 0)
                mode = carry.valid ? ShotMode::Track : ShotMode::Stationary;
            if (mode == ShotMode::Stationary && !can_stop)
                mode = ShotMode::Track;
        } else if (can_stop && stat_keep >= kStationaryKeep) {
            mode = ShotMode::Stationary;
        } else if (pan_score >= 0 && pan_keep >= kPanKeep && pan_keep >= stat_keep + kPanGain &&
                   std::fabs(pan_b.x - pan_a.x) >= 0.05 * g.length()) {
            mode = ShotMode::Pan;
        } else {
            mode = ShotMode::Track;
        }

        if (mode == ShotMode::Stationary) {
            std::fill(path.begin(), path.end(), stat.x);
        } else if (mode == ShotMode::Pan) {
            if (carry.valid)
                for (size_t t = 0; t < n; t++)
                    path[t] = clampd(carry.x + carry.v * (t + 1), 0, range);
            else
                for (size_t t = 0; t < n; t++)
                    path[t] = pan_a.x + (pan_b.x - pan_a.x) * t / tn;
        } else {
            // Dead band: the target only moves once the best window is more than `db` away (backlash),
            // so jitter of the subject inside the window leaves the camera still.
            const double db = g.length() * (0.02 + 0.03 * p.smoothing);
            std::vector<double> target(n);
            double h = carry.valid ? carry.x : xopt[0];
            for (size_t t = 0; t < n; t++) {
                if (xopt[t] > h + db)
                    h = xopt[t] - db;
                else if (xopt[t] < h - db)
                    h = xopt[t] + db;
                target[t] = h;
            }
            // Least squares: |x - target|^2 + l1 |dx|^2 + l2 |d2x|^2, continuing from the carry.
            const double tau = (0.05 + 0.4 * p.smoothing) * p.fps;  // time constant in frames
            const double l1 = 0.5 * tau * tau, l2 = tau * tau * tau * tau;
            Banded sys(n);
            auto fixed = [&](long idx) { return idx == -1 ? carry.x : carry.x - carry.v; };
            for (size_t t = 0; t < n; t++)
                sys.add_term({{long(t), 1.0}}, 1.0, fixed);
            for (long t = carry.valid ? 0 : 1; t < long(n); t++)
                sys.add_term({{t, 1.0}, {t - 1, -1.0}}, l1, fixed);
            for (long t = carry.valid ? -1 : 1; t + 1 < long(n); t++)
                sys.add_term({{t + 1, 1.0}, {t, -2.0}, {t - 1, 1.0}}, l2, fixed);
            for (size_t t = 0; t < n; t++)
                sys.b[t] += target[t];
            std::vector<double> smooth = sys.solve();
            for (double &s : smooth)
                s = clampd(s, 0, range);
            // Follower: bounded velocity and acceleration, braking early enough not to overshoot.
            double x = carry.valid ? carry.x : smooth[0];
            double v = carry.valid ? carry.v : 0.0;
            for (size_t t = 0; t < n; t++) {
                if (!carry.valid && t == 0) {
                    path[0] = x;
                    continue;
                }
                const double ds = t > 0 ? smooth[t] - smooth[t - 1] : 0.0;
                const double e = smooth[t] - x - ds;
                double want = ds + (e >= 0 ? 1 : -1) * std::min(std::fabs(e), stop_speed(std::fabs(e), lim.amax));
                double nv = clampd(want, v - lim.amax, v + lim.amax);
                nv = clampd(nv, -lim.vmax, lim.vmax);
                // Never faster than what can stop at the frame's edge with the same deceleration bound.
                nv = clampd(nv, -stop_speed(x, lim.amax), stop_speed(range - x, lim.amax));
                double nx = clampd(x + nv, 0, range);
                v = nx - x;
                x = nx;
                path[t] = x;
            }
        }
    }

    // Windows, rounded (to even when asked); the continuous path carries over to the next chunk.
    plan.mode = mode;
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
    plan.carry.valid = true;
    plan.carry.mode = mode;
    plan.carry.padded = padded;
    plan.carry.pad_x = pad_x;
    plan.carry.pad_len = pad_len;
    plan.carry.x = path[commit - 1];
    plan.carry.v = commit >= 2 ? path[commit - 1] - path[commit - 2] : (carry.valid ? path[0] - carry.x : 0.0);
    if (mode == ShotMode::Stationary)
        plan.carry.v = 0;
    return plan;
}

void plan_offline(const Geometry &g, const PlanParams &p, const float *maps, size_t frames, int map_h, int map_w,
                  const std::vector<int64_t> &cuts, std::vector<Window> *windows, std::vector<ShotPlan> *shots)
{
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
        std::vector<const float *> prof;
        for (int64_t t = a; t < b; t++)
            prof.push_back(&profiles[size_t(t) * bins]);
        ChunkPlan cp = plan_chunk(g, p, prof, bins, Carry{}, prof.size());
        windows->insert(windows->end(), cp.windows.begin(), cp.windows.end());
        shots->push_back({a, b, cp.mode});
    }
}

}  // namespace salcrop
