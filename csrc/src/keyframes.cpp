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
    r.expect('[');
    if (r.accept(']')) {
        r.end();
        return out;
    }
    do {
        r.expect('{');
        bool has_t = false, has_frame = false, has_x = false, has_y = false;
        double t = 0, frame = 0;
        Keyframe k;
        if (!r.accept('}')) {
            do {
                const std::string name = r.key();
                r.expect(':');
                const double v = r.number();
                if (name == "t") {
                    has_t = true;
                    t = v;
                } else if (name == "frame") {
                    has_frame = true;
                    frame = v;
                } else if (name == x_key) {
                    has_x = true;
                    k.x = v;
                } else if (name == y_key) {
                    has_y = true;
                    k.y = v;
                } else {
                    r.fail("unknown key \"" + name + "\"");
                }
            } while (r.accept(','));
            r.expect('}');
        }
        const std::string which = "keyframe " + std::to_string(out.size());
        if (has_t == has_frame)
            throw std::invalid_argument("keyframes: " + which + " needs exactly one of \"t\" (seconds) and \"frame\"");
        if (!has_x || !has_y)
            throw std::invalid_argument("keyframes: " + which + " needs \"" + x_key + "\" and \"" + y_key +
                                        "\" (the view's centre)");
        if ((has_t && t < 0) || (has_frame && (frame < 0 || frame != std::floor(frame))))
            throw std::invalid_argument("keyframes: " + which + " has a negative time or a fractional frame");
        k.frame = has_t ? int64_t(std::llround(t * fps)) : int64_t(frame);
        out.push_back(k);
    } while (r.accept(','));
    r.expect(']');
    r.end();
    return out;
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
