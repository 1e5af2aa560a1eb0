// Who speaks (DESIGN.md "People: the track layer"): per face track and frame, the probability that this face is
// speaking (TrackPoint::speaking), from the face's crops and the clip's sound (audio.h), gated by voice activity.
// The engine gives each face point's crop as it sees the frame (it keeps no frames); the scorer fills the scores
// of the frames it has crops and sound for.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "audio.h"
#include "tracks.h"

namespace salcrop {

constexpr int kFaceCropSize = 112;  // grey face crops, kFaceCropSize x kFaceCropSize bytes

struct FaceCrop {
    int64_t frame = 0;
    double t = 0;                 // the frame's time, seconds (the audio's clock)
    std::vector<uint8_t> grey;    // kFaceCropSize^2, the face box (square, centred) resampled
};

class SpeakerScorer {
public:
    // ort_library/threads as the engine's (model.h); the models are the bundled ones.
    SpeakerScorer(const std::string &ort_library, int threads);
    ~SpeakerScorer();
    // Fills track.at(c.frame)->speaking for each crop whose sound is known (audio.known_until() > c.t + the
    // model's context); returns how many points it scored. Without audio (audio.any() false and ended) it scores
    // nothing: speaking stays kSpeakingUnknown.
    size_t score(Track &track, const std::vector<FaceCrop> &crops, const AudioTrack &audio, double fps);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace salcrop
