#include "audio.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace salcrop {

namespace {

// The resampler: a Kaiser-windowed sinc, kZeros zero crossings each side at the lower of the two rates, read from a
// table (kTableSteps points per zero crossing, linear between them) so that no tap costs a sin(). 16 crossings and
// beta 8.6 put the stop band below -80 dB; the pass band ends at kPassband of the lower Nyquist.
constexpr int kZeros = 16;
constexpr int kTableSteps = 512;
constexpr double kKaiserBeta = 8.6;
constexpr double kPassband = 0.94;
// A block that starts within this of where the previous one ended continues it (pts rounding, AAC priming):
// beyond it, the block starts a new segment (a gap of silence, or an overlap whose repeated part is dropped).
constexpr double kJitterSeconds = 0.002;
// Times further than this from 0 are refused (a corrupt pts would otherwise make an index overflow).
constexpr double kMaxSeconds = 1e8;

double bessel_i0(double x)
{
    double sum = 1, term = 1;
    for (int k = 1; k < 50; ++k) {
        term *= (x / (2 * k)) * (x / (2 * k));
        sum += term;
        if (term < 1e-12 * sum)
            break;
    }
    return sum;
}

// sinc(u) * kaiser(u / kZeros) for u = i / kTableSteps, i = 0 .. kZeros * kTableSteps (+1 for the interpolation).
const std::vector<float> &kernel_table()
{
    static const std::vector<float> table = [] {
        std::vector<float> t(size_t(kZeros * kTableSteps + 2), 0.0f);
        const double norm = bessel_i0(kKaiserBeta);
        for (int i = 0; i <= kZeros * kTableSteps; ++i) {
            const double u = double(i) / kTableSteps;
            const double sinc = i == 0 ? 1.0 : std::sin(M_PI * u) / (M_PI * u);
            const double r = u / kZeros;
            const double win = bessel_i0(kKaiserBeta * std::sqrt(std::max(0.0, 1 - r * r))) / norm;
            t[size_t(i)] = float(sinc * win);
        }
        return t;
    }();
    return table;
}

bool planar(SalcropSampleFormat f)
{
    switch (f) {
    case SALCROP_SAMPLE_U8P: case SALCROP_SAMPLE_S16P: case SALCROP_SAMPLE_S32P:
    case SALCROP_SAMPLE_FLTP: case SALCROP_SAMPLE_DBLP: case SALCROP_SAMPLE_S64P:
        return true;
    default:
        return false;
    }
}

// One sample of format f (its packed or planar kind alike) at p, as -1..1.
template <typename T> T load(const uint8_t *p)
{
    T v;
    std::memcpy(&v, p, sizeof v);  // the caller's buffer need not be aligned
    return v;
}

float to_float(SalcropSampleFormat f, const uint8_t *p)
{
    switch (f) {
    case SALCROP_SAMPLE_U8: case SALCROP_SAMPLE_U8P:
        return (float(*p) - 128.0f) / 128.0f;
    case SALCROP_SAMPLE_S16: case SALCROP_SAMPLE_S16P:
        return float(load<int16_t>(p)) / 32768.0f;
    case SALCROP_SAMPLE_S32: case SALCROP_SAMPLE_S32P:
        return float(double(load<int32_t>(p)) / 2147483648.0);
    case SALCROP_SAMPLE_S64: case SALCROP_SAMPLE_S64P:
        return float(double(load<int64_t>(p)) / 9223372036854775808.0);
    case SALCROP_SAMPLE_FLT: case SALCROP_SAMPLE_FLTP: {
        const float v = load<float>(p);
        return std::isfinite(v) ? std::clamp(v, -4.0f, 4.0f) : 0.0f;  // a broken decoder's NaN stays out
    }
    case SALCROP_SAMPLE_DBL: case SALCROP_SAMPLE_DBLP: {
        const double v = load<double>(p);
        return std::isfinite(v) ? float(std::clamp(v, -4.0, 4.0)) : 0.0f;
    }
    default:
        return 0.0f;
    }
}

}  // namespace

int sample_format_bytes(SalcropSampleFormat f)
{
    switch (f) {
    case SALCROP_SAMPLE_U8: case SALCROP_SAMPLE_U8P: return 1;
    case SALCROP_SAMPLE_S16: case SALCROP_SAMPLE_S16P: return 2;
    case SALCROP_SAMPLE_S32: case SALCROP_SAMPLE_S32P: case SALCROP_SAMPLE_FLT: case SALCROP_SAMPLE_FLTP: return 4;
    case SALCROP_SAMPLE_DBL: case SALCROP_SAMPLE_DBLP: case SALCROP_SAMPLE_S64: case SALCROP_SAMPLE_S64P: return 8;
    default: return 0;
    }
}

bool sample_format_planar(SalcropSampleFormat f)
{
    return planar(f);
}

static const char *const kFormatNames[SALCROP_SAMPLE_NB] = {
    "u8", "s16", "s32", "flt", "dbl", "u8p", "s16p", "s32p", "fltp", "dblp", "s64", "s64p",
};

SalcropSampleFormat sample_format_from_name(const std::string &name)
{
    for (int i = 0; i < SALCROP_SAMPLE_NB; ++i)
        if (name == kFormatNames[i])
            return SalcropSampleFormat(i);
    std::string all;
    for (const char *n : kFormatNames)
        all += std::string(all.empty() ? "" : ", ") + n;
    throw std::invalid_argument("audio: unknown sample format '" + name + "' (known: " + all + ")");
}

const char *sample_format_name(SalcropSampleFormat f)
{
    return f >= 0 && f < SALCROP_SAMPLE_NB ? kFormatNames[f] : "unknown";
}

void validate_audio(const SalcropAudio &b, double t)
{
    if (int(b.format) < 0 || int(b.format) >= SALCROP_SAMPLE_NB)
        throw std::invalid_argument("audio: unknown sample format " + std::to_string(int(b.format)) +
                                    " (SalcropSampleFormat: 0 .. " + std::to_string(SALCROP_SAMPLE_NB - 1) + ")");
    if (b.sample_rate < kAudioMinRate || b.sample_rate > kAudioMaxRate)
        throw std::invalid_argument("audio: sample rate " + std::to_string(b.sample_rate) + " Hz is outside " +
                                    std::to_string(kAudioMinRate) + " .. " + std::to_string(kAudioMaxRate));
    if (b.channels < 1 || b.channels > kAudioMaxChannels)
        throw std::invalid_argument("audio: " + std::to_string(b.channels) + " channels (allowed: 1 .. " +
                                    std::to_string(kAudioMaxChannels) + ")");
    if (b.nb_samples < 0 || b.nb_samples > kAudioMaxBlock)
        throw std::invalid_argument("audio: a block of " + std::to_string(b.nb_samples) +
                                    " samples (allowed: 0 .. " + std::to_string(kAudioMaxBlock) + ")");
    if (!std::isfinite(t) || std::fabs(t) > kMaxSeconds)
        throw std::invalid_argument("audio: block time " + std::to_string(t) + " s is not a usable time");
    if (b.nb_samples == 0)
        return;
    if (!b.data)
        throw std::invalid_argument("audio: a block of " + std::to_string(b.nb_samples) + " samples with no data");
    const int planes = planar(b.format) ? b.channels : 1;
    for (int c = 0; c < planes; ++c)
        if (!b.data[c])
            throw std::invalid_argument("audio: plane " + std::to_string(c) + " of a " +
                                        sample_format_name(b.format) + " block has no data");
}

std::vector<float> mix_down(const SalcropAudio &b)
{
    std::vector<float> mono(size_t(b.nb_samples), 0.0f);
    const int bytes = sample_format_bytes(b.format);
    const float gain = 1.0f / float(b.channels);
    if (planar(b.format)) {
        for (int c = 0; c < b.channels; ++c) {
            const uint8_t *p = b.data[c];
            for (int i = 0; i < b.nb_samples; ++i)
                mono[size_t(i)] += to_float(b.format, p + size_t(i) * size_t(bytes));
        }
    } else {
        const uint8_t *p = b.data[0];
        const size_t frame = size_t(bytes) * size_t(b.channels);
        for (int i = 0; i < b.nb_samples; ++i)
            for (int c = 0; c < b.channels; ++c)
                mono[size_t(i)] += to_float(b.format, p + size_t(i) * frame + size_t(c) * size_t(bytes));
    }
    for (float &v : mono)
        v *= gain;
    return mono;
}

void AudioTrack::push(const SalcropAudio &block, double t)
{
    if (ended_)
        throw std::invalid_argument("audio: a block after the end of the audio");
    validate_audio(block, t);
    if (block.nb_samples == 0)
        return;
    std::vector<float> mono = mix_down(block);
    any_ = true;

    const bool continues = seg_rate_ == block.sample_rate &&
                           std::fabs(t - (seg_t0_ + double(seg_count_) / seg_rate_)) <= kJitterSeconds;
    if (!continues) {
        close_segment();
        seg_rate_ = block.sample_rate;
        seg_t0_ = t;
        seg_base_ = 0;
        seg_count_ = 0;
        seg_in_.clear();
        // The first output sample at or after the block's start; earlier ones are silence (a gap) or were already
        // written (an overlap: what came first stays).
        next_out_ = std::max(written_end(), int64_t(std::ceil(t * kAudioRate - 1e-9)));
    }
    seg_in_.insert(seg_in_.end(), mono.begin(), mono.end());
    seg_count_ += int64_t(mono.size());
    resample(false);
}

void AudioTrack::end()
{
    close_segment();
    ended_ = true;
}

double AudioTrack::known_until() const
{
    if (ended_)
        return std::numeric_limits<double>::infinity();
    const int64_t end = written_end();
    if (!any_ || end == std::numeric_limits<int64_t>::min())
        return -std::numeric_limits<double>::infinity();
    return double(end) / kAudioRate;
}

int64_t AudioTrack::written_end() const
{
    int64_t end = runs_.empty() ? std::numeric_limits<int64_t>::min() : runs_.back().start +
                                                                          int64_t(runs_.back().samples.size());
    return std::max(end, dropped_until_);
}

// Where output sample n lies in the current segment's input, in input samples from the segment's start.
double AudioTrack::input_position(int64_t n) const
{
    return (double(n) / kAudioRate - seg_t0_) * seg_rate_;
}

void AudioTrack::resample(bool flush)
{
    if (seg_rate_ == 0)
        return;
    const std::vector<float> &table = kernel_table();
    const double cutoff = std::min(1.0, double(kAudioRate) / seg_rate_) * kPassband;  // of the input's Nyquist
    const double half = kZeros / cutoff;  // the kernel's half width, input samples
    const double end_in = double(seg_count_);
    std::vector<float> out;
    for (;; ++next_out_) {
        const double p = input_position(next_out_);
        if (flush ? p >= end_in : p + half >= end_in)
            break;
        const int64_t lo = std::max<int64_t>(seg_base_, int64_t(std::ceil(p - half)));
        const int64_t hi = std::min<int64_t>(seg_count_ - 1, int64_t(std::floor(p + half)));
        double acc = 0;
        for (int64_t k = lo; k <= hi; ++k) {
            const double u = std::fabs(p - double(k)) * cutoff * kTableSteps;
            const size_t i = size_t(u);
            const double frac = u - double(i);
            const double w = table[i] + (table[i + 1] - table[i]) * frac;
            acc += w * seg_in_[size_t(k - seg_base_)];
        }
        out.push_back(float(acc * cutoff));
    }
    if (!out.empty())
        append(next_out_ - int64_t(out.size()), out);
    // Forget the input no later output sample reaches.
    const int64_t keep_from = int64_t(std::floor(input_position(next_out_) - half)) - 1;
    if (keep_from - seg_base_ > 8192) {
        const int64_t drop = std::min<int64_t>(keep_from - seg_base_, int64_t(seg_in_.size()));
        seg_in_.erase(seg_in_.begin(), seg_in_.begin() + drop);
        seg_base_ += drop;
    }
}

void AudioTrack::close_segment()
{
    resample(true);
    seg_rate_ = 0;
    seg_in_.clear();
    seg_base_ = seg_count_ = 0;
}

void AudioTrack::append(int64_t start, const std::vector<float> &s)
{
    if (start < dropped_until_) {  // before what was dropped: nobody will read it
        const int64_t skip = std::min<int64_t>(dropped_until_ - start, int64_t(s.size()));
        append(start + skip, std::vector<float>(s.begin() + skip, s.end()));
        return;
    }
    if (s.empty())
        return;
    // A gap of silence up to kMaxGapSamples is stored as zeros (one run); a longer one starts a new run.
    if (!runs_.empty()) {
        Run &last = runs_.back();
        const int64_t end = last.start + int64_t(last.samples.size());
        if (start >= end && start - end <= kMaxGapSamples) {
            last.samples.resize(size_t(start - last.start), 0.0f);
            last.samples.insert(last.samples.end(), s.begin(), s.end());
            return;
        }
    }
    runs_.push_back({start, s});
}

std::vector<float> AudioTrack::samples(double t0, double t1) const
{
    const int64_t n0 = int64_t(std::llround(t0 * kAudioRate));
    const int64_t n1 = int64_t(std::llround(t1 * kAudioRate));
    if (!(n1 > n0))
        return {};
    std::vector<float> out(size_t(n1 - n0), 0.0f);
    for (const Run &r : runs_) {
        const int64_t a = std::max(n0, r.start), b = std::min(n1, r.start + int64_t(r.samples.size()));
        if (a < b)
            std::copy(r.samples.begin() + (a - r.start), r.samples.begin() + (b - r.start), out.begin() + (a - n0));
    }
    return out;
}

void AudioTrack::drop_before(double t)
{
    if (!std::isfinite(t))
        return;
    const int64_t n = int64_t(std::floor(t * kAudioRate));
    dropped_until_ = std::max(dropped_until_, n);
    while (!runs_.empty()) {
        Run &r = runs_.front();
        const int64_t end = r.start + int64_t(r.samples.size());
        if (end <= n) {
            runs_.erase(runs_.begin());
        } else {
            if (r.start < n) {
                r.samples.erase(r.samples.begin(), r.samples.begin() + (n - r.start));
                r.start = n;
            }
            break;
        }
    }
}

size_t AudioTrack::stored() const
{
    size_t n = seg_in_.size();
    for (const Run &r : runs_)
        n += r.samples.size();
    return n;
}

}  // namespace salcrop
