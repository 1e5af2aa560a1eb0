// Who speaks (DESIGN.md "People: the track layer"): per face track and frame, the probability that this face is
// speaking (TrackPoint::speaking), from the face's crops and the clip's sound (audio.h), gated by voice activity.
// The engine gives each face point's crop as it sees the frame (it keeps no frames); the scorer fills the scores
// of the frames it has crops and sound for.
//
// What it is (speakers.cpp, docs/speakers-audio.md): no shippable audio-visual active-speaker model exists (the
// LR-ASD/Light-ASD weights may not be shipped by this project; the PyPI ASD packages carry no weights), so the
// score is our own: P(speech) from Silero VAD (models/silero-vad.onnx, MIT, from the silero-vad wheel) over
// +-0.25 s, times P(this mouth speaks) from the crops and the sound over +-1.5 s: z = log(spread of the mouth
// region's high-passed brightness / that of the eye region) + 4 x the largest |correlation| of the mouth's
// brightness with the sound's log loudness (lag 0..3 crops), through a logistic (threshold 1.25, scale 0.3).
// Chosen on face-crops (25 clips, YuNet boxes) and msdwild-00115 together: no clip here is held out for it.
// Its absolute level is poorly calibrated (a speaker may score 0.3): compare the faces of a shot with each other.
// Crops: the face box, square, centred, resampled to 112x112 grey (face_crop below); the mouth region is rows
// 72..103 and columns 30..81, the eye region rows 40..59 (a detector's box from brow to chin, as YuNet's).
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

// Why a crop got its score (for the evaluation and the debug view): the mouth evidence z (log of the
// mouth-to-eyes movement ratio + 4 x the lips-to-sound synchrony), the voice probability around it, and z's two
// parts; all -1 where the crop was not scored.
struct SpeakerEvidence {
    float mouth = -1;
    float voice = -1;
    float ratio = -1;
    float sync = -1;
};

struct FaceCrop {
    int64_t frame = 0;
    double t = 0;                 // the frame's time, seconds (the audio's clock)
    std::vector<uint8_t> grey;    // kFaceCropSize^2, the face box (square, centred) resampled
};

// The crop the scorer reads, from a frame as the engine sees it: the square of side max(box.w, box.h) centred on the
// box, as 112x112 grey (luma for YUV and grey frames, 0.30 R + 0.59 G + 0.11 B for RGB ones), each pixel the mean of
// up to 4x4 samples of its footprint; parts outside the frame repeat its edge (a face at the edge). One definition,
// so the mouth region (rows 72..103) sits where the scorer expects it.
FaceCrop face_crop(const SalcropImage &img, const Box &box, int64_t frame, double t);

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
