#include "model.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <vector>

#include "gpu_support.h"
#include "onnx_metadata.h"
#include "options.h"

namespace fs = std::filesystem;

namespace salcrop {

namespace {

#ifdef SALCROP_DEFAULT_MODEL
const char *kBuildModel = SALCROP_DEFAULT_MODEL;
#else
const char *kBuildModel = "";
#endif

int meta_int(const std::map<std::string, std::string> &meta, const std::string &key, const std::string &path)
{
    auto it = meta.find(key);
    if (it == meta.end())
        throw std::runtime_error("model " + path + ": metadata '" + key + "' is missing (not a salcrop model v1)");
    char *end = nullptr;
    long v = std::strtol(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end || v <= 0 || v > 100000)
        throw std::runtime_error("model " + path + ": metadata '" + key + "'='" + it->second +
                                 "' is not a positive integer");
    return int(v);
}

// ONNX Runtime's messages span lines; the log line and the error are one.
std::string one_line(std::string s)
{
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s.size() > 300 ? s.substr(0, 300) + "..." : s;
}

std::string shape_str(const std::vector<int64_t> &s)
{
    std::string r = "[";
    for (size_t i = 0; i < s.size(); i++)
        r += (i ? "," : "") + (s[i] < 0 ? std::string("N") : std::to_string(s[i]));
    return r + "]";
}

void check_tensor(const std::string &path, const char *kind, const std::string &name,
                  const Ort::ConstTensorTypeAndShapeInfo &info, const std::vector<int64_t> &want)
{
    if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
        throw std::runtime_error("model " + path + ": " + kind + " '" + name + "' is not float32");
    std::vector<int64_t> got = info.GetShape();
    bool ok = got.size() == want.size();
    for (size_t i = 1; ok && i < got.size(); i++)  // dim 0 is the dynamic batch
        ok = got[i] == want[i] || got[i] < 0;
    if (!ok)
        throw std::runtime_error("model " + path + ": " + kind + " '" + name + "' has shape " + shape_str(got) +
                                 ", the contract wants " + shape_str(want));
}

}  // namespace

std::string installed_model(const std::string &name)
{
    std::error_code ec;
    const fs::path dir = core_library_dir();
    const fs::path build_dir = *kBuildModel ? fs::path(kBuildModel).parent_path() : fs::path();
    for (const fs::path &p : {dir / ".." / "share" / "salcrop" / name, dir / name}) {
        if (fs::is_regular_file(p, ec))
            return fs::weakly_canonical(p, ec).string();
    }
    if (!build_dir.empty() && fs::is_regular_file(build_dir / name, ec))
        return (build_dir / name).string();
    return "";
}

std::string default_model_path(bool gpu)
{
    if (const char *env = std::getenv("SALCROP_MODEL"); env && *env)
        return env;
    // On the CPU the 8-bit variant: the same held-out quality at about twice the speed (models/README.md). On CUDA
    // the large float model (224x400, four times the work, which a GPU absorbs) when it is installed, else the
    // small float model, whose kernels are the fast ones there. Sizes come from each file's metadata.
    std::vector<std::string> names = {"salcrop.onnx"};
    if (gpu)
        names.insert(names.begin(), "salcrop-large.onnx");
    else
        names.insert(names.begin(), "salcrop-int8.onnx");
    for (const std::string &name : names)
        if (std::string p = installed_model(name); !p.empty())
            return p;
    return *kBuildModel ? kBuildModel : "salcrop.onnx";
}

std::string named_model_path(const std::string &model)
{
    // A bare word (no '/', no ".onnx") names an installed model: "teacher" is salcrop-teacher.onnx, "large"
    // salcrop-large.onnx. Anything else is a path, as before. One place, so the filter, the CLI and Python agree.
    const bool is_name = !model.empty() && model.find('/') == std::string::npos &&
                         !(model.size() >= 5 && model.compare(model.size() - 5, 5, ".onnx") == 0);
    if (!is_name)
        return model;
    std::string p = installed_model("salcrop-" + model + ".onnx");
    if (p.empty())
        throw std::runtime_error("model '" + model + "': no installed salcrop-" + model +
                                 ".onnx (a model name is teacher, large, int8; anything else is an .onnx path)");
    return p;
}

namespace {

// SALCROP_BATCH: 0 when unset; throws on anything but an integer 1..64.
int batch_from_env()
{
    const char *env = std::getenv("SALCROP_BATCH");
    if (!env || !*env)
        return 0;
    char *end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end == env || *end || v < 1 || v > 64)
        throw std::runtime_error(std::string("SALCROP_BATCH='") + env + "' is not an integer from 1 to 64");
    return int(v);
}

// The options of every session on the CPU provider.
Ort::SessionOptions cpu_session_options(int intra_threads)
{
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(intra_threads);
    so.SetInterOpNumThreads(1);
    so.AddConfigEntry("session.intra_op.allow_spinning", "0");
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    return so;
}

}  // namespace

SaliencyModel::SaliencyModel(const std::string &path_in, const std::string &device, int threads,
                             const std::string &ort_library, bool background)
{
    validate_device(device);
    ort_init(ort_library);
    // Whether CUDA can run here, and if not, what is missing: device=cuda stops with it, device=auto logs it.
    CudaCheck cuda;
    if (device != "cpu")
        cuda = check_cuda(Ort::GetAvailableProviders(), ort_library_path());
    if (device == "cuda" && !cuda.usable)
        throw std::runtime_error("device=cuda: " + cuda.reason + "; use device=cpu or device=auto");
    const bool try_cuda = cuda.usable;
    // The default model depends on where it runs; a CUDA session that fails (device=auto) reloads the CPU one.
    auto pick_path = [&](bool gpu) {
        path_ = path_in.empty() ? default_model_path(gpu) : named_model_path(path_in);
        std::error_code ec;
        if (!fs::is_regular_file(path_, ec))
            throw std::runtime_error("model file " + path_ + " does not exist" +
                                     (path_in.empty() ? " (the default model; set model= or SALCROP_MODEL)" : ""));
    };
    pick_path(try_cuda);

    // threads=0 means one inference thread that does not spin: in a video pipeline the decoder and the encoder
    // share the CPU with the model, and ONNX Runtime's default (a spinning thread per core) made the whole
    // ffmpeg run ~1.5x slower on 2 cores (BENCHMARKS.md, stride sweep at T=0 vs T=1).
    const int intra_threads = threads > 0 ? threads : 1;
    auto cpu_reason = [&] { return device == "cpu" ? std::string("device=cpu") : "device=auto: " + cuda.reason; };

    // Built on a thread: the CPU for certain, one session (no split pair to load), and metadata read from the file.
    // The contract's metadata is checked here, with the messages a session's would give.
    if (background && !try_cuda && batch_from_env() <= 1) {
        if (std::optional<std::map<std::string, std::string>> meta = read_onnx_metadata(path_)) {
            read_metadata(*meta);
            provider_ = "CPUExecutionProvider";
            provider_reason_ = cpu_reason();
            load_split();  // only its note: on the CPU without SALCROP_BATCH > 1 it loads nothing
            building_ = std::async(std::launch::async, [this, so = cpu_session_options(intra_threads)]() mutable {
                open_session(so);
                check_session(true);
            });
            return;
        }
    }

    if (try_cuda) {
        try {
            Ort::SessionOptions cuda_so;
            cuda_so.SetIntraOpNumThreads(intra_threads);
            cuda_so.AddConfigEntry("session.intra_op.allow_spinning", "0");
            cuda_so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
            OrtCUDAProviderOptionsV2 *cuda_opts = nullptr;
            Ort::ThrowOnError(Ort::GetApi().CreateCUDAProviderOptions(&cuda_opts));
            std::unique_ptr<OrtCUDAProviderOptionsV2, void (*)(OrtCUDAProviderOptionsV2 *)> guard(
                cuda_opts, [](OrtCUDAProviderOptionsV2 *p) { Ort::GetApi().ReleaseCUDAProviderOptions(p); });
            cuda_so.AppendExecutionProvider_CUDA_V2(*cuda_opts);
            session_ = std::make_unique<Ort::Session>(ort_env(), path_.c_str(), cuda_so);
            provider_ = "CUDAExecutionProvider";
            provider_reason_ = "device=" + device + ": " + cuda.reason;
        } catch (const Ort::Exception &e) {
            if (device == "cuda")
                throw std::runtime_error(std::string("device=cuda: the CUDA provider failed to start: ") + one_line(e.what()));
            provider_reason_ = std::string("device=auto: the CUDA provider failed to start: ") + one_line(e.what());
        }
    }
    if (!session_) {
        if (try_cuda)
            pick_path(false);
        Ort::SessionOptions so = cpu_session_options(intra_threads);
        open_session(so);
        provider_ = "CPUExecutionProvider";
        if (!try_cuda)
            provider_reason_ = cpu_reason();
    }
    check_session(false);
    load_split();
}

void SaliencyModel::open_session(Ort::SessionOptions &opts)
{
    try {
        session_ = std::make_unique<Ort::Session>(ort_env(), path_.c_str(), opts);
    } catch (const Ort::Exception &e) {
        throw std::runtime_error("model file " + path_ + " cannot be loaded by ONNX Runtime: " + e.what());
    }
}

void SaliencyModel::read_metadata(const std::map<std::string, std::string> &meta)
{
    meta_ = meta;
    auto expect = [&](const char *key, const char *value) {
        auto it = meta_.find(key);
        if (it == meta_.end())
            throw std::runtime_error("model " + path_ + ": metadata '" + key + "' is missing (not a salcrop model v1)");
        if (it->second != value)
            throw std::runtime_error("model " + path_ + ": metadata '" + key + "'='" + it->second + "', expected '" +
                                     value + "'");
    };
    expect("salcrop_model_version", "1");
    expect("layout", "NCHW");
    expect("normalization", "rgb/255");
    for (const char *k : {"training_data_sha256", "trained"})
        if (!meta_.count(k))
            throw std::runtime_error("model " + path_ + ": metadata '" + k + "' is missing (not a salcrop model v1)");
    in_h_ = meta_int(meta_, "input_height", path_);
    in_w_ = meta_int(meta_, "input_width", path_);
    map_h_ = meta_int(meta_, "map_height", path_);
    map_w_ = meta_int(meta_, "map_width", path_);
    state_c_ = meta_int(meta_, "state_channels", path_);
    if (map_h_ * 8 != in_h_ || map_w_ * 8 != in_w_)
        throw std::runtime_error("model " + path_ + ": map size " + std::to_string(map_h_) + "x" +
                                 std::to_string(map_w_) + " is not input size / 8");
}

void SaliencyModel::check_session(bool read_from_file)
{
    // Metadata: read here from the session, or compared with what was read from the file (background).
    Ort::AllocatorWithDefaultOptions alloc;
    Ort::ModelMetadata md = session_->GetModelMetadata();
    std::map<std::string, std::string> meta;
    for (auto &key : md.GetCustomMetadataMapKeysAllocated(alloc)) {
        std::string k = key.get();
        meta[k] = md.LookupCustomMetadataMapAllocated(k.c_str(), alloc).get();
    }
    if (read_from_file) {
        if (meta != meta_)
            throw std::runtime_error("model " + path_ + ": ONNX Runtime reads other metadata than the file holds");
    } else {
        read_metadata(meta);
    }

    // Tensors: names, order-independent, and shapes.
    const std::vector<int64_t> fshape{-1, 3, in_h_, in_w_}, sshape{-1, state_c_, map_h_, map_w_},
        mshape{-1, 1, map_h_, map_w_};
    std::map<std::string, std::vector<int64_t>> want_in{{"frame", fshape}, {"prev_frame", fshape}, {"state", sshape}};
    std::map<std::string, std::vector<int64_t>> want_out{{"saliency", mshape}, {"state_out", sshape}};
    auto check_names = [&](bool inputs) {
        auto &want = inputs ? want_in : want_out;
        size_t n = inputs ? session_->GetInputCount() : session_->GetOutputCount();
        std::vector<std::string> got;
        for (size_t i = 0; i < n; i++) {
            std::string name = inputs ? session_->GetInputNameAllocated(i, alloc).get()
                                      : session_->GetOutputNameAllocated(i, alloc).get();
            Ort::TypeInfo ti = inputs ? session_->GetInputTypeInfo(i) : session_->GetOutputTypeInfo(i);
            auto it = want.find(name);
            if (it == want.end())
                throw std::runtime_error("model " + path_ + ": unexpected " + (inputs ? "input" : "output") + " '" +
                                         name + "' (the contract has " +
                                         (inputs ? "frame, prev_frame, state" : "saliency, state_out") + ")");
            check_tensor(path_, inputs ? "input" : "output", name, ti.GetTensorTypeAndShapeInfo(), it->second);
            got.push_back(name);
        }
        for (auto &[name, shape] : want)
            if (std::find(got.begin(), got.end(), name) == got.end())
                throw std::runtime_error("model " + path_ + ": " + (inputs ? "input" : "output") + " '" + name +
                                         "' is missing");
    };
    check_names(true);
    check_names(false);
}

void SaliencyModel::ready()
{
    std::lock_guard<std::mutex> lock(ready_mu_);
    if (building_.valid()) {
        try {
            building_.get();
        } catch (...) {
            build_error_ = std::current_exception();
        }
    }
    if (build_error_)
        std::rethrow_exception(build_error_);
}

void SaliencyModel::run(const float *frame, const float *prev, const float *state, int n, float *saliency,
                        float *state_out)
{
    ready();
    Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    const int64_t fs_[4] = {n, 3, in_h_, in_w_}, ss_[4] = {n, state_c_, map_h_, map_w_}, ms_[4] = {n, 1, map_h_, map_w_};
    // The C++ API wants non-const pointers; ONNX Runtime does not write inputs.
    Ort::Value inputs[3] = {
        Ort::Value::CreateTensor<float>(mem, const_cast<float *>(frame), n * frame_floats(), fs_, 4),
        Ort::Value::CreateTensor<float>(mem, const_cast<float *>(prev), n * frame_floats(), fs_, 4),
        Ort::Value::CreateTensor<float>(mem, const_cast<float *>(state), n * state_floats(), ss_, 4),
    };
    Ort::Value outputs[2] = {
        Ort::Value::CreateTensor<float>(mem, saliency, n * map_floats(), ms_, 4),
        Ort::Value::CreateTensor<float>(mem, state_out, n * state_floats(), ss_, 4),
    };
    const char *in_names[3] = {"frame", "prev_frame", "state"};
    const char *out_names[2] = {"saliency", "state_out"};
    session_->Run(Ort::RunOptions{nullptr}, in_names, inputs, 3, out_names, outputs, 2);
}

namespace {

// The split pair's file for a model path: models/salcrop.onnx -> models/salcrop.encoder.onnx.
fs::path split_file(const std::string &model, const char *part)
{
    fs::path p(model);
    return p.parent_path() / (p.stem().string() + "." + part + ".onnx");
}


}  // namespace

void SaliencyModel::load_split()
{
    const int asked = batch_from_env();
    const bool cuda = provider_ == "CUDAExecutionProvider";
    const fs::path enc_path = split_file(path_, "encoder"), head_path = split_file(path_, "head");
    std::error_code ec;
    const bool present = fs::is_regular_file(enc_path, ec) && fs::is_regular_file(head_path, ec);
    if (asked == 1 || (!asked && !cuda)) {
        batching_note_ = asked == 1 ? "batching off (SALCROP_BATCH=1)" : "batching off (the CPU runs one sample at a time)";
        return;
    }
    if (!present) {
        batching_note_ = "batching off: no " + enc_path.filename().string() + " and " + head_path.filename().string() +
                         " beside the model (python -m salcrop_filter.export --split " + path_ + ")";
        return;
    }
    // Same options as the main session (the same provider; on CUDA the same device).
    Ort::SessionOptions opts;
    opts.SetIntraOpNumThreads(1);
    opts.SetInterOpNumThreads(1);
    opts.AddConfigEntry("session.intra_op.allow_spinning", "0");
    opts.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    if (cuda) {
        OrtCUDAProviderOptionsV2 *cuda_opts = nullptr;
        Ort::ThrowOnError(Ort::GetApi().CreateCUDAProviderOptions(&cuda_opts));
        std::unique_ptr<OrtCUDAProviderOptionsV2, void (*)(OrtCUDAProviderOptionsV2 *)> guard(
            cuda_opts, [](OrtCUDAProviderOptionsV2 *p) { Ort::GetApi().ReleaseCUDAProviderOptions(p); });
        opts.AppendExecutionProvider_CUDA_V2(*cuda_opts);
    }
    try {
        encoder_ = std::make_unique<Ort::Session>(ort_env(), enc_path.c_str(), opts);
        head_ = std::make_unique<Ort::Session>(ort_env(), head_path.c_str(), opts);
    } catch (const Ort::Exception &e) {
        throw std::runtime_error("split model " + enc_path.string() + " / " + head_path.string() +
                                 " cannot be loaded by ONNX Runtime: " + one_line(e.what()));
    }
    // A split made from another model (retrained, other input size) is refused, not silently used.
    Ort::AllocatorWithDefaultOptions alloc;
    for (Ort::Session *part : {encoder_.get(), head_.get()}) {
        Ort::ModelMetadata md = part->GetModelMetadata();
        for (const char *key : {"trained", "training_data_sha256", "input_height", "input_width", "precision"}) {
            auto got = md.LookupCustomMetadataMapAllocated((std::string("split_of_") + key).c_str(), alloc);
            const auto want = meta_.find(key);
            const std::string want_s = want == meta_.end() ? "" : want->second;
            if (!got || want_s != got.get())
                throw std::runtime_error("split model beside " + path_ + " was made from another model (metadata "
                                         "split_of_" + key + "='" + (got ? got.get() : "") + "', the model has '" +
                                         want_s + "'): rerun python -m salcrop_filter.export --split " + path_);
        }
    }
    for (size_t i = 0; i < encoder_->GetOutputCount(); i++) {
        feature_names_.push_back(encoder_->GetOutputNameAllocated(i, alloc).get());
        std::vector<int64_t> shape = encoder_->GetOutputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape();
        shape[0] = 1;
        for (int64_t d : shape)
            if (d <= 0)
                throw std::runtime_error("split model " + enc_path.string() + ": output '" + feature_names_.back() +
                                         "' has a dynamic dimension besides the batch");
        feature_shapes_.push_back(shape);
    }
    // As in ONNX Runtime's own IO binding examples: the session's arena allocator of that device.
    device_mem_ = std::make_unique<Ort::MemoryInfo>(cuda ? "Cuda" : "Cpu", OrtArenaAllocator, 0, OrtMemTypeDefault);
    device_alloc_ = std::make_unique<Ort::Allocator>(*head_, *device_mem_);
    const int64_t ss[4] = {1, state_c_, map_h_, map_w_};
    for (int k = 0; k < 2; k++)
        state_.push_back(Ort::Value::CreateTensor<float>(*device_alloc_, ss, 4));
    zero_state_.assign(state_floats(), 0.0f);
    batch_limit_ = asked ? asked : 16;
    batching_note_ = "batching up to " + std::to_string(batch_limit_) + " samples (" + enc_path.filename().string() +
                     " batched, " + head_path.filename().string() + " per sample, IO binding" +
                     (cuda ? ": features and state stay on the GPU)" : ")");
}

void SaliencyModel::run_sequence(const float *frames, const float *prev_first, const uint8_t *first, int n,
                                 float *maps)
{
    ready();
    if (!encoder_ || n < 1 || n > batch_limit_)
        throw std::logic_error("run_sequence: " + std::to_string(n) + " samples, batch limit " +
                               std::to_string(batch_limit_) + (encoder_ ? "" : " (no split model)"));
    const size_t ff = frame_floats();
    // prev_frame of each sample: the previous sample, or itself on a shot's first.
    seq_prev_.resize(size_t(n) * ff);
    for (int k = 0; k < n; k++) {
        const float *p = first[k] ? frames + k * ff : k ? frames + (k - 1) * ff : prev_first;
        std::copy(p, p + ff, seq_prev_.begin() + k * ff);
    }
    Ort::MemoryInfo host = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    const int64_t fs_[4] = {n, 3, in_h_, in_w_};
    Ort::IoBinding enc(*encoder_);
    enc.BindInput("frame", Ort::Value::CreateTensor<float>(host, const_cast<float *>(frames), n * ff, fs_, 4));
    enc.BindInput("prev_frame", Ort::Value::CreateTensor<float>(host, seq_prev_.data(), n * ff, fs_, 4));
    for (const std::string &name : feature_names_)
        enc.BindOutput(name.c_str(), *device_mem_);  // allocated where the provider computes them
    encoder_->Run(Ort::RunOptions{nullptr}, enc);
    std::vector<Ort::Value> features = enc.GetOutputValues();

    const int64_t ss[4] = {1, state_c_, map_h_, map_w_}, ms[4] = {1, 1, map_h_, map_w_};
    Ort::IoBinding head(*head_);
    for (int k = 0; k < n; k++) {
        head.ClearBoundInputs();
        head.ClearBoundOutputs();
        for (size_t i = 0; i < features.size(); i++) {
            // Sample k of the batch, in place: a view of the encoder's output (device memory on CUDA). The
            // features are float32, or float16 in the FP16 model: the view is sized in bytes of their type.
            const std::vector<int64_t> &shape = feature_shapes_[i];
            const ONNXTensorElementDataType type = features[i].GetTensorTypeAndShapeInfo().GetElementType();
            if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT && type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16)
                throw std::runtime_error("split model beside " + path_ + ": feature '" + feature_names_[i] +
                                         "' is neither float32 nor float16");
            size_t bytes = type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ? 4 : 2;
            for (int64_t d : shape)
                bytes *= size_t(d);
            char *base = static_cast<char *>(features[i].GetTensorMutableRawData()) + k * bytes;
            head.BindInput(feature_names_[i].c_str(),
                           Ort::Value::CreateTensor(features[i].GetTensorMemoryInfo(), base, bytes, shape.data(),
                                                    shape.size(), type));
        }
        if (first[k])
            head.BindInput("state", Ort::Value::CreateTensor<float>(host, zero_state_.data(), state_floats(), ss, 4));
        else
            head.BindInput("state", state_[state_cur_]);
        head.BindOutput("state_out", state_[1 - state_cur_]);
        head.BindOutput("saliency",
                        Ort::Value::CreateTensor<float>(host, maps + k * map_floats(), map_floats(), ms, 4));
        head_->Run(Ort::RunOptions{nullptr}, head);
        head.SynchronizeOutputs();
        state_cur_ = 1 - state_cur_;
    }
}

}  // namespace salcrop
