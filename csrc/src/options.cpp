#include "options.h"

#include <cmath>
#include <cstdlib>
#include <numeric>
#include <sstream>

#include "errors.h"

namespace salcrop {

namespace {

bool parse_double(const std::string &s, double *out)
{
    if (s.empty())
        return false;
    char *end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0' || !std::isfinite(v))
        return false;
    *out = v;
    return true;
}

std::string num(double v)
{
    std::ostringstream os;
    os << v;
    return os.str();
}

}  // namespace

Ratio parse_ratio(const std::string &text)
{
    const std::string bad = "ratio='" + text +
        "' is not valid: give W:H, W/H or a decimal between 1:10 and 10:1 (e.g. 9:16, 4/5, 1)";
    double value = 0;
    Ratio r;
    size_t sep = text.find_first_of(":/");
    if (sep != std::string::npos) {
        double a, b;
        if (!parse_double(text.substr(0, sep), &a) || !parse_double(text.substr(sep + 1), &b) || a <= 0 || b <= 0)
            throw OptionError(bad);
        value = a / b;
        if (a == std::floor(a) && b == std::floor(b) && a < 1e6 && b < 1e6) {
            long g = std::gcd(long(a), long(b));
            r.num = int(long(a) / g);
            r.den = int(long(b) / g);
        } else {
            r.num = 0;
        }
    } else {
        if (!parse_double(text, &value) || value <= 0)
            throw OptionError(bad);
        r.num = 0;
    }
    if (!(value >= 0.1 - 1e-12 && value <= 10.0 + 1e-12))
        throw OptionError(bad);
    if (r.num == 0 || r.num > 10000 || r.den > 10000) {
        // A decimal: the closest fraction with a small denominator (continued fractions).
        int best_n = 1, best_d = 1;
        double best_err = 1e9;
        for (int d = 1; d <= 1000; d++) {
            int n = int(std::lround(value * d));
            double err = std::fabs(double(n) / d - value);
            if (n > 0 && err < best_err - 1e-12) {
                best_err = err;
                best_n = n;
                best_d = d;
            }
            if (best_err < 1e-9)
                break;
        }
        r.num = best_n;
        r.den = best_d;
    }
    return r;
}

std::vector<Ratio> parse_ratios(const std::string &text)
{
    std::vector<Ratio> out;
    std::vector<std::string> items;
    size_t start = 0;
    for (;;) {
        const size_t sep = text.find_first_of("|,", start);
        items.push_back(text.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
        if (sep == std::string::npos)
            break;
        start = sep + 1;
    }
    for (const std::string &item : items) {
        if (item.empty() && items.size() > 1)
            throw OptionError("ratio='" + text + "' is not valid: an empty item in the list (give e.g. 9:16|1|4:5)");
        const Ratio r = parse_ratio(item);
        for (size_t k = 0; k < out.size(); k++)
            if (out[k].num == r.num && out[k].den == r.den)
                throw OptionError("ratio='" + text + "' is not valid: '" + items[k] + "' and '" + item +
                                  "' are the same ratio (" + std::to_string(r.num) + ":" + std::to_string(r.den) +
                                  "); give each once");
        out.push_back(r);
    }
    return out;
}

const char *default_speakers(bool sound, bool sphere)
{
    return sound || sphere ? "auto" : "off";
}

const char *mode_name(ShotMode m)
{
    switch (m) {
    case ShotMode::Stationary: return "stationary";
    case ShotMode::Pan: return "pan";
    case ShotMode::Track: return "track";
    }
    return "track";
}

void validate_device(const std::string &device)
{
    if (device != "auto" && device != "cpu" && device != "cuda")
        throw OptionError("device='" + device + "' is not valid: use auto, cpu or cuda");
}

ShotMode parse_mode(const std::string &mode, bool *forced)
{
    *forced = mode != "auto";
    if (mode == "auto" || mode == "track")
        return ShotMode::Track;
    if (mode == "stationary")
        return ShotMode::Stationary;
    if (mode == "pan")
        return ShotMode::Pan;
    throw OptionError("mode='" + mode + "' is not valid: use auto, stationary, pan or track");
}

CheckedOptions validate(const EngineOptions &o)
{
    CheckedOptions c;
    if (o.width < 2 || o.height < 2 || o.width > 16384 || o.height > 16384)
        throw OptionError("width/height " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                          " is not valid: both must be 2..16384");
    if (!(o.fps > 0 && o.fps <= 1000))
        throw OptionError("fps=" + num(o.fps) + " is not valid: must be > 0 and <= 1000");
    c.ratios = parse_ratios(o.ratio);
    c.ratio = c.ratios.front();
    validate_device(o.device);
    c.mode = parse_mode(o.mode, &c.forced);
    if (o.stride < 1 || o.stride > 30)
        throw OptionError("stride=" + std::to_string(o.stride) + " is not valid: must be 1..30");
    if (!(o.lookahead >= 0.1 && o.lookahead <= 60))
        throw OptionError("lookahead=" + num(o.lookahead) + " is not valid: must be 0.1..60 seconds");
    if (!(o.scene_threshold >= 0 && o.scene_threshold <= 100))
        throw OptionError("scene_threshold=" + num(o.scene_threshold) +
                          " is not valid: must be 0..100 (0 disables shot detection)");
    if (!(o.smoothing >= 0 && o.smoothing <= 1))
        throw OptionError("smoothing=" + num(o.smoothing) + " is not valid: must be 0..1");
    if (o.pad == "none")
        c.pad = PadMode::None;
    else if (o.pad == "blur")
        c.pad = PadMode::Blur;
    else if (o.pad == "black")
        c.pad = PadMode::Black;
    else
        throw OptionError("pad='" + o.pad + "' is not valid: use none, blur or black");
    if (o.threads < 0 || o.threads > 256)
        throw OptionError("threads=" + std::to_string(o.threads) + " is not valid: must be 0..256 (0 = automatic)");
    if (!std::isfinite(o.max_memory) || o.max_memory > 1e9 || (o.max_memory > 0 && o.max_memory < 1))
        throw OptionError("max_memory=" + num(o.max_memory) + " is not valid: MB for the frames awaiting their "
                          "decision, 1..1e9 (0 = the default " + num(kDefaultMaxMemoryMB) + " MB, < 0 = no budget)");
    if (o.speakers == "auto")
        c.speakers = true;
    else if (o.speakers == "off")
        c.speakers = false;
    else
        throw OptionError("speakers='" + o.speakers + "' is not valid: use auto or off");
    return c;
}

}  // namespace salcrop
