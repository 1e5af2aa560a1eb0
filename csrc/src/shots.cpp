#include "shots.h"

#include <algorithm>
#include <cmath>

namespace salcrop {

ShotDetector::ShotDetector(double threshold, double fps)
    : enabled_(threshold > 0), threshold_(threshold), min_score_(kMinScorePerThreshold * threshold),
      min_len_(std::max<int64_t>(1, std::llround(kMinShotSeconds * fps))),
      max_fade_(std::max<int64_t>(1, std::llround(kMaxFadeSeconds * fps)))
{
}

double ShotDetector::score(int64_t frame) const
{
    if (frame < base_ || frame >= pushed_)
        return 0.0;
    return frames_[size_t(frame - base_)].first;
}

bool ShotDetector::dark(int64_t frame) const
{
    if (frame < base_ || frame >= pushed_)
        return false;
    return frames_[size_t(frame - base_)].second;
}

bool ShotDetector::content_cut(int64_t i, int64_t last) const
{
    if (dark(i) || dark(i - 1))
        return false;
    const double s = score(i);
    double sum = 0;
    int n = 0;
    for (int64_t j = i - kWindow; j <= i + kWindow; j++) {
        if (j == i || j < 1 || j > last)
            continue;
        sum += score(j);
        n++;
    }
    const double avg = n ? sum / n : 0.0;
    const double ratio = avg > 1e-3 ? s / avg : (s > 0 ? 1e9 : 0.0);
    return ratio >= threshold_ && s >= min_score_;
}

void ShotDetector::decide_until(int64_t end, int64_t last, std::vector<Verdict> *out, bool at_end)
{
    while (decided_ < end) {
        const int64_t i = decided_++;
        bool cut = false;
        if (i > 0 && enabled_) {
            while (!fade_cuts_.empty() && fade_cuts_.front() < i)
                fade_cuts_.pop_front();  // fell inside the minimum shot length
            const bool fade = !fade_cuts_.empty() && fade_cuts_.front() == i;
            // The last shot lasts the minimum too: at the end of the clip (a file's stray last frame) no cut
            // leaves a shorter one.
            const bool room_after = !at_end || pushed_ - i >= min_len_;
            if ((fade || content_cut(i, last)) && i - last_cut_ >= min_len_ && room_after) {
                cut = true;
                last_cut_ = i;
            }
        }
        out->push_back({i, cut});
    }
}

std::vector<ShotDetector::Verdict> ShotDetector::push(const Thumbnail &t)
{
    std::vector<Verdict> out;
    double s = 0.0;
    if (pushed_ > 0 && prev_.hsv.size() == t.hsv.size()) {
        const size_t n = size_t(t.width) * t.height;
        double dh = 0, ds = 0, dv = 0;
        for (size_t k = 0; k < n; k++) {
            // Hue and saturation of near-black pixels are noise: there only brightness counts. Selected, not
            // branched on (adding 0 leaves the sums as they were; the branch was mispredicted on real video).
            const bool lit = std::max(t.hsv[2 * n + k], prev_.hsv[2 * n + k]) >= kDarkPixel;
            dh += lit ? std::fabs(t.hsv[k] - prev_.hsv[k]) : 0.0f;
            ds += lit ? std::fabs(t.hsv[n + k] - prev_.hsv[n + k]) : 0.0f;
            dv += std::fabs(t.hsv[2 * n + k] - prev_.hsv[2 * n + k]);
        }
        s = (dh + ds + dv) / (3.0 * n);
    }
    prev_ = t;
    const bool is_dark = t.brightness < kBlackLevel;
    newest_change_ = s;
    newest_may_start_ = pushed_ == 0 || (enabled_ && (is_dark || s >= min_score_));
    if (!enabled_) {  // the score still tells the engine how much the picture changed
        out.push_back({pushed_++, false});
        decided_ = pushed_;
        return out;
    }
    const int64_t i = pushed_++;
    frames_.emplace_back(s, is_dark);

    // Fades through black.
    auto split = [this](int64_t f_in) {
        const int64_t len = f_in - fade_out_;
        return (f_in + fade_out_ + int64_t(kFadeBias * len)) / 2;
    };
    if (is_dark) {
        if (!in_dark_) {
            in_dark_ = true;
            fade_closed_ = !seen_content_;  // leading black: nothing to separate
            fade_out_ = i;
        } else if (!fade_closed_ && i - fade_out_ >= max_fade_) {
            fade_cuts_.push_back(split(i));  // a long black: close the fade so verdicts can go on
            fade_closed_ = true;
        }
    } else {
        if (in_dark_ && !fade_closed_)
            fade_cuts_.push_back(split(i));
        in_dark_ = false;
        seen_content_ = true;
    }

    int64_t ready = pushed_ - kWindow;  // right neighbours known
    if (in_dark_ && !fade_closed_)
        ready = std::min(ready, fade_out_);  // the boundary may fall anywhere in the dark run
    decide_until(ready, pushed_ - 1, &out);
    // Keep only what is still needed: kWindow frames left of the next undecided frame.
    while (base_ < decided_ - kWindow - 1) {
        frames_.pop_front();
        base_++;
    }
    return out;
}

std::vector<ShotDetector::Verdict> ShotDetector::flush()
{
    std::vector<Verdict> out;
    decide_until(pushed_, pushed_ - 1, &out, true);  // an open fade at the end: trailing black, no boundary
    return out;
}

}  // namespace salcrop
