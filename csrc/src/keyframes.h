// The user's keyframes: a JSON array of {"t": seconds or "frame": n, "x": px, "y": px}, where (x, y) is the
// window's centre in source pixels at that moment. The planner pins the window there (planner.h, Keyframe).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "planner.h"

namespace salcrop {

// Parses the JSON text; `t` becomes a frame at `fps` (the nearest). Throws std::invalid_argument saying what is
// wrong and where (not an array, an unknown key, both or neither of t and frame, no x or y, a negative time).
// x_key / y_key: the names of the centre's coordinates ("yaw" and "pitch" for a 360° view, degrees).
std::vector<Keyframe> parse_keyframes(const std::string &json, double fps, const char *x_key = "x",
                                      const char *y_key = "y");

// Just enough JSON for an array of flat objects of numbers (and arrays of numbers): the keyframes' and the picked
// subjects' files (subjects.h). Errors name `what` ("keyframes") and the format wanted.
class JsonReader {
public:
    JsonReader(const std::string &text, std::string what, std::string want);
    void expect(char c);
    bool accept(char c);
    std::string key();
    double number();
    void end();  // nothing but white space is left
    [[noreturn]] void fail(const std::string &what) const;

private:
    void skip();
    const std::string &s_;
    std::string what_, want_;
    size_t pos_ = 0;
};

// Reads an array of objects that each say when, by "t" (seconds, the nearest frame at `fps`) or "frame", beside keys
// of their own: `field(name, which)` reads the value of any other key and returns false for a key it does not know;
// `entry(frame, which)` checks what the object's fields said and keeps it. `which` names the object in errors
// ("keyframe 3"). The keyframes' and the picked subjects' files share this loop and its rules on time.
void parse_timed_array(JsonReader &r, const std::string &noun, double fps,
                       const std::function<bool(const std::string &name, const std::string &which)> &field,
                       const std::function<void(int64_t frame, const std::string &which)> &entry);

// The file's text; throws std::invalid_argument naming the file when it cannot be read.
std::string read_text_file(const std::string &path);

}  // namespace salcrop
