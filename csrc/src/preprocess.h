// Any SalcropImage -> the model's input (RGB float planes in [0,1] at the model's size) or a tiny HSV
// thumbnail for the shot detector. Each component is resampled directly at the target size (area average
// when shrinking, bilinear when enlarging); YUV is converted after resampling, which is exact because the
// conversion is affine, and costs a fraction of converting every source pixel.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "image.h"

namespace salcrop {

// Separable resampling weights for one axis.
struct AxisWeights {
    std::vector<int> first, count;  // per output sample: first source index, number of taps
    std::vector<float> w;           // taps, concatenated; offsets in start
    std::vector<int> start;
    // The same taps padded with zeros to `taps` per output (the most any output has):
    // output i reads pad_first[i] + k with weight pad_w[i * taps + k].
    int taps = 0;
    std::vector<int> pad_first;
    std::vector<float> pad_w;
    static AxisWeights make(int in, int out);
};

// Resamples 8-bit strided planes (or float planes) to a fixed output size; weights are cached per input size.
class Resampler {
public:
    Resampler(int out_w, int out_h) : out_w_(out_w), out_h_(out_h) {}
    int out_width() const { return out_w_; }
    int out_height() const { return out_h_; }
    // Writes out_w*out_h floats (same scale as the input samples).
    void resample(const Component &c, float *out);
    void resample(const float *in, int in_w, int in_h, float *out);
    // The portable loops only (no AVX2): the reference the vectorised box sums are tested against.
    void set_portable(bool portable) { portable_ = portable; }

private:
    const std::pair<AxisWeights, AxisWeights> &weights(int in_w, int in_h);
    int out_w_, out_h_;
    std::map<std::pair<int, int>, std::pair<AxisWeights, AxisWeights>> cache_;
    std::vector<float> row_;
    std::vector<uint16_t> box_;
    bool portable_ = false;
};

// Resamples the picture and writes 3 RGB planes of out_w*out_h floats, scaled by `scale` (1/255 for the model).
void image_to_rgb_planes(const SalcropImage &img, Resampler &rs, float scale, float *dst);
// The same into three planes anywhere (R, G, B; each out_w*out_h floats), e.g. straight into a network's input.
void image_to_rgb_planes(const SalcropImage &img, Resampler &rs, float scale, float *const planes[3]);

// HSV thumbnail, OpenCV's scales (H 0..180, S and V 0..255), 3 planes of w*h floats.
struct Thumbnail {
    int width = 0, height = 0;
    std::vector<float> hsv;
    double brightness = 0;  // mean of R, G and B, 0..255 (fades to black)
};

// The thumbnail size for a source size: about 160 samples wide, aspect kept.
std::pair<int, int> thumbnail_size(int width, int height);

// rgb: 3 planes (0..255) of w*h floats. Into *out, reusing its buffer (every frame: no allocation). portable: the
// loop with one branch per case only, the reference the AVX2 version must equal bit for bit.
void rgb_planes_to_hsv(const float *rgb, int w, int h, Thumbnail *out, bool portable = false);

// The shot detector's view of every frame: an HSV thumbnail resampled straight from the source. That read of
// the frame is the one pass over the source that every frame costs. With keep_sums it also keeps box sums at twice
// the thumbnail's size (where every component shrinks to it by whole pixels: 720p, 1080p, 2160p ...), sums the
// thumbnail from them (the same bits) and can make the network's input from them (model_input) instead of a
// second pass over the full frame (~0.9 ms at 720p). Not used by the engine: at this grain the input is softer
// at sharp edges and the crop paths lost up to 1.9 points of fixations kept on hevc-gaze clips (BENCHMARKS.md,
// issue 27 stop 32); it stays for measuring finer grains (_core.model_input_yuv420p).
class Thumbnailer {
public:
    // portable: the reference loops only, one box per thumbnail sample (tests compare the others against them).
    Thumbnailer(int src_w, int src_h, bool portable = false, bool keep_sums = false);
    // The thumbnail of img, valid until the next call (one buffer, reused).
    const Thumbnail &make(const SalcropImage &img);
    // The model's input (image_to_rgb_planes' layout, rs's size) of the picture last passed to make(), from its
    // finer sums: the area average of those sums, then the colour conversion. False, with nothing written, where
    // make() kept none (keep_sums off, packed formats, sizes that are not whole multiples) or rs's size is
    // larger than the sums: the caller resamples the picture itself.
    bool model_input(const SalcropImage &img, Resampler &rs, float scale, float *dst);

private:
    Resampler rs_;
    bool portable_, keep_sums_;
    std::vector<float> rgb_;
    Thumbnail thumb_;
    std::vector<uint16_t> box_;
    std::vector<float> rows_;
    Components comps_;
    std::vector<float> fine_[3];  // integer box sums per component, (2 x thumbnail width) x (2 x height)
    float fine_norm_[3] = {1.0f, 1.0f, 1.0f};  // 1 / the pixels in one finer sum
    const uint8_t *fine_of_ = nullptr;         // the picture the sums are of (its first plane), null if none
};

}  // namespace salcrop
