// The C ABI: every entry point catches everything, stores the message in a thread-local string and returns
// an error code, so no exception ever crosses into C.
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "engine.h"
#include "errors.h"
#include "keyframes.h"
#include "salcrop/salcrop.h"

#ifndef SALCROP_VERSION
#define SALCROP_VERSION "0.0.0"
#endif

using namespace salcrop;

struct SalcropEngine {
    std::unique_ptr<Engine> engine;
    std::string summary;  // salcrop_summary_at()'s last answer (the caller reads it until the next call)
};

namespace {

thread_local std::string g_error;

enum : int {
    kErrGeneric = -1,
    kErrInvalid = -22,  // like EINVAL: a bad argument or option
    kErrNoMem = -12,
};

template <typename F>
int guarded(F &&f)
{
    try {
        g_error.clear();
        return f();
    } catch (const std::bad_alloc &) {
        g_error = "out of memory";
        return kErrNoMem;
    } catch (const std::invalid_argument &e) {
        g_error = e.what();
        return kErrInvalid;
    } catch (const std::exception &e) {
        g_error = e.what();
        return kErrGeneric;
    } catch (...) {
        g_error = "unknown error";
        return kErrGeneric;
    }
}

std::string str(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

void to_c(const Decision &d, SalcropDecision *out)
{
    out->frame = d.frame;
    out->t = d.t;
    out->x = d.win.x;
    out->y = d.win.y;
    out->w = d.win.w;
    out->h = d.win.h;
    out->shot = d.shot;
    out->mode = SalcropShotMode(int(d.mode));
    out->padded = d.win.padded ? 1 : 0;
    out->yaw = d.yaw;
    out->pitch = d.pitch;
    out->fov = d.fov;
    out->speaker = d.speaker;
    out->subject = d.subject;
}

Decision from_c(const SalcropDecision *in)
{
    Decision d;
    d.frame = in->frame;
    d.t = in->t;
    d.win = {in->x, in->y, in->w, in->h, in->padded != 0};
    d.shot = in->shot;
    d.mode = ShotMode(int(in->mode));
    d.yaw = in->yaw;
    d.pitch = in->pitch;
    d.fov = in->fov;
    d.speaker = in->speaker;
    d.subject = in->subject;
    return d;
}

size_t output_index(int output)
{
    if (output < 0)
        throw std::invalid_argument("output " + std::to_string(output) + " does not exist (outputs count from 0)");
    return size_t(output);
}

int need(const void *p, const char *what)
{
    if (!p)
        throw std::invalid_argument(std::string(what) + " is NULL");
    return 0;
}

}  // namespace

extern "C" {

SALCROP_API const char *salcrop_default_speakers(int sound, int sphere)
{
    return default_speakers(sound != 0, sphere != 0);
}

SALCROP_API void salcrop_options_init(SalcropOptions *o)
{
    if (!o)
        return;
    std::memset(o, 0, sizeof(*o));
    o->abi_version = SALCROP_ABI_VERSION;
    o->ratio = "9:16";
    o->model = "";
    o->device = "auto";
    o->mode = "auto";
    o->ort_library = "";
    o->stride = kDefaultStride;
    o->lookahead = kDefaultLookahead;
    o->scene_threshold = kDefaultSceneThreshold;
    o->smoothing = kDefaultSmoothing;
    o->pad = "none";
    o->threads = 0;
    o->even = 0;
    o->keep_maps = 0;
    o->keyframes = "";
    o->projection = "flat";
    o->fov = 90.0;
    o->view_width = 0;
    o->view_height = 0;
    o->stereo = "mono";
    o->front = -1;
    o->speakers = "off";
    o->subjects = "";
    o->max_memory = 0;
}

SALCROP_API SalcropEngine *salcrop_create(const SalcropOptions *o)
{
    SalcropEngine *result = nullptr;
    guarded([&] {
        need(o, "options");
        if (o->abi_version != SALCROP_ABI_VERSION)
            throw std::invalid_argument("options.abi_version " + std::to_string(o->abi_version) +
                                        " does not match the library's " + std::to_string(SALCROP_ABI_VERSION) +
                                        " (call salcrop_options_init and rebuild against this salcrop.h)");
        EngineOptions e;
        e.width = o->width;
        e.height = o->height;
        e.fps = o->fps;
        e.ratio = str(o->ratio, "9:16");
        e.model = str(o->model, "");
        e.device = str(o->device, "auto");
        e.mode = str(o->mode, "auto");
        e.ort_library = str(o->ort_library, "");
        e.stride = o->stride;
        e.lookahead = o->lookahead;
        e.scene_threshold = o->scene_threshold;
        e.smoothing = o->smoothing;
        e.pad = str(o->pad, "none");
        e.threads = o->threads;
        e.even = o->even != 0;
        e.keep_maps = o->keep_maps != 0;
        e.projection = str(o->projection, "flat");
        e.fov = o->fov;
        e.view_w = o->view_width;
        e.view_h = o->view_height;
        e.stereo = str(o->stereo, "mono");
        e.front = o->front;
        e.speakers = str(o->speakers, "off");
        const std::string subjects = str(o->subjects, "");
        if (!subjects.empty())
            e.subjects = read_text_file(subjects);
        e.max_memory = o->max_memory;
        const std::string keyframes = str(o->keyframes, "");
        if (!keyframes.empty())
            e.keyframes = read_text_file(keyframes);
        auto holder = std::make_unique<SalcropEngine>();
        holder->engine = std::make_unique<Engine>(e);
        result = holder.release();  // owned by the caller until salcrop_destroy
        return 0;
    });
    return result;
}

SALCROP_API void salcrop_destroy(SalcropEngine *engine)
{
    std::unique_ptr<SalcropEngine> owned(engine);
}

SALCROP_API void salcrop_output_size(const SalcropEngine *engine, int *width, int *height)
{
    salcrop_output_size_at(engine, 0, width, height);
}

SALCROP_API int salcrop_output_count(const SalcropEngine *engine)
{
    return engine && engine->engine ? int(engine->engine->outputs()) : 0;
}

SALCROP_API void salcrop_output_size_at(const SalcropEngine *engine, int output, int *width, int *height)
{
    int w = 0, h = 0;
    if (engine && engine->engine && output >= 0 && size_t(output) < engine->engine->outputs())
        engine->engine->output_size(&w, &h, size_t(output));
    if (width)
        *width = w;
    if (height)
        *height = h;
}

SALCROP_API void salcrop_output_ratio_at(const SalcropEngine *engine, int output, int *num, int *den)
{
    Ratio r{0, 0};
    if (engine && engine->engine && output >= 0 && size_t(output) < engine->engine->outputs())
        r = engine->engine->ratio(size_t(output));
    if (num)
        *num = r.num;
    if (den)
        *den = r.den;
}

SALCROP_API const char *salcrop_describe(const SalcropEngine *engine)
{
    return engine && engine->engine ? engine->engine->describe().c_str() : "";
}

SALCROP_API int salcrop_max_delay(const SalcropEngine *engine)
{
    return engine && engine->engine ? engine->engine->max_delay() : 0;
}

SALCROP_API int salcrop_usual_delay(const SalcropEngine *engine)
{
    return engine && engine->engine ? engine->engine->usual_delay() : 0;
}

SALCROP_API int salcrop_check_buffer(const SalcropEngine *engine, int64_t bytes_per_frame)
{
    return guarded([&] {
        need(engine, "engine");
        engine->engine->check_buffer(bytes_per_frame);
        return 0;
    });
}

SALCROP_API int salcrop_frames_in_memory(const SalcropEngine *engine)
{
    return engine && engine->engine ? engine->engine->frames_in_memory() : 0;
}

SALCROP_API int salcrop_push(SalcropEngine *engine, const SalcropImage *image, double time_seconds)
{
    return guarded([&] {
        need(engine, "engine");
        need(image, "image");
        engine->engine->push(*image, time_seconds);
        return 0;
    });
}

SALCROP_API int salcrop_push_audio(SalcropEngine *engine, const SalcropAudio *audio, double time_seconds)
{
    return guarded([&] {
        need(engine, "engine");
        need(audio, "audio");
        engine->engine->push_audio(*audio, time_seconds);
        return 0;
    });
}

SALCROP_API int salcrop_audio_end(SalcropEngine *engine)
{
    return guarded([&] {
        need(engine, "engine");
        engine->engine->audio_end();
        return 0;
    });
}

SALCROP_API int salcrop_pop(SalcropEngine *engine, SalcropDecision *out)
{
    return salcrop_pop_at(engine, 0, out);
}

SALCROP_API int salcrop_pop_at(SalcropEngine *engine, int output, SalcropDecision *out)
{
    return guarded([&] {
        need(engine, "engine");
        need(out, "decision");
        Decision d;
        if (!engine->engine->pop(&d, output_index(output)))
            return 0;
        to_c(d, out);
        return 1;
    });
}

SALCROP_API int salcrop_flush(SalcropEngine *engine)
{
    return guarded([&] {
        need(engine, "engine");
        engine->engine->flush();
        return 0;
    });
}

SALCROP_API const char *salcrop_path_json(SalcropEngine *engine)
{
    return salcrop_path_json_at(engine, 0);
}

SALCROP_API const char *salcrop_path_json_at(SalcropEngine *engine, int output)
{
    const char *r = nullptr;
    guarded([&] {
        need(engine, "engine");
        r = engine->engine->path_json(output_index(output)).c_str();
        return 0;
    });
    return r;
}

SALCROP_API const char *salcrop_summary_at(SalcropEngine *engine, int output)
{
    const char *r = nullptr;
    guarded([&] {
        need(engine, "engine");
        engine->summary = engine->engine->summary(output_index(output));
        r = engine->summary.c_str();
        return 0;
    });
    return r;
}

SALCROP_API int salcrop_draw_debug(SalcropEngine *engine, const SalcropDecision *decision, uint8_t *const data[4],
                                   const int linesize[4], SalcropPixelFormat format)
{
    return guarded([&] {
        need(engine, "engine");
        need(decision, "decision");
        need(data, "data");
        need(linesize, "linesize");
        engine->engine->draw_debug(from_c(decision), data, linesize, format);
        return 0;
    });
}

SALCROP_API int salcrop_render_padded(SalcropEngine *engine, const SalcropDecision *decision,
                                      const SalcropImage *src, uint8_t *const dst_data[4],
                                      const int dst_linesize[4])
{
    return salcrop_render_padded_at(engine, 0, decision, src, dst_data, dst_linesize);
}

SALCROP_API int salcrop_render_padded_at(SalcropEngine *engine, int output, const SalcropDecision *decision,
                                         const SalcropImage *src, uint8_t *const dst_data[4],
                                         const int dst_linesize[4])
{
    return guarded([&] {
        need(engine, "engine");
        need(decision, "decision");
        need(src, "src");
        need(dst_data, "dst_data");
        need(dst_linesize, "dst_linesize");
        engine->engine->render_padded(from_c(decision), *src, dst_data, dst_linesize, output_index(output));
        return 0;
    });
}

SALCROP_API int salcrop_render_view(SalcropEngine *engine, const SalcropDecision *decision,
                                    const SalcropImage *src, uint8_t *const dst_data[4], const int dst_linesize[4])
{
    return guarded([&] {
        need(engine, "engine");
        need(decision, "decision");
        need(src, "src");
        need(dst_data, "dst_data");
        need(dst_linesize, "dst_linesize");
        engine->engine->render_view(from_c(decision), *src, dst_data, dst_linesize);
        return 0;
    });
}

SALCROP_API const char *salcrop_last_error(void)
{
    return g_error.c_str();
}

SALCROP_API const char *salcrop_version(void)
{
    return SALCROP_VERSION;
}

}  // extern "C"
