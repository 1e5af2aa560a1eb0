#include "subjects.h"

#include <cmath>
#include <stdexcept>

#include "keyframes.h"
#include "path_json.h"

namespace salcrop {

std::vector<SubjectPick> parse_subjects(const std::string &json, double fps, int width, int height)
{
    JsonReader r(json, "subjects",
                 "a JSON array of {\"t\": s or \"frame\": n, \"box\": [x, y, w, h] or \"face\": track id}");
    std::vector<SubjectPick> out;
    bool has_box = false;
    SubjectPick s;
    parse_timed_array(
        r, "subject", fps,
        [&](const std::string &name, const std::string &which) {
            if (name == "face") {
                const double id = r.number();
                if (!(id >= 0 && id == std::floor(id) && id < 1e9))
                    throw std::invalid_argument("subjects: " + which + ": \"face\" needs a face track id (a whole "
                                                "number >= 0, as the path JSON's tracks name them)");
                s.face = int(id);
                return true;
            }
            if (name != "box")
                return false;
            r.expect('[');
            double v[4];
            for (int k = 0; k < 4; k++) {
                if (k)
                    r.expect(',');
                v[k] = r.number();
            }
            if (!r.accept(']'))
                throw std::invalid_argument("subjects: " + which + ": \"box\" needs exactly four numbers [x, y, w, h]");
            s.box = Box{v[0], v[1], v[2], v[3]};
            has_box = true;
            return true;
        },
        [&](int64_t frame, const std::string &which) {
            if (s.face >= 0) {
                if (has_box)
                    throw std::invalid_argument("subjects: " + which + " has both \"box\" and \"face\": one of them");
                s.frame = frame;
                out.push_back(s);
                s = SubjectPick{};
                return;
            }
            if (!has_box)
                throw std::invalid_argument("subjects: " + which + " needs \"box\": [x, y, w, h] in source pixels");
            const Box &b = s.box;
            if (!(b.w >= 4 && b.h >= 4) || b.x < 0 || b.y < 0 || b.x + b.w > width || b.y + b.h > height)
                throw std::invalid_argument("subjects: " + which + "'s box [" + json_box(b) + "] is not a box of at "
                                            "least 4x4 pixels inside the " + std::to_string(width) + "x" +
                                            std::to_string(height) + " frame");
            s.frame = frame;
            out.push_back(s);
            has_box = false;
            s = SubjectPick{};
        });
    return out;
}

}  // namespace salcrop
