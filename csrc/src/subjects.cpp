#include "subjects.h"

#include <cmath>
#include <stdexcept>

#include "keyframes.h"
#include "path_json.h"

namespace salcrop {

std::vector<SubjectPick> parse_subjects(const std::string &json, double fps, int width, int height)
{
    JsonReader r(json, "subjects", "a JSON array of {\"t\": s or \"frame\": n, \"box\": [x, y, w, h]}");
    std::vector<SubjectPick> out;
    r.expect('[');
    if (r.accept(']')) {
        r.end();
        return out;
    }
    do {
        r.expect('{');
        bool has_t = false, has_frame = false, has_box = false;
        double t = 0, frame = 0;
        SubjectPick s;
        const std::string which = "subject " + std::to_string(out.size());
        if (!r.accept('}')) {
            do {
                const std::string name = r.key();
                r.expect(':');
                if (name == "box") {
                    r.expect('[');
                    double v[4];
                    for (int k = 0; k < 4; k++) {
                        if (k)
                            r.expect(',');
                        v[k] = r.number();
                    }
                    if (!r.accept(']'))
                        throw std::invalid_argument("subjects: " + which + ": \"box\" needs exactly four numbers "
                                                    "[x, y, w, h]");
                    s.box = Box{v[0], v[1], v[2], v[3]};
                    has_box = true;
                    continue;
                }
                const double v = r.number();
                if (name == "t") {
                    has_t = true;
                    t = v;
                } else if (name == "frame") {
                    has_frame = true;
                    frame = v;
                } else {
                    r.fail("unknown key \"" + name + "\" in " + which);
                }
            } while (r.accept(','));
            r.expect('}');
        }
        if (has_t == has_frame)
            throw std::invalid_argument("subjects: " + which + " needs exactly one of \"t\" (seconds) and \"frame\"");
        if (!has_box)
            throw std::invalid_argument("subjects: " + which + " needs \"box\": [x, y, w, h] in source pixels");
        if ((has_t && t < 0) || (has_frame && (frame < 0 || frame != std::floor(frame))))
            throw std::invalid_argument("subjects: " + which + " has a negative time or a fractional frame");
        const Box &b = s.box;
        if (!(b.w >= 4 && b.h >= 4) || b.x < 0 || b.y < 0 || b.x + b.w > width || b.y + b.h > height)
            throw std::invalid_argument("subjects: " + which + "'s box [" + json_box(b) + "] is not a box of at least "
                                        "4x4 pixels inside the " + std::to_string(width) + "x" +
                                        std::to_string(height) + " frame");
        s.frame = has_t ? int64_t(std::llround(t * fps)) : int64_t(frame);
        out.push_back(s);
    } while (r.accept(','));
    r.expect(']');
    r.end();
    return out;
}

}  // namespace salcrop
