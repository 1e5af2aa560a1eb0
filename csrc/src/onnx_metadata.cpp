#include "onnx_metadata.h"

#include <cstdint>
#include <fstream>
#include <sstream>

namespace salcrop {

namespace {

// The protobuf wire format (protobuf.dev/programming-guides/encoding): each field is a varint key (field number
// << 3 | wire type) and a value: 0 varint, 1 eight bytes, 2 a varint length and that many bytes, 5 four bytes.
enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// ModelProto's graph and metadata_props, and StringStringEntryProto's key and value (onnx/onnx.proto).
constexpr uint64_t kModelGraph = 7, kModelMetadataProps = 14, kEntryKey = 1, kEntryValue = 2;

// A bounded reader over a stream or a string: every read checks what is left, so a truncated or random file
// ends the parse (nullopt), never a read past its end.
class WireReader {
public:
    WireReader(std::istream &in, uint64_t size) : in_(in), left_(size) {}
    uint64_t left() const { return left_; }

    bool varint(uint64_t *v)
    {
        *v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            char c;
            if (left_ == 0 || !in_.get(c))
                return false;
            left_--;
            *v |= uint64_t(uint8_t(c) & 0x7f) << shift;
            if (!(uint8_t(c) & 0x80))
                return true;
        }
        return false;
    }
    bool skip(uint64_t n)
    {
        if (n > left_ || !in_.seekg(std::streamoff(n), std::ios::cur))
            return false;
        left_ -= n;
        return true;
    }
    bool bytes(uint64_t n, std::string *out)
    {
        if (n > left_)
            return false;
        out->resize(size_t(n));
        if (n && !in_.read(out->data(), std::streamsize(n)))
            return false;
        left_ -= n;
        return true;
    }
    // Skips one value of the wire type; a group (3, 4) or an unknown type fails: ONNX uses neither.
    bool skip_value(uint64_t type)
    {
        uint64_t v;
        switch (type) {
        case kVarint: return varint(&v);
        case kFixed64: return skip(8);
        case kLengthDelimited: return varint(&v) && skip(v);
        case kFixed32: return skip(4);
        default: return false;
        }
    }

private:
    std::istream &in_;
    uint64_t left_;
};

bool read_entry(const std::string &bytes, std::map<std::string, std::string> *meta)
{
    std::istringstream in(bytes);
    WireReader r(in, bytes.size());
    std::string key, value;
    while (r.left()) {
        uint64_t tag, len;
        if (!r.varint(&tag))
            return false;
        const uint64_t field = tag >> 3, type = tag & 7;
        if ((field == kEntryKey || field == kEntryValue) && type == kLengthDelimited) {
            if (!r.varint(&len) || !r.bytes(len, field == kEntryKey ? &key : &value))
                return false;
        } else if (!r.skip_value(type)) {
            return false;
        }
    }
    (*meta)[key] = value;  // a repeated key keeps the last, as ONNX Runtime's map does
    return true;
}

}  // namespace

std::optional<std::map<std::string, std::string>> read_onnx_metadata(const std::string &path)
{
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in)
        return std::nullopt;
    const std::streamoff size = in.tellg();
    if (size <= 0 || !in.seekg(0))
        return std::nullopt;
    WireReader r(in, uint64_t(size));
    std::map<std::string, std::string> meta;
    bool graph = false;
    while (r.left()) {
        uint64_t tag, len;
        if (!r.varint(&tag) || tag >> 3 == 0)
            return std::nullopt;
        const uint64_t field = tag >> 3, type = tag & 7;
        if (field == kModelMetadataProps && type == kLengthDelimited) {
            std::string entry;
            if (!r.varint(&len) || !r.bytes(len, &entry) || !read_entry(entry, &meta))
                return std::nullopt;
        } else if (field == kModelGraph && type == kLengthDelimited) {
            graph = true;
            if (!r.skip_value(type))
                return std::nullopt;
        } else if (!r.skip_value(type)) {
            return std::nullopt;
        }
    }
    if (!graph)
        return std::nullopt;
    return meta;
}

}  // namespace salcrop
