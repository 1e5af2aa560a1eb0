#include "ort_runtime.h"

#include <dlfcn.h>

#include <cstdlib>

#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace fs = std::filesystem;

namespace salcrop {

namespace {

std::mutex g_mutex;
std::string g_path;
void *g_handle = nullptr;  // kept for the life of the process: ORT objects may outlive any engine
std::unique_ptr<Ort::Env> g_env;

#ifdef SALCROP_ORT_DEFAULT
const char *kBuildDefault = SALCROP_ORT_DEFAULT;
#else
const char *kBuildDefault = "";
#endif

// The real file of the wheel layout: onnxruntime/capi/libonnxruntime.so.1.<x> (or any libonnxruntime.so*).
std::string find_in_capi(const fs::path &dir)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return "";
    std::string best;
    for (const auto &entry : fs::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind("libonnxruntime.so", 0) == 0 && name.find("providers") == std::string::npos) {
            if (best.empty() || name.size() > fs::path(best).filename().string().size())
                best = entry.path().string();
        }
    }
    return best;
}

}  // namespace

std::string core_library_dir()
{
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&core_library_dir), &info) && info.dli_fname) {
        std::error_code ec;
        fs::path p = fs::canonical(info.dli_fname, ec);
        if (ec)
            p = info.dli_fname;
        return p.parent_path().string();
    }
    return ".";
}

void ort_init(const std::string &explicit_path)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_handle)
        return;

    std::vector<std::string> candidates;
    if (!explicit_path.empty()) {
        candidates.push_back(explicit_path);  // an explicit choice is the only one tried
    } else {
        if (const char *env = std::getenv("SALCROP_ORT_LIBRARY"); env && *env)
            candidates.push_back(env);
        std::string capi = find_in_capi(fs::path(core_library_dir()) / ".." / "onnxruntime" / "capi");
        if (!capi.empty())
            candidates.push_back(fs::weakly_canonical(capi).string());
        if (*kBuildDefault)
            candidates.push_back(kBuildDefault);
        candidates.push_back("libonnxruntime.so.1");
    }

    // ONNX Runtime 1.32's Linux build records usage telemetry (1DS): every Env creation opens, writes and grows
    // a SQLite file in ~/.cache/Microsoft/DeveloperTools/.onnxruntime (2.3 MB after a day of runs here) and
    // reads /proc and /sys for it, ~20-30 ms of every run's start-up (BENCHMARKS.md, issue 27 stop 31). salcrop
    // asks for none of it: off unless the user set ORT_DISABLE_TELEMETRY (which is kept as it is). Set before
    // the library loads, as it may read it at load. glibc's setenv keeps old environments alive, so a thread
    // reading the environment meanwhile (ffmpeg's) reads a valid one.
    setenv("ORT_DISABLE_TELEMETRY", "1", 0);

    std::string tried;
    for (const std::string &c : candidates) {
        void *h = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *e = dlerror();
            tried += "\n  " + c + ": " + (e ? e : "cannot load");
            continue;
        }
        using GetApiBaseFn = const OrtApiBase *(*)();
        auto get_base = reinterpret_cast<GetApiBaseFn>(dlsym(h, "OrtGetApiBase"));
        const OrtApi *api = get_base ? get_base()->GetApi(ORT_API_VERSION) : nullptr;
        if (!api) {
            tried += "\n  " + c + ": does not provide ONNX Runtime C API version " +
                     std::to_string(ORT_API_VERSION) + " (needs onnxruntime >= 1.21)";
            dlclose(h);
            continue;
        }
        Ort::InitApi(api);
        g_handle = h;
        g_path = c;
        return;
    }
    throw std::runtime_error("cannot load ONNX Runtime (set ort_library or SALCROP_ORT_LIBRARY to "
                             "libonnxruntime.so from the onnxruntime wheel); tried:" + tried);
}

const std::string &ort_library_path()
{
    return g_path;
}

Ort::Env &ort_env()
{
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_handle)
        throw std::logic_error("ort_env() before ort_init()");
    if (!g_env)
        g_env = std::make_unique<Ort::Env>(ORT_LOGGING_LEVEL_ERROR, "salcrop");
    return *g_env;
}

}  // namespace salcrop
