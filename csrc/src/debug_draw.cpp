#include "debug_draw.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "preprocess.h"

namespace salcrop {

namespace {

// 5x7 glyphs, one byte per row, bit 4 = leftmost column. Only the characters the view writes.
struct Glyph {
    char c;
    uint8_t rows[7];
};
const Glyph kFont[] = {
    {'A', {14, 17, 17, 31, 17, 17, 17}}, {'C', {14, 17, 16, 16, 16, 17, 14}}, {'D', {30, 17, 17, 17, 17, 17, 30}},
    {'E', {31, 16, 16, 30, 16, 16, 31}}, {'H', {17, 17, 17, 31, 17, 17, 17}}, {'I', {14, 4, 4, 4, 4, 4, 14}},
    {'K', {17, 18, 20, 24, 20, 18, 17}}, {'N', {17, 25, 21, 19, 17, 17, 17}}, {'O', {14, 17, 17, 17, 17, 17, 14}},
    {'P', {30, 17, 17, 30, 16, 16, 16}}, {'R', {30, 17, 17, 30, 20, 18, 17}}, {'S', {15, 16, 16, 14, 1, 1, 30}},
    {'T', {31, 4, 4, 4, 4, 4, 4}},       {'Y', {17, 17, 10, 4, 4, 4, 4}},     {'0', {14, 17, 19, 21, 25, 17, 14}},
    {'1', {4, 12, 4, 4, 4, 4, 14}},      {'2', {14, 17, 1, 2, 4, 8, 31}},     {'3', {30, 1, 1, 14, 1, 1, 30}},
    {'4', {2, 6, 10, 18, 31, 2, 2}},     {'5', {31, 16, 30, 1, 1, 17, 14}},   {'6', {6, 8, 16, 30, 17, 17, 14}},
    {'7', {31, 1, 2, 4, 8, 8, 8}},       {'8', {14, 17, 17, 14, 17, 17, 14}}, {'9', {14, 17, 17, 15, 1, 2, 12}},
    {'F', {31, 16, 16, 30, 16, 16, 16}}, {'U', {17, 17, 17, 17, 17, 17, 14}}, {'%', {24, 25, 2, 4, 8, 19, 3}},
};

const uint8_t *glyph(char c)
{
    for (const Glyph &g : kFont)
        if (g.c == c)
            return g.rows;
    return nullptr;  // space and anything else: blank
}

// Colour of a value in [0,1] on a jet-like scale (blue, cyan, yellow, red), 0..255.
void jet(float v, float rgb[3])
{
    v = std::clamp(v, 0.0f, 1.0f);
    auto ch = [v](float c) { return 255.0f * std::clamp(1.5f - std::fabs(4.0f * v - c), 0.0f, 1.0f); };
    rgb[0] = ch(3.0f);
    rgb[1] = ch(2.0f);
    rgb[2] = ch(1.0f);
}

struct Painter {
    Components comps;
    int width, height;
    YuvMatrix yuv{false, false};

    void colour(const float rgb[3], float out[3]) const
    {
        if (comps.yuv)
            yuv.from_rgb(rgb, out);
        else
            std::copy(rgb, rgb + 3, out);
    }
    // Blends a colour over a rectangle given in source pixels, on every component at its own resolution.
    void fill(int x0, int y0, int x1, int y1, const float rgb[3], float alpha = 1.0f) const
    {
        float c[3];
        colour(rgb, c);
        for (int i = 0; i < comps.count; i++) {
            const Component &p = comps.c[i];
            const int px0 = std::max(0, x0 * p.width / width), px1 = std::min(p.width, (x1 * p.width + width - 1) / width);
            const int py0 = std::max(0, y0 * p.height / height),
                      py1 = std::min(p.height, (y1 * p.height + height - 1) / height);
            for (int y = py0; y < py1; y++)
                for (int x = px0; x < px1; x++) {
                    uint8_t &s = p.data[size_t(y) * p.linesize + size_t(x) * p.step];
                    s = uint8_t(std::clamp(std::lround((1 - alpha) * s + alpha * c[i]), 0L, 255L));
                }
        }
    }
};

}  // namespace

void draw_debug_view(SalcropPixelFormat format, int width, int height, uint8_t *const data[4], const int linesize[4],
                     const float *map, int map_h, int map_w, const Decision &d)
{
    Painter pt{split_components(format, width, height, data, linesize), width, height};
    float mx = 1e-12f;
    for (int k = 0; k < map_h * map_w; k++)
        mx = std::max(mx, map[k]);

    // Heatmap: each component sampled bilinearly from the map, blended in proportion to its value.
    for (int i = 0; i < pt.comps.count; i++) {
        const Component &p = pt.comps.c[i];
        for (int y = 0; y < p.height; y++) {
            const float my = std::clamp((y + 0.5f) * map_h / p.height - 0.5f, 0.0f, float(map_h - 1));
            const int y0 = int(my), y1 = std::min(y0 + 1, map_h - 1);
            const float fy = my - y0;
            for (int x = 0; x < p.width; x++) {
                const float mxp = std::clamp((x + 0.5f) * map_w / p.width - 0.5f, 0.0f, float(map_w - 1));
                const int x0 = int(mxp), x1 = std::min(x0 + 1, map_w - 1);
                const float fx = mxp - x0;
                const float v = ((1 - fy) * ((1 - fx) * map[y0 * map_w + x0] + fx * map[y0 * map_w + x1]) +
                                 fy * ((1 - fx) * map[y1 * map_w + x0] + fx * map[y1 * map_w + x1])) / mx;
                float rgb[3], c[3];
                jet(v, rgb);
                pt.colour(rgb, c);
                const float a = 0.55f * std::clamp(v, 0.0f, 1.0f);
                uint8_t &s = p.data[size_t(y) * p.linesize + size_t(x) * p.step];
                s = uint8_t(std::clamp(std::lround((1 - a) * s + a * c[i]), 0L, 255L));
            }
        }
    }

    // The window.
    const float green[3] = {0, 255, 0}, white[3] = {255, 255, 255}, black[3] = {0, 0, 0};
    const int th = std::max(2, std::min(width, height) / 180) & ~1;
    const Window &w = d.win;
    pt.fill(w.x, w.y, w.x + w.w, w.y + th, green);
    pt.fill(w.x, w.y + w.h - th, w.x + w.w, w.y + w.h, green);
    pt.fill(w.x, w.y, w.x + th, w.y + w.h, green);
    pt.fill(w.x + w.w - th, w.y, w.x + w.w, w.y + w.h, green);

    // The picked subject kept on this frame: its tracked box, in magenta.
    if (!d.subject_box.empty()) {
        const float magenta[3] = {255, 0, 255};
        const int bx0 = int(std::lround(d.subject_box.x)), by0 = int(std::lround(d.subject_box.y));
        const int bx1 = int(std::lround(d.subject_box.x + d.subject_box.w));
        const int by1 = int(std::lround(d.subject_box.y + d.subject_box.h));
        pt.fill(bx0, by0, bx1, by0 + th, magenta);
        pt.fill(bx0, by1 - th, bx1, by1, magenta);
        pt.fill(bx0, by0, bx0 + th, by1, magenta);
        pt.fill(bx1 - th, by0, bx1, by1, magenta);
    }

    const int scale = std::max(1, std::min(width, height) / 240);
    auto write = [&](const std::string &line, int tx, int ty) {
        std::string text = line;
        for (char &c : text)
            c = char(std::toupper(static_cast<unsigned char>(c)));
        pt.fill(tx - scale, ty - scale, tx + int(text.size()) * 6 * scale + scale, ty + 8 * scale, black, 0.6f);
        for (size_t k = 0; k < text.size(); k++) {
            const uint8_t *g = glyph(text[k]);
            if (!g)
                continue;
            for (int r = 0; r < 7; r++)
                for (int col = 0; col < 5; col++)
                    if (g[r] & (16 >> col)) {
                        const int x = tx + int(k) * 6 * scale + col * scale, y = ty + r * scale;
                        pt.fill(x, y, x + scale, y + scale, white);
                    }
        }
    };

    // The faces: their track ids; the one followed (it speaks) in red, the others yellow.
    const float yellow[3] = {255, 220, 0}, red[3] = {255, 40, 40};
    for (const FaceMark &f : d.faces) {
        const bool followed = f.id == d.speaker;
        const float *c = followed ? red : yellow;
        const int t = followed ? 2 * th : th;
        const int x0 = int(f.box.x), y0 = int(f.box.y), x1 = int(f.box.x + f.box.w), y1 = int(f.box.y + f.box.h);
        pt.fill(x0, y0, x1, y0 + t, c);
        pt.fill(x0, y1 - t, x1, y1, c);
        pt.fill(x0, y0, x0 + t, y1, c);
        pt.fill(x1 - t, y0, x1, y1, c);
        std::string label = "F" + std::to_string(f.id);
        if (f.speaking >= 0)
            label += " " + std::to_string(int(std::lround(f.speaking * 100))) + "%";
        if (followed)
            label += " SPEAKS";
        write(label, x0, std::max(0, y0 - 10 * scale));
    }

    // Mode, shot and what the camera does in this segment, top-left inside the window.
    write(std::string(mode_name(d.mode)) + " SHOT " + std::to_string(d.shot) + " " + segment_name(d.segment) +
              (w.padded ? " PADDED" : ""),
          w.x + 3 * th, w.y + 3 * th);
}

void render_padded_view(const SalcropImage &src, const Window &region, int out_w, int out_h, bool black,
                        uint8_t *const dst[4], const int dst_ls[4])
{
    const Components s = split_components(src.format, src.width, src.height, src.data, src.linesize);
    const Components o = split_components(src.format, out_w, out_h, dst, dst_ls);
    // Fit the region inside the output, centred.
    const double scale = std::min(double(out_w) / region.w, double(out_h) / region.h);
    const int fw = std::clamp(int(std::lround(region.w * scale)), 1, out_w);
    const int fh = std::clamp(int(std::lround(region.h * scale)), 1, out_h);
    const int fx = (out_w - fw) / 2, fy = (out_h - fh) / 2;
    for (int i = 0; i < s.count; i++) {
        const Component &sp = s.c[i], &op = o.c[i];
        auto sx = [&](int x) { return int(int64_t(x) * sp.width / src.width); };
        auto sy = [&](int y) { return int(int64_t(y) * sp.height / src.height); };
        auto ox = [&](int x) { return int(int64_t(x) * op.width / out_w); };
        auto oy = [&](int y) { return int(int64_t(y) * op.height / out_h); };
        Component reg = sp;
        reg.data = sp.data + size_t(sy(region.y)) * sp.linesize + size_t(sx(region.x)) * sp.step;
        reg.width = std::max(1, std::min(sp.width - sx(region.x), sx(region.x + region.w) - sx(region.x)));
        reg.height = std::max(1, std::min(sp.height - sy(region.y), sy(region.y + region.h) - sy(region.y)));
        auto put = [&](int x, int y, float v) {
            op.data[size_t(y) * op.linesize + size_t(x) * op.step] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
        };
        // Background.
        if (black) {
            const float v = s.yuv ? (i == 0 ? (src.full_range ? 0.0f : 16.0f) : 128.0f) : 0.0f;
            for (int y = 0; y < op.height; y++)
                for (int x = 0; x < op.width; x++)
                    put(x, y, v);
        } else {
            // Blur: the region shrunk to a few samples and enlarged bilinearly over the whole output.
            const int bw = std::max(1, op.width / 24), bh = std::max(1, op.height / 24);
            std::vector<float> small(size_t(bw) * bh), big(size_t(op.width) * op.height);
            Resampler down(bw, bh), up(op.width, op.height);
            down.resample(reg, small.data());
            up.resample(small.data(), bw, bh, big.data());
            for (int y = 0; y < op.height; y++)
                for (int x = 0; x < op.width; x++)
                    put(x, y, big[size_t(y) * op.width + x] * 0.6f + (s.yuv && i > 0 ? 128.0f * 0.4f : 0.0f));
        }
        // Foreground.
        const int pw = std::max(1, ox(fx + fw) - ox(fx)), ph = std::max(1, oy(fy + fh) - oy(fy));
        std::vector<float> fg(size_t(pw) * ph);
        Resampler rs(pw, ph);
        rs.resample(reg, fg.data());
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++)
                if (ox(fx) + x < op.width && oy(fy) + y < op.height)
                    put(ox(fx) + x, oy(fy) + y, fg[size_t(y) * pw + x]);
    }
}

}  // namespace salcrop
