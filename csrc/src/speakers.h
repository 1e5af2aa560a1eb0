// Who speaks (DESIGN.md "People: the track layer"): per face track and frame, the probability that this face is
// speaking (TrackPoint::speaking), from the face's crops and the clip's sound (audio.h), gated by voice activity.
// The engine gives each face point's crop as it sees the frame (it keeps no frames); the scorer fills the scores
// of the frames it has crops and sound for.
//
// What it is (speakers.cpp, docs/speakers-audio.md): no shippable audio-visual active-speaker model exists (the
// LR-ASD/Light-ASD weights may not be shipped by this project; the PyPI ASD packages carry no weights), so the
// score is our own: P(speech) from Silero VAD (models/silero-vad.onnx, MIT, from the silero-vad wheel) over
// +-0.25 s, times P(this mouth moves like speech) from the crops alone: the high-passed brightness of the mouth
// region against that of the eye region, over +-1.5 s of crops, through a logistic whose threshold was tuned on
// the 25 face-crops clips (leave-one-out: 24/25; the regions and the window were chosen on them too). It says who moves their lips while someone speaks; it does not check that the lips move in
// time with the sound (an envelope correlation was tried and did not separate the face-crops clips).
// Crops: the face box, square, centred, resampled to 112x112 grey; the mouth region is rows 56..99 and columns
// 24..87 of it (a detector's box from brow to chin puts the mouth there).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audio.h"
#include "tracks.h"

namespace salcrop {

constexpr int kFaceCropSize = 112;  // grey face crops, kFaceCropSize x kFaceCropSize bytes
constexpr const char *kVadModel = "silero-vad.onnx";  // the bundled voice-activity model (installed_model)

// Why a crop got its score (for the evaluation and the debug view): the mouth-to-eyes movement ratio and the
// voice probability around it; both -1 where the crop was not scored.
struct SpeakerEvidence {
    float mouth = -1;
    float voice = -1;
};

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
    // model's context, 0.3 s) and that has at least 5 crops within +-1.5 s in `crops` (in time order; give the
    // crops of +-1.5 s around the frames to score: a crop scored again with more neighbours gets a better score);
    // returns how many points it scored. Without audio (audio.any() false) it scores nothing: speaking stays
    // kSpeakingUnknown. evidence (optional): one entry per crop. Throws std::invalid_argument for a crop that is
    // not 112x112.
    size_t score(Track &track, const std::vector<FaceCrop> &crops, const AudioTrack &audio, double fps,
                 std::vector<SpeakerEvidence> *evidence = nullptr);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace salcrop
