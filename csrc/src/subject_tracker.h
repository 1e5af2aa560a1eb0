// The subject tracker: a user's box on one frame -> the subject's box on the frames after it and before it
// (tracks.h). Our own kernelized correlation filter (Henriques et al., "High-speed tracking with kernelized
// correlation filters", TPAMI 2015) with a scale search (three scales, as in SAMF/DSST's simplest form):
//   features: a 64x64 grid of cells over the search window (the box padded to 2.5x its size), per cell its grey
//             level and four gradient-orientation channels (a HOG-like description, cells of 2x2 samples),
//             under a Hann window;
//   model:    a Gaussian-kernel ridge regression solved in the Fourier domain (64x64 FFTs), updated at a slow
//             rate only while the subject is seen with confidence;
//   confidence: the response's peak-to-sidelobe ratio (PSR, Bolme et al., MOSSE, CVPR 2010) and its peak. Below
//             thresholds relative to the track's own typical PSR and peak the subject is lost: the box is not moved, the model is not
//             updated (no drift onto the background), and the tracker searches wider each frame (a grid of
//             windows over the frame around the last position) until a window matches well again: re-found.
// Frames are grey copies at a tracking resolution (GreyFrame, a small pyramid), made once per frame.
// No weights: no NanoTrack-class ONNX model ships in a PyPI wheel under a licence we could ship (nanotrack 0.2.1
// on PyPI is an unrelated detector wrapper without weights), so the core's tracker is this classic one.
#pragma once

#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

#include "preprocess.h"
#include "salcrop/salcrop.h"
#include "tracks.h"

namespace salcrop {

// A grey picture and its 2x and 4x reductions (area averages), 8-bit, row-major.
struct GreyFrame {
    struct Level {
        int w = 0, h = 0;
        std::vector<uint8_t> px;
    };
    Level level[3];
    double scale = 1;  // tracking pixels per source pixel (level 0)
    size_t bytes() const;
};

// The tracking size for a source: the long side at most kTrackingSide pixels.
constexpr int kTrackingSide = 640;
// A grey tracking copy of any SalcropImage (luma of YUV, 0.299 R + 0.587 G + 0.114 B of RGB). rs: a resampler
// kept between frames of one size (its weights are cached), or nullptr.
GreyFrame make_grey_frame(const SalcropImage &img, int max_side = kTrackingSide, Resampler *rs = nullptr);
// From a grey plane (e.g. numpy): same, no colour.
GreyFrame make_grey_frame(const uint8_t *grey, int width, int height, int linesize, int max_side = kTrackingSide);

struct TrackerState;

class SubjectTracker {
public:
    // Starts on `frame` with `box` in source pixels; throws std::invalid_argument for a box outside the frame or
    // smaller than 4 pixels.
    SubjectTracker(const GreyFrame &frame, const Box &box);
    ~SubjectTracker();
    SubjectTracker(SubjectTracker &&) noexcept;
    SubjectTracker &operator=(SubjectTracker &&) noexcept;

    // The subject on the next frame (in source pixels). lost: the box is the last seen one.
    TrackPoint update(const GreyFrame &frame);

private:
    std::unique_ptr<TrackerState> s_;
};

// A whole pick: frames[pick] has `box`; returns one point per frame, tracked forward from the pick to the end
// and backward from it to the start (each direction its own tracker, both started at the pick).
std::vector<TrackPoint> track_frames(const std::vector<const GreyFrame *> &frames, size_t pick, const Box &box);

}  // namespace salcrop
