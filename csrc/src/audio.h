// The clip's sound for analysis (who speaks): whatever FFmpeg gives (salcrop.h SalcropAudio: any sample format,
// rate and layout) is mixed down to mono and resampled to kAudioRate once, here, on the frames' clock (the blocks'
// times, not sample counts). Gaps are silence; overlaps keep what came first.
#pragma once

#include <cstdint>
#include <vector>

#include "salcrop/salcrop.h"

namespace salcrop {

constexpr int kAudioRate = 16000;  // what the voice-activity and active-speaker models take

class AudioTrack {
public:
    // A block whose first sample plays at t seconds. Throws std::invalid_argument for a malformed block
    // (unknown format, rate outside 8000..192000, no channels, null data).
    void push(const SalcropAudio &block, double t);
    void end();  // no more audio: what is missing is silence
    bool ended() const { return ended_; }
    bool any() const { return any_; }  // some audio was pushed
    // Until when the sound is known (+inf once ended).
    double known_until() const;
    // Mono samples at kAudioRate for [t0, t1): silence where nothing was pushed.
    std::vector<float> samples(double t0, double t1) const;
    // Streaming: forget the sound before t.
    void drop_before(double t);

private:
    double origin_ = 0;          // the time of samples_[0]
    std::vector<float> samples_;
    bool ended_ = false, any_ = false;
};

}  // namespace salcrop
