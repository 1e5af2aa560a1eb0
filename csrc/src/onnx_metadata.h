// An ONNX file's metadata (ModelProto.metadata_props) read without ONNX Runtime: a few kilobytes of the file, the
// graph skipped. It tells the model's sizes before a session exists, so the session can be built on a thread
// while the first frames are analysed (model.h).
#pragma once

#include <map>
#include <optional>
#include <string>

namespace salcrop {

// The key/value pairs of metadata_props, or nullopt when the file cannot be read or is not a well-formed
// ModelProto with a graph (ONNX Runtime, loading it, then says what is wrong).
std::optional<std::map<std::string, std::string>> read_onnx_metadata(const std::string &path);

}  // namespace salcrop
