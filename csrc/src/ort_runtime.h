// Loading ONNX Runtime at run time. The core never links libonnxruntime: the library is dlopen'ed and the
// versioned C API fetched from it, so any release answering GetApi(ORT_API_VERSION) works and the path can
// be an option (see DESIGN.md for the search order).
#pragma once

#include <string>

#ifndef ORT_API_MANUAL_INIT
#define ORT_API_MANUAL_INIT
#endif
#include <onnxruntime_cxx_api.h>

namespace salcrop {

// Loads libonnxruntime once per process (later calls reuse the first library) and initialises the C++ API.
// explicit_path: SalcropOptions.ort_library ("" = search). Throws std::runtime_error listing what was tried.
void ort_init(const std::string &explicit_path);

// Path of the library actually loaded ("" before ort_init).
const std::string &ort_library_path();

// The one process-wide environment (created on first use, after ort_init).
Ort::Env &ort_env();

// Directory of the shared object holding this code (libsalcrop.so or the Python extension module).
std::string core_library_dir();

}  // namespace salcrop
