// The saliency network behind ONNX Runtime: loads a model, checks it against the model contract
// (DESIGN.md, model version 1) and runs it on batches of preprocessed frames.
#pragma once

#include <cstdint>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ort_runtime.h"

namespace salcrop {

// The model the core loads when none is given (DESIGN.md order): SALCROP_MODEL if set, else the bundled
// salcrop-int8.onnx for the CPU (salcrop.onnx if there is no 8-bit file) or, for CUDA (gpu=true),
// salcrop-large.onnx (salcrop.onnx if the large model is not installed).
std::string default_model_path(bool gpu = false);
// model= as given: a bare name ("teacher", "large") is the installed salcrop-<name>.onnx, anything else a path.
std::string named_model_path(const std::string &model);
// The installed copy of the bundled file `name` (beside the core, in share/salcrop, or in the build's models/), or
// "": how the other bundled models (the voice-activity model, speakers.cpp) are found too.
std::string installed_model(const std::string &name);

class SaliencyModel {
public:
    // device: "auto" | "cpu" | "cuda"; threads 0 = one non-spinning thread. Throws std::runtime_error
    // naming the file, the metadata key or the tensor that does not match the contract.
    // background: where the CPU is the only provider this run can have and the file's metadata can be read
    // without ONNX Runtime (onnx_metadata.h), the sizes, the metadata and the provider are known at once and the
    // session is built on a thread: ~60-70 ms of a 720p clip's start-up that the engine's first pushes hide
    // (BENCHMARKS.md, issue 27 stop 37). The first run() waits for it, and throws what building it threw (ONNX
    // Runtime refusing the file, a tensor against the contract), every time after. Otherwise, and for the CUDA
    // provider (whose failure falls back to the CPU, changing the provider), the session is built here.
    SaliencyModel(const std::string &path, const std::string &device, int threads, const std::string &ort_library,
                  bool background = false);

    int input_height() const { return in_h_; }
    int input_width() const { return in_w_; }
    int map_height() const { return map_h_; }
    int map_width() const { return map_w_; }
    int state_channels() const { return state_c_; }
    const std::string &provider() const { return provider_; }
    // Why that provider, one line for the log (device=auto: what made it CPU, e.g. "no GPU found (...)").
    const std::string &provider_reason() const { return provider_reason_; }
    const std::string &path() const { return path_; }
    const std::map<std::string, std::string> &metadata() const { return meta_; }
    size_t frame_floats() const { return size_t(3) * in_h_ * in_w_; }
    size_t state_floats() const { return size_t(state_c_) * map_h_ * map_w_; }
    size_t map_floats() const { return size_t(map_h_) * map_w_; }

    // n frames: frame/prev n*frame_floats(), state n*state_floats(); writes n*map_floats() and n*state_floats().
    void run(const float *frame, const float *prev, const float *state, int n, float *saliency, float *state_out);

    // Batching over time. The network's appearance and motion streams do not depend on the recurrent state, so
    // the part of the graph before the ConvGRU (the "encoder") runs on n consecutive samples in one call and only
    // the small recurrent "head" runs sample by sample. Both come from the model file by graph surgery
    // (python -m salcrop_filter.export --split: <stem>.encoder.onnx and <stem>.head.onnx beside the model).
    // batch_limit() is how many samples run_sequence takes at once: env SALCROP_BATCH (1..64) if set, else 16 on
    // CUDA with the split files, else 1; batching_note() says why for the log.
    int batch_limit() const { return batch_limit_; }
    const std::string &batching_note() const { return batching_note_; }
    // n consecutive samples of one clip (n <= batch_limit()): frames n*frame_floats() in [0,1]; prev_first the
    // frame before frames[0] (ignored when first[0]); first[k]: sample k starts a shot (zero state, previous
    // frame = itself). The temporal state is kept inside, on the device with IO binding, across calls; the
    // first call must start a shot. Writes n*map_floats() into maps.
    void run_sequence(const float *frames, const float *prev_first, const uint8_t *first, int n, float *maps);

private:
    void open_session(Ort::SessionOptions &opts);
    void read_metadata(const std::map<std::string, std::string> &meta);  // the contract's keys, the sizes
    // The session's metadata (read_from_file: equal to the file's, already read) and tensors against the contract.
    void check_session(bool read_from_file);
    void load_split();
    void ready();  // waits for a session built on a thread; rethrows its error

    std::string path_, provider_, provider_reason_, batching_note_;
    int batch_limit_ = 1;
    int in_h_ = 0, in_w_ = 0, map_h_ = 0, map_w_ = 0, state_c_ = 0;
    std::map<std::string, std::string> meta_;
    std::unique_ptr<Ort::Session> session_;
    // The split pair and what run_sequence keeps between calls (declared after the sessions they belong to).
    std::unique_ptr<Ort::Session> encoder_, head_;
    std::vector<std::string> feature_names_;          // encoder outputs = head inputs besides "state"
    std::vector<std::vector<int64_t>> feature_shapes_; // per sample (dim 0 = 1)
    std::unique_ptr<Ort::MemoryInfo> device_mem_;     // where features and state stay between calls
    std::unique_ptr<Ort::Allocator> device_alloc_;
    std::vector<Ort::Value> state_;                   // two device tensors, swapped each step
    int state_cur_ = 0;
    std::vector<float> prev_, zero_state_, seq_prev_;
    // A session built on a thread (background): last, so that it is joined before the members it writes go.
    std::mutex ready_mu_;
    std::exception_ptr build_error_;
    std::future<void> building_;
};

}  // namespace salcrop
