#include "gpu_support.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "ort_runtime.h"

namespace fs = std::filesystem;

namespace salcrop {

namespace {

// Loading order of the pip wheels' libraries: each one's dependencies before it (cuBLAS needs cuBLASLt, cuDNN's
// engines need cuDNN's graph library, which needs libcudnn itself; nvJitLink before cuFFT/cuSPARSE builds that
// use it). The same sonames are what the provider asks for, so a later dlopen by soname finds these.
const char *const kLoadOrder[] = {"libcudart.so", "libnvJitLink.so", "libnvrtc.so", "libcublasLt.so", "libcublas.so",
                                  "libcurand.so", "libcufft.so", "libcudnn.so", "libcudnn_graph.so",
                                  "libcudnn_ops.so", "libcudnn_cnn.so", "libcudnn_adv.so",
                                  "libcudnn_engines_precompiled.so", "libcudnn_engines_runtime_compiled.so",
                                  "libcudnn_heuristic.so"};

// The folders that may hold nvidia/*/lib: site-packages of the loaded ONNX Runtime wheel
// (site-packages/onnxruntime/capi/libonnxruntime.so.1.x) and of the core itself (the Python package layout).
std::vector<fs::path> wheel_lib_dirs(const std::string &ort_library)
{
    std::vector<fs::path> dirs;
    std::error_code ec;
    if (const char *env = std::getenv("SALCROP_CUDA_LIBS"); env && *env) {
        // Folders of the libraries themselves, ':'-separated, searched first.
        std::string list = env;
        for (size_t start = 0; start <= list.size();) {
            size_t end = list.find(':', start);
            if (end == std::string::npos)
                end = list.size();
            if (end > start)
                dirs.push_back(list.substr(start, end - start));
            start = end + 1;
        }
    }
    std::vector<fs::path> roots{fs::path(core_library_dir()).parent_path() / "nvidia"};
    if (!ort_library.empty())
        roots.insert(roots.begin(), fs::weakly_canonical(fs::path(ort_library), ec).parent_path().parent_path()
                                            .parent_path() / "nvidia");
    for (const fs::path &root : roots) {
        if (!fs::is_directory(root, ec))
            continue;
        std::vector<fs::path> found;
        for (const auto &entry : fs::directory_iterator(root, ec))
            if (fs::is_directory(entry.path() / "lib", ec))
                found.push_back(entry.path() / "lib");
        std::sort(found.begin(), found.end());
        for (const fs::path &d : found)
            if (std::find(dirs.begin(), dirs.end(), d) == dirs.end())
                dirs.push_back(d);
    }
    return dirs;
}

// Loads, RTLD_GLOBAL and for good, the libraries of kLoadOrder found in dirs (the real file whose name starts
// with the stem and a version, e.g. libcublas.so.13).
std::vector<std::string> preload(const std::vector<fs::path> &dirs)
{
    std::vector<std::string> loaded;
    std::error_code ec;
    for (const char *stem : kLoadOrder) {
        const std::string prefix = std::string(stem) + ".";
        for (const fs::path &dir : dirs) {
            std::string best;
            for (const auto &entry : fs::directory_iterator(dir, ec)) {
                const std::string name = entry.path().filename().string();
                // The shortest versioned name (libcudnn.so.9 over libcudnn.so.9.1.0): the soname.
                if (name.rfind(prefix, 0) == 0 && (best.empty() || name.size() < fs::path(best).filename().string().size()))
                    best = entry.path().string();
            }
            if (!best.empty() && dlopen(best.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
                loaded.push_back(best);
                break;
            }
        }
    }
    return loaded;
}

// "" when the library loads (by soname, through the loader's search and what was preloaded), else dlerror's text.
std::string load_error(const char *soname)
{
    if (dlopen(soname, RTLD_NOW | RTLD_GLOBAL))  // kept: the provider loads it next anyway
        return "";
    const char *e = dlerror();
    return e ? e : std::string(soname) + ": cannot load";
}

std::string driver_problem()
{
    std::error_code ec;
    // The kernel driver: without it libcuda.so.1 (if installed at all) finds no device.
    if (!fs::exists("/proc/driver/nvidia/version", ec) && !fs::exists("/dev/nvidiactl", ec))
        return "no GPU found (no NVIDIA kernel driver: /proc/driver/nvidia/version and /dev/nvidiactl are absent)";
    if (std::string e = load_error("libcuda.so.1"); !e.empty())
        return "no usable GPU: the NVIDIA driver library does not load (" + e + ")";
    return "";
}

std::mutex g_mutex;

}  // namespace

CudaCheck check_cuda(const std::vector<std::string> &providers, const std::string &ort_library)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    CudaCheck c;
    if (std::find(providers.begin(), providers.end(), "CUDAExecutionProvider") == providers.end()) {
        std::string list;
        for (const auto &p : providers)
            list += (list.empty() ? "" : ", ") + p;
        c.reason = "the ONNX Runtime at " + ort_library + " is a CPU-only build (its providers: " + list +
                   "; the GPU needs onnxruntime-gpu: scripts/setup.sh installs it where nvidia-smi answers)";
        return c;
    }
    if (std::string d = driver_problem(); !d.empty()) {
        c.reason = d;
        return c;
    }
    const std::vector<fs::path> dirs = wheel_lib_dirs(ort_library);
    c.preloaded = preload(dirs);
    std::string where = "the nvidia-* wheels";
    if (!dirs.empty())
        where += " (" + dirs.back().parent_path().parent_path().string() + ")";
    // The provider's own dependencies, by the soname ONNX Runtime 1.2x/1.3x builds ask for; a CUDA 12 build and a
    // CUDA 13 one differ in the major number, so either answers.
    bool runtime = false;
    std::string runtime_error;
    for (const char *so : {"libcudart.so.13", "libcudart.so.12"}) {
        std::string e = load_error(so);
        if (e.empty()) {
            runtime = true;
            break;
        }
        runtime_error += (runtime_error.empty() ? "" : "; ") + e;
    }
    if (!runtime) {
        c.reason = "CUDA runtime missing: " + runtime_error + " (not in " + where +
                   " nor the loader's path; pip install onnxruntime-gpu[cuda,cudnn])";
        return c;
    }
    if (std::string e = load_error("libcudnn.so.9"); !e.empty()) {
        c.reason = "cuDNN missing: " + e + " (not in " + where +
                   " nor the loader's path; pip install onnxruntime-gpu[cuda,cudnn])";
        return c;
    }
    c.usable = true;
    c.reason = "GPU found, CUDA runtime and cuDNN load (" + std::to_string(c.preloaded.size()) +
               " libraries preloaded from " + where + ")";
    return c;
}

}  // namespace salcrop
