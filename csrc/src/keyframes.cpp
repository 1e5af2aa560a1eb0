#include "keyframes.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>
#include <stdexcept>


namespace salcrop {

std::vector<Keyframe> parse_keyframes(const std::string &json, double fps, const char *x_key, const char *y_key)
{
    JsonReader r(json, "keyframes", "a JSON array of {\"t\": s or \"frame\": n, \"x\": px, \"y\": px}");
    std::vector<Keyframe> out;
    bool has_x = false, has_y = false;
    Keyframe k;
    parse_timed_array(
        r, "keyframe", fps,
        [&](const std::string &name, const std::string &) {
            if (name == x_key) {
                has_x = true;
                k.x = r.number();
            } else if (name == y_key) {
                has_y = true;
                k.y = r.number();
            } else {
                return false;
            }
            return true;
        },
        [&](int64_t frame, const std::string &which) {
            if (!has_x || !has_y)
                throw std::invalid_argument("keyframes: " + which + " needs \"" + x_key + "\" and \"" + y_key +
                                            "\" (the view's centre)");
            k.frame = frame;
            out.push_back(k);
            has_x = has_y = false;
            k = Keyframe{};
        });
    return out;
}

void parse_timed_array(JsonReader &r, const std::string &noun, double fps,
                       const std::function<bool(const std::string &name, const std::string &which)> &field,
                       const std::function<void(int64_t frame, const std::string &which)> &entry)
{
    const std::string file = noun + "s";
    r.expect('[');
    if (r.accept(']')) {
        r.end();
        return;
    }
    size_t count = 0;
    do {
        const std::string which = noun + " " + std::to_string(count++);
        r.expect('{');
        bool has_t = false, has_frame = false;
        double t = 0, frame = 0;
        if (!r.accept('}')) {
            do {
                const std::string name = r.key();
                r.expect(':');
                if (name == "t") {
                    has_t = true;
                    t = r.number();
                } else if (name == "frame") {
                    has_frame = true;
                    frame = r.number();
                } else if (!field(name, which)) {
                    r.fail("unknown key \"" + name + "\" in " + which);
                }
            } while (r.accept(','));
            r.expect('}');
        }
        if (has_t == has_frame)
            throw std::invalid_argument(file + ": " + which + " needs exactly one of \"t\" (seconds) and \"frame\"");
        if ((has_t && t < 0) || (has_frame && (frame < 0 || frame != std::floor(frame))))
            throw std::invalid_argument(file + ": " + which + " has a negative time or a fractional frame");
        entry(has_t ? int64_t(std::llround(t * fps)) : int64_t(frame), which);
    } while (r.accept(','));
    r.expect(']');
    r.end();
}

JsonReader::JsonReader(const std::string &text, std::string what, std::string want)
    : s_(text), what_(std::move(what)), want_(std::move(want))
{
}

void JsonReader::expect(char c)
{
    skip();
    if (pos_ >= s_.size() || s_[pos_] != c)
        fail(std::string("expected '") + c + "'");
    pos_++;
}

bool JsonReader::accept(char c)
{
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
        pos_++;
        return true;
    }
    return false;
}

std::string JsonReader::key()
{
    expect('"');
    const size_t end = s_.find('"', pos_);
    if (end == std::string::npos)
        fail("unterminated string");
    std::string k = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return k;
}

double JsonReader::number()
{
    skip();
    const char *begin = s_.c_str() + pos_;
    char *end = nullptr;
    const double v = std::strtod(begin, &end);
    if (end == begin || !std::isfinite(v))
        fail("expected a number");
    pos_ += size_t(end - begin);
    return v;
}

void JsonReader::end()
{
    skip();
    if (pos_ != s_.size())
        fail("unexpected text after the array");
}

void JsonReader::fail(const std::string &what) const
{
    throw std::invalid_argument(what_ + ": " + what + " at character " + std::to_string(pos_) + " (want " + want_ +
                                ")");
}

void JsonReader::skip()
{
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
        pos_++;
}

std::string read_text_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::invalid_argument("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace salcrop
