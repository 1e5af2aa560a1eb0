// What the CUDA execution provider needs besides ONNX Runtime, and why it cannot run when it cannot.
// onnxruntime-gpu's CUDA provider links the CUDA runtime, cuBLAS and cuRAND by soname and loads cuDNN on its own;
// from pip they live in the nvidia-* wheels' folders (site-packages/nvidia/*/lib), which the dynamic loader does
// not search. Loading them first, with RTLD_GLOBAL, is what onnxruntime.preload_dlls() does for Python; here the
// core does it for itself, so neither the filter nor the package needs LD_LIBRARY_PATH.
#pragma once

#include <string>
#include <vector>

namespace salcrop {

struct CudaCheck {
    bool usable = false;          // worth creating a CUDA session
    std::string reason;           // why not (or, when usable, what was found), one line for the log
    std::vector<std::string> preloaded;  // libraries loaded from the wheels' folders
};

// Checks, in order: the loaded ONNX Runtime has the CUDA provider (providers: Ort::GetAvailableProviders()),
// an NVIDIA driver answers (libcuda.so.1 loads and the kernel driver is there), the CUDA and cuDNN libraries
// load (after preloading those found in the nvidia-* wheels beside the ONNX Runtime wheel or the core, or in the
// ':'-separated folders SALCROP_CUDA_LIBS names). Idempotent and cheap after the first call.
CudaCheck check_cuda(const std::vector<std::string> &providers, const std::string &ort_library);

}  // namespace salcrop
