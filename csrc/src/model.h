// The saliency network behind ONNX Runtime: loads a model, checks it against the model contract
// (DESIGN.md, model version 1) and runs it on batches of preprocessed frames.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "ort_runtime.h"

namespace salcrop {

// The model the core loads when none is given (DESIGN.md order): SALCROP_MODEL if set, else the bundled
// salcrop-int8.onnx for the CPU (salcrop.onnx if there is no 8-bit file) or salcrop.onnx for CUDA (gpu=true).
std::string default_model_path(bool gpu = false);

class SaliencyModel {
public:
    // device: "auto" | "cpu" | "cuda"; threads 0 = one non-spinning thread. Throws std::runtime_error
    // naming the file, the metadata key or the tensor that does not match the contract.
    SaliencyModel(const std::string &path, const std::string &device, int threads, const std::string &ort_library);

    int input_height() const { return in_h_; }
    int input_width() const { return in_w_; }
    int map_height() const { return map_h_; }
    int map_width() const { return map_w_; }
    int state_channels() const { return state_c_; }
    const std::string &provider() const { return provider_; }
    const std::string &path() const { return path_; }
    const std::map<std::string, std::string> &metadata() const { return meta_; }
    size_t frame_floats() const { return size_t(3) * in_h_ * in_w_; }
    size_t state_floats() const { return size_t(state_c_) * map_h_ * map_w_; }
    size_t map_floats() const { return size_t(map_h_) * map_w_; }

    // n frames: frame/prev n*frame_floats(), state n*state_floats(); writes n*map_floats() and n*state_floats().
    void run(const float *frame, const float *prev, const float *state, int n, float *saliency, float *state_out);

private:
    std::string path_, provider_;
    int in_h_ = 0, in_w_ = 0, map_h_ = 0, map_w_ = 0, state_c_ = 0;
    std::map<std::string, std::string> meta_;
    std::unique_ptr<Ort::Session> session_;
};

}  // namespace salcrop
