#include "sphere_output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "debug_draw.h"
#include "path_json.h"

namespace salcrop {

namespace {

std::string num(double v)
{
    return json_number(v, 3);  // degrees and seconds: a thousandth is finer than any view moves
}

}  // namespace

std::string make_sphere_path_json(int width, int height, double fps, const Ratio &ratio, const ViewGeometry &view,
                                  const std::string &stereo, const std::vector<Decision> &log)
{
    std::string s;
    s.reserve(256 + log.size() * 64);
    s += "{\"version\":3,\"projection\":\"equirect\",\"source\":{\"width\":" + std::to_string(width) +
         ",\"height\":" + std::to_string(height) + ",\"fps\":" + num(fps) + ",\"stereo\":\"" + stereo +
         "\"},\"ratio\":\"" + std::to_string(ratio.num) + ":" + std::to_string(ratio.den) +
         "\",\"output\":{\"width\":" + std::to_string(view.out_w) + ",\"height\":" + std::to_string(view.out_h) +
         ",\"fov\":" + num(view.hfov) + ",\"vfov\":" + num(view.vfov) + ",\"pitch_limit\":" +
         num(view.pitch_limit) + "},\"frames\":[";
    for (size_t i = 0; i < log.size(); i++) {
        const Decision &d = log[i];
        s += (i ? ",{" : "{");
        s += "\"t\":" + num(d.t) + ",\"yaw\":" + num(d.yaw) + ",\"pitch\":" + num(d.pitch) + ",\"fov\":" +
             num(d.fov) + ",\"shot\":" + std::to_string(d.shot) + "}";
    }
    s += "],\"shots\":[";
    size_t i = 0;
    while (i < log.size()) {
        size_t j = i;
        ShotMode mode = log[i].mode;
        while (j < log.size() && log[j].shot == log[i].shot) {
            if (log[j].mode != mode)
                mode = ShotMode::Track;
            j++;
        }
        s += (i ? ",{" : "{");
        s += "\"start\":" + std::to_string(log[i].frame) + ",\"end\":" + std::to_string(log[j - 1].frame + 1) +
             ",\"mode\":\"" + mode_name(mode) + "\",\"segments\":[";
        s += segments_json(log, i, j);
        s += "]}";
        i = j;
    }
    s += "]}";
    return s;
}

void draw_sphere_debug(SalcropPixelFormat format, int eye_w, int eye_h, uint8_t *const data[4],
                       const int linesize[4], const float *map, int map_h, int map_w, const Decision &d,
                       const ViewGeometry &view)
{
    Decision framed = d;
    framed.win = Window{0, 0, eye_w, eye_h, false};
    draw_debug_view(format, eye_w, eye_h, data, linesize, map, map_h, map_w, framed);

    // The view's outline: its border pixels mapped onto the frame (curved), drawn white on every component.
    ViewRenderer r(eye_w, eye_h, view.out_w, view.out_h, view.hfov);
    std::vector<float> mu, mv;
    r.source_coords(d.yaw, d.pitch, mu, mv);
    const Components comps = split_components(format, eye_w, eye_h, data, linesize);
    YuvMatrix yuv{false, false};
    const float white_rgb[3] = {255, 255, 255};
    float white[3] = {255, 255, 255};
    if (comps.yuv)
        yuv.from_rgb(white_rgb, white);
    const int th = std::max(1, eye_h / 180);
    auto dot = [&](float u, float v) {
        for (int c = 0; c < comps.count; c++) {
            const Component &p = comps.c[c];
            const int x0 = int(std::floor(std::fmod(u + eye_w, float(eye_w)) * p.width / eye_w));
            const int y0 = int(std::floor(v * p.height / eye_h));
            const int t = std::max(1, th * p.width / eye_w);
            for (int y = y0 - t / 2; y <= y0 + t / 2; y++)
                for (int x = x0 - t / 2; x <= x0 + t / 2; x++) {
                    if (y < 0 || y >= p.height)
                        continue;
                    const int xx = (x % p.width + p.width) % p.width;
                    p.data[size_t(y) * p.linesize + size_t(xx) * p.step] = uint8_t(white[c]);
                }
        }
    };
    const int W = view.out_w, H = view.out_h;
    for (int i = 0; i < W; i++) {
        dot(mu[size_t(i)], mv[size_t(i)]);
        dot(mu[size_t(H - 1) * W + i], mv[size_t(H - 1) * W + i]);
    }
    for (int j = 0; j < H; j++) {
        dot(mu[size_t(j) * W], mv[size_t(j) * W]);
        dot(mu[size_t(j) * W + W - 1], mv[size_t(j) * W + W - 1]);
    }
}

}  // namespace salcrop
