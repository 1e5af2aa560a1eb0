// The clip's sound for analysis (who speaks): whatever FFmpeg gives (salcrop.h SalcropAudio: any sample format,
// rate and layout) is mixed down to mono and resampled to kAudioRate once, here, on the frames' clock (the blocks'
// times, not sample counts). Gaps are silence; overlaps keep what came first.
//
// How (audio.cpp): channels are averaged; a Kaiser-windowed sinc (16 zero crossings, pass band to 94% of the lower
// Nyquist) resamples each run of contiguous blocks, output sample n sitting at n / kAudioRate seconds on the
// blocks' clock. A block that starts within 2 ms of where the previous one ended continues it (pts rounding);
// otherwise it starts a new run: the time between is silence, and output samples already written stay (an
// overlap's repeated part is dropped). A sample is final ("known") once the resampler has seen the input its
// kernel reaches: about 1 ms behind the last block, or everything after end().
// Memory: what was pushed and not dropped (64 KB per second of sound) plus the resampler's few hundred input
// samples; the engine drops what its decided frames no longer need (drop_before). Gaps longer than a second are
// not stored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "salcrop/salcrop.h"

namespace salcrop {

constexpr int kAudioRate = 16000;  // what the voice-activity and active-speaker models take
constexpr int kAudioMinRate = 8000, kAudioMaxRate = 192000;
constexpr int kAudioMaxChannels = 64;
constexpr int kAudioMaxBlock = 1 << 24;  // samples per channel in one block (FFmpeg's are a few thousand)

// The format's bytes per sample, whether it is planar, its FFmpeg name ("s16", "fltp", ...), and the format of a
// name (std::invalid_argument listing the names for an unknown one): for the Python front end (PyAV's names).
int sample_format_bytes(SalcropSampleFormat f);
bool sample_format_planar(SalcropSampleFormat f);
const char *sample_format_name(SalcropSampleFormat f);
SalcropSampleFormat sample_format_from_name(const std::string &name);
// Throws std::invalid_argument naming what is wrong with a block (see AudioTrack::push).
void validate_audio(const SalcropAudio &block, double t);
// The block's channels averaged, as floats in -1..1 (NaN/inf samples of float formats become 0).
std::vector<float> mix_down(const SalcropAudio &block);

class AudioTrack {
public:
    // A block whose first sample plays at t seconds. Throws std::invalid_argument for a malformed block
    // (unknown format, rate outside 8000..192000, channels outside 1..64, null data, a time that is not finite)
    // or a block after end(). A block of 0 samples is nothing.
    void push(const SalcropAudio &block, double t);
    void end();  // no more audio: what is missing is silence
    bool ended() const { return ended_; }
    bool any() const { return any_; }  // some audio was pushed
    // Until when the sound is known (+inf once ended, -inf before any).
    double known_until() const;
    // Mono samples at kAudioRate for [t0, t1): silence where nothing was pushed (or it was dropped).
    std::vector<float> samples(double t0, double t1) const;
    // Streaming: forget the sound before t.
    void drop_before(double t);
    // Floats held (the stored sound and the resampler's input), for memory tests.
    size_t stored() const;

private:
    struct Run {
        int64_t start;  // output sample index (time * kAudioRate) of samples[0]
        std::vector<float> samples;
    };
    static constexpr int64_t kMaxGapSamples = kAudioRate;  // longer silences are not stored

    void resample(bool flush);
    void close_segment();
    void append(int64_t start, const std::vector<float> &s);
    int64_t written_end() const;
    double input_position(int64_t n) const;

    std::vector<Run> runs_;  // in time order, not overlapping
    int64_t dropped_until_ = INT64_MIN;
    // The run of contiguous blocks being resampled: its input rate (0 = none), the time of its first input
    // sample, its mono input from input sample seg_base_ on, how many input samples it had in all, and the next
    // output sample to compute.
    int seg_rate_ = 0;
    double seg_t0_ = 0;
    std::vector<float> seg_in_;
    int64_t seg_base_ = 0, seg_count_ = 0;
    int64_t next_out_ = 0;
    bool ended_ = false, any_ = false;
};

}  // namespace salcrop
