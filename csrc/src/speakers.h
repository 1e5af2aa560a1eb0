// Who speaks (DESIGN.md "People: the track layer"): per face track and frame, the probability that this face is
// speaking (TrackPoint::speaking), from the face's crops and the clip's sound (audio.h), gated by voice activity.
// The engine gives each face point's crop as it sees the frame (it keeps no frames); the scorer fills the scores
// of the frames it has crops and sound for.
//
// What it is (speakers.cpp, docs/speakers-audio.md): no shippable audio-visual active-speaker model exists (the
// LR-ASD/Light-ASD weights may not be shipped by this project; the PyPI ASD packages carry no weights), so the
// score is our own: P(speech) from Silero VAD (models/silero-vad.onnx, MIT, from the silero-vad wheel) over
// +-0.25 s, times P(this mouth speaks) from the crops over +-0.5 s, a logistic of two measures (stop 31):
//   - ratio: the spread of the mouth region's high-passed brightness / that of the eye region (lips against head,
//     light and codec);
//   - opening: the spread of the high-passed share of the mouth region's pixels darker than the crop's median
//     by 30 grey levels (an open mouth is dark inside);
// the regions placed on the detector's landmarks (mouth corners, eyes), so a face in profile is read where its
// mouth is; logit = 1.926 (log ratio + 0.037) + 3.521 (log(opening + 0.01) + 4.321) - 0.977, fitted on the 25
// face-crops clips (leave-one-clip-out 22/25; EVALUATION.md "Issue 25 (stop 31)"; msdwild-00115 was looked at
// while choosing the measures). The lips-to-sound synchrony is still measured and reported, weighing nothing.
// Its absolute level is poorly calibrated: compare the faces of a shot with each other (speaker_policy.cpp does).
// Crops: the face box, square, centred, resampled to 112x112 grey (face_crop below); without landmarks the mouth
// region is rows 72..103 and columns 30..81, the eye region rows 40..59 (a frontal face in a detector's box).
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

// Why a crop got its score (for the evaluation and the debug view): the mouth evidence z (the logit of P(this mouth
// speaks)), the voice probability around it, and the measures behind z (ratio, opening; the synchrony, which weighs
// nothing since stop 31); all -1 where the crop was not scored.
struct SpeakerEvidence {
    float mouth = -1;
    float voice = -1;
    float ratio = -1;
    float sync = -1;
    float opening = -1;  // the spread of the mouth's dark share (the mouth opening and shutting), since stop 31
};

struct FaceCrop {
    int64_t frame = 0;
    double t = 0;                 // the frame's time, seconds (the audio's clock)
    std::vector<uint8_t> grey;    // kFaceCropSize^2, the face box (square, centred) resampled
    // The detector's five landmarks (faces.h FaceDetection::kps) in the crop's pixels; without them (false) the
    // scorer reads fixed regions (a frontal face).
    bool landmarks = false;
    float kps[10] = {};
};

// Puts a detection's landmarks (source pixels) into a crop cut from `square` (source pixels, faces.h
// face_crop_square).
void set_crop_landmarks(FaceCrop &crop, const float kps[10], const Box &square);

// The crop the scorer reads, from a frame as the engine sees it: the square of side max(box.w, box.h) centred on the
// box, as 112x112 grey (luma for YUV and grey frames, 0.30 R + 0.59 G + 0.11 B for RGB ones), each pixel the mean of
// up to 4x4 samples of its footprint; parts outside the frame repeat its edge (a face at the edge). One definition,
// so the mouth region (rows 72..103) sits where the scorer expects it.
FaceCrop face_crop(const SalcropImage &img, const Box &box, int64_t frame, double t);

// How far past a crop its score reads the sound: the voice's +-0.25 s and one 32 ms VAD chunk (speakers.cpp). A
// frame's score is final once the sound is known that far past the newest crop; the engine plans no earlier
// (engine.h heard_enough), so who speaks does not depend on when the sound arrives.
constexpr double kSoundAfterCrop = 0.25 + 512.0 / 16000.0;

class SpeakerScorer {
public:
    // ort_library/threads as the engine's (model.h); the models are the bundled ones.
    SpeakerScorer(const std::string &ort_library, int threads);
    ~SpeakerScorer();
    // Fills track.at(c.frame)->speaking for each crop whose sound is known (audio.known_until() > c.t + the
    // model's context, 0.3 s) and that has at least 5 crops within +-0.5 s in `crops` (in time order; give the
    // crops of +-0.5 s around the frames to score: a crop scored again with more neighbours gets a better score);
    // returns how many points it scored. Without audio (audio.any() false) it scores nothing: speaking stays
    // kSpeakingUnknown. evidence (optional): one entry per crop. Throws std::invalid_argument for a crop that is
    // not 112x112.
    size_t score(Track &track, const std::vector<FaceCrop> &crops, const AudioTrack &audio, double fps,
                 std::vector<SpeakerEvidence> *evidence = nullptr);

    // Without sound (issue 25, stop 32): the same crops read by the mouth alone. Fills track.at(c.frame)->speaking
    // with P(this mouth speaks) (the logistic above, no voice gate, no synchrony) for each crop with at least 5
    // crops within +-0.5 s; returns how many points it scored. A weaker cue than the score with sound (a chewing,
    // smiling or nodding face moves its mouth too): speaker_policy.h kMouthRules reads it more cautiously.
    // evidence (optional): one entry per crop (voice and sync -1). Throws std::invalid_argument as score().
    size_t score_mouth(Track &track, const std::vector<FaceCrop> &crops,
                       std::vector<SpeakerEvidence> *evidence = nullptr);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace salcrop
