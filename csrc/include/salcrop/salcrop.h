/*
 * salcrop: saliency-driven video reframing, C ABI.
 *
 * This header is the only thing the FFmpeg filter sees of the C++ core. It is plain C99:
 * an opaque engine handle, plain structs, int status codes. No C++ type and no exception
 * ever crosses it; on failure a function returns a negative code (or NULL) and
 * salcrop_last_error() tells why in one sentence.
 *
 * Life cycle:
 *   SalcropOptions o; salcrop_options_init(&o); o.ratio = "9:16"; ...
 *   SalcropEngine *e = salcrop_create(&o);               // NULL on error
 *   for each input frame:  salcrop_push(e, &image, t);   // frames in display order
 *       while (salcrop_pop(e, &decision) == 1) emit the oldest buffered frame cropped to it
 *   salcrop_flush(e);  while (salcrop_pop(e, &d) == 1) ...   // end of stream
 *   salcrop_destroy(e);
 *
 * Several ratios (options.ratio = "9/16|1|4/5"): one engine, one output per ratio. Shots and the network
 * run once; each output plans its own path, equal to a one-ratio engine's with the same options. The
 * functions ending in _at take the output's index (0 .. salcrop_output_count()-1, in the order of the
 * list); the others act on output 0. Every output decides the same frames at the same push: after
 * salcrop_pop_at(e, 0, ...) returns 1, salcrop_pop_at(e, k, ...) returns 1 for the same frame, for every k.
 *
 * Decisions come out strictly in push order, one per pushed frame, after a bounded lookahead
 * (at most salcrop_max_delay(e) frames behind the newest push). The caller keeps the pixels
 * of frames not yet decided; the core keeps only small per-frame summaries.
 *
 * Threads: each engine runs its model on a thread of its own, so salcrop_push() usually returns
 * before the network has run on that frame; the decisions are the same as if it had (they never
 * depend on timing). One engine must not be called from two threads at once; different engines
 * are independent.
 */
#ifndef SALCROP_SALCROP_H
#define SALCROP_SALCROP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define SALCROP_API __declspec(dllexport)
#else
#define SALCROP_API __attribute__((visibility("default")))
#endif

/* Bumped whenever a struct below changes layout; salcrop_create() refuses a mismatch. */
#define SALCROP_ABI_VERSION 4

typedef struct SalcropEngine SalcropEngine;

typedef enum SalcropPixelFormat {
    SALCROP_PIX_YUV420P = 0, /* 3 planes, chroma w/2 x h/2 (also yuvj420p with full_range=1) */
    SALCROP_PIX_YUV422P,     /* 3 planes, chroma w/2 x h */
    SALCROP_PIX_YUV444P,     /* 3 planes, chroma w x h */
    SALCROP_PIX_NV12,        /* 2 planes, interleaved UV w/2 x h/2 */
    SALCROP_PIX_GRAY8,       /* 1 plane */
    SALCROP_PIX_RGB24,       /* 1 packed plane, R G B */
    SALCROP_PIX_BGR24,       /* 1 packed plane, B G R */
    SALCROP_PIX_RGBA,        /* 1 packed plane, R G B A */
    SALCROP_PIX_BGRA,        /* 1 packed plane, B G R A */
    SALCROP_PIX_NB
} SalcropPixelFormat;

/* A borrowed view of one picture; the core never keeps the pointers after a call returns. */
typedef struct SalcropImage {
    SalcropPixelFormat format;
    int width, height;
    const uint8_t *data[4];
    int linesize[4];
    int full_range;  /* 1 for JPEG/full-range YUV, 0 for limited (TV) range */
    int colorspace;  /* 0 = BT.601, 1 = BT.709 */
} SalcropImage;

typedef enum SalcropShotMode {
    SALCROP_MODE_STATIONARY = 0, /* one fixed window for the whole shot */
    SALCROP_MODE_PAN = 1,        /* constant-speed sweep from one window to another */
    SALCROP_MODE_TRACK = 2,      /* smoothed path, bounded velocity and acceleration */
} SalcropShotMode;

typedef struct SalcropOptions {
    int abi_version;          /* set by salcrop_options_init(); leave it */
    int width, height;        /* source frame size in pixels (display orientation) */
    double fps;               /* nominal frame rate, > 0; used for lookahead seconds and speed limits */
    const char *ratio;        /* target aspect "W:H" or "W/H" or a decimal, e.g. "9:16", "4/5", "1"; several
                                 separated by '|' or ',' ("9/16|1|4/5"): one output each, none given twice */
    const char *model;        /* ONNX model path; NULL or "" = the bundled default model */
    const char *device;       /* "auto" | "cpu" | "cuda" */
    const char *mode;         /* "auto" | "stationary" | "pan" | "track" */
    const char *ort_library;  /* libonnxruntime path; NULL or "" = search (env SALCROP_ORT_LIBRARY, build default) */
    int stride;               /* run the network every stride-th frame while the picture changes (every
                                 0.5 s while it is still), interpolate between; 1..30 */
    double lookahead;         /* seconds of future the planner may see; 0.1..60 */
    double scene_threshold;   /* shot-cut sensitivity; higher = fewer cuts; 0 = no shot detection */
    double smoothing;         /* camera smoothing strength 0..1; higher = calmer path */
    const char *pad;          /* "none" | "blur" | "black": fallback when the subject cannot fit the window */
    int threads;              /* CPU inference threads; 0 = automatic (one, not spinning) */
    int even;                 /* 1 = keep x, y, w, h even (chroma-subsampled output); set by the filter */
    int keep_maps;            /* 1 = retain each frame's saliency map until popped (debug drawing) */
    const char *keyframes;    /* JSON file of keyframes: [{"t": s or "frame": n, "x": px, "y": px}], the window's
                                 centre pinned there; NULL or "" = none. With projection "equirect":
                                 [{"t" or "frame", "yaw": deg, "pitch": deg}] */
    /* 360° input (ABI 3). */
    const char *projection;   /* "flat" (crop, default) | "equirect": render a perspective view of the sphere */
    double fov;               /* equirect: the view's horizontal field of view, 30..120 degrees (default 90) */
    int view_width, view_height; /* equirect: output size; 0 = the source's angular resolution at the view's
                                    centre */
    const char *stereo;       /* equirect: "mono" | "tb" (top-bottom: top eye) | "sbs" (side by side: left eye) */
    double front;             /* equirect: weight of the front prior 0..1 (viewers mostly face yaw 0); < 0 = default */
    /* People (ABI 4): faces, voices and picked subjects, all as tracks (DESIGN.md "People: the track layer"). */
    const char *speakers;     /* "auto" (faces always; who speaks when audio is pushed) | "off" (default: saliency
                                 alone; auto is opt-in until who-speaks beats it on a labelled dialogue) */
    const char *subjects;     /* JSON file of picked subjects: [{"t": s or "frame": n, "box": [x, y, w, h]}], each
                                 tracked through its shot and kept inside the window; NULL or "" = none */
    /* Memory (ABI 4). */
    double max_memory;        /* MB the caller's held frames may take (salcrop_check_buffer, the lookahead);
                                 0 = the default budget, < 0 = no budget (only the machine's memory) */
} SalcropOptions;

typedef struct SalcropDecision {
    int64_t frame;         /* index of the frame in push order, from 0 */
    double t;              /* the time given to salcrop_push() for that frame, seconds */
    int x, y, w, h;        /* source region shown, in source pixels, always inside the frame */
    int shot;              /* shot index, from 0 */
    SalcropShotMode mode;  /* how this frame's shot is filmed */
    int padded;            /* 1 = region is wider/taller than the output ratio: letterbox it (pad option) */
    double yaw, pitch, fov; /* equirect: the view's centre (yaw 0 = centre column, + right; pitch + up) and
                               horizontal fov, degrees; x, y, w, h are then the output picture */
    int speaker;           /* id of the face track the camera follows on this frame (it speaks), -1 = none */
    int subject;           /* id of the picked subject's track kept on this frame, -1 = none (or lost) */
} SalcropDecision;

/* Audio samples as FFmpeg gives them (AVSampleFormat's order, so the filter maps them one to one). */
typedef enum SalcropSampleFormat {
    SALCROP_SAMPLE_U8 = 0, SALCROP_SAMPLE_S16, SALCROP_SAMPLE_S32, SALCROP_SAMPLE_FLT, SALCROP_SAMPLE_DBL,
    SALCROP_SAMPLE_U8P, SALCROP_SAMPLE_S16P, SALCROP_SAMPLE_S32P, SALCROP_SAMPLE_FLTP, SALCROP_SAMPLE_DBLP,
    SALCROP_SAMPLE_S64, SALCROP_SAMPLE_S64P,
    SALCROP_SAMPLE_NB
} SalcropSampleFormat;

/* A borrowed block of audio: nb_samples per channel. Interleaved formats use data[0]; planar ones one pointer per
 * channel (data[0 .. channels-1], FFmpeg's extended_data). */
typedef struct SalcropAudio {
    SalcropSampleFormat format;
    int sample_rate;       /* any rate FFmpeg gives (8000 .. 192000) */
    int channels;          /* 1 .. 64; mixed down once, in the core */
    int nb_samples;
    const uint8_t *const *data;
} SalcropAudio;

/* Fills defaults: ratio "9:16", device "auto", mode "auto", stride and lookahead as measured. */
SALCROP_API void salcrop_options_init(SalcropOptions *options);

/* `speakers` when the user gave none: "auto" where sound reaches the engine (sound != 0) or the view is 360°
 * (sphere != 0), else "off". The one rule for every front end; a static string. */
SALCROP_API const char *salcrop_default_speakers(int sound, int sphere);

/* Validates everything (options, model file and metadata, provider) and loads the model.
 * Returns NULL on any error; salcrop_last_error() names the bad option and what is allowed. */
SALCROP_API SalcropEngine *salcrop_create(const SalcropOptions *options);
SALCROP_API void salcrop_destroy(SalcropEngine *engine);

/* Output picture size (the window size for the target ratio, even when options.even). */
SALCROP_API void salcrop_output_size(const SalcropEngine *engine, int *width, int *height);

/* How many outputs (ratios) the engine has; 1 for a single ratio. */
SALCROP_API int salcrop_output_count(const SalcropEngine *engine);

/* Output picture size of output k (0 <= k < salcrop_output_count()); 0x0 for an output it does not have. */
SALCROP_API void salcrop_output_size_at(const SalcropEngine *engine, int output, int *width, int *height);

/* Output k's ratio as the core read it, in lowest terms (e.g. 9 and 16 for "9/16" or "0.5625"); 0 and 0 for
 * an output it does not have. */
SALCROP_API void salcrop_output_ratio_at(const SalcropEngine *engine, int output, int *num, int *den);

/* One line for the log: provider actually used, model, input size, window size, choices made
 * (e.g. that the input is already narrower than the target). */
SALCROP_API const char *salcrop_describe(const SalcropEngine *engine);

/* Most frames a decision can lag behind the newest push (the lookahead buffer bound). */
SALCROP_API int salcrop_max_delay(const SalcropEngine *engine);

/* The frames a run usually holds awaiting their decision: the lookahead and one gap between two runs of the
 * network, without an open fade or a model running behind (which salcrop_max_delay() also counts). A caller that
 * hands decided frames on at the pace frames come in (the filter) may keep this many without holding more than
 * it would have anyway. */
SALCROP_API int salcrop_usual_delay(const SalcropEngine *engine);

/* Called once before the first push with what the caller keeps per frame awaiting its decision. Under the
 * memory budget (options.max_memory; 0 = the default 448 MB) it settles how many of the up to
 * salcrop_max_delay() frames may stay in memory (salcrop_frames_in_memory()): the caller keeps the others
 * outside memory (the filter: a temporary file), the lookahead and the path stay the same, and
 * salcrop_describe() says what the budget did. Without a budget (max_memory < 0) it checks all of them against
 * this machine's memory or the container's limit (env SALCROP_MEMORY_LIMIT_MB overrides both). Returns 0, or a
 * negative error whose salcrop_last_error() names a lookahead that would fit. */
SALCROP_API int salcrop_check_buffer(const SalcropEngine *engine, int64_t bytes_per_frame);

/* After salcrop_check_buffer(): how many frames awaiting their decision may stay in memory
 * (salcrop_max_delay() when all of them fit the budget). */
SALCROP_API int salcrop_frames_in_memory(const SalcropEngine *engine);

/* Push the next frame. time_seconds is its presentation time. Returns 0 or a negative error
 * (e.g. a frame whose size differs from options.width x height). */
SALCROP_API int salcrop_push(SalcropEngine *engine, const SalcropImage *image, double time_seconds);

/* Audio for analysis only (who speaks): a block whose first sample plays at time_seconds, on the same clock as the
 * frames' times (the streams' pts, not sample counts). Blocks in order; gaps are silence, overlaps are dropped.
 * Optional: without audio the engine plans with faces and saliency. Resampled and mixed down once, in the core.
 * The core waits for audio up to a frame's lookahead and no longer: audio never delays decisions beyond
 * salcrop_max_delay(). Call salcrop_audio_end() when the audio stream ends (or has none): decisions stop waiting. */
SALCROP_API int salcrop_push_audio(SalcropEngine *engine, const SalcropAudio *audio, double time_seconds);
SALCROP_API int salcrop_audio_end(SalcropEngine *engine);

/* Pop the next decision: 1 = *out filled, 0 = none ready yet, < 0 = error. */
SALCROP_API int salcrop_pop(SalcropEngine *engine, SalcropDecision *out);

/* salcrop_pop() for output k. */
SALCROP_API int salcrop_pop_at(SalcropEngine *engine, int output, SalcropDecision *out);

/* End of stream: plan everything still buffered; afterwards salcrop_pop() drains it. */
SALCROP_API int salcrop_flush(SalcropEngine *engine);

/* The crop path of every decision popped so far, as the crop path JSON (version 1):
 * {"version":1,"source":{...},"ratio":"9:16","frames":[...],"shots":[...]}.
 * The string stays valid until the next call on the engine. */
SALCROP_API const char *salcrop_path_json(SalcropEngine *engine);

/* salcrop_path_json() for output k; NULL (salcrop_last_error() says why) for an output it does not have. */
SALCROP_API const char *salcrop_path_json_at(SalcropEngine *engine, int output);

/* One line on what the run did to output k's popped frames (shots, how much the window moved, its cuts, whom it
 * followed with speakers=auto, the picked subject): for a log at the end of a stream. Valid until the next call on
 * the engine; NULL (salcrop_last_error() says why) for an output it does not have. */
SALCROP_API const char *salcrop_summary_at(SalcropEngine *engine, int output);

/* Draws the debug view for the most recently popped decision onto a writable full frame of the
 * source size: saliency heatmap, the window, the shot mode. Needs options.keep_maps = 1 (one ratio only). */
SALCROP_API int salcrop_draw_debug(SalcropEngine *engine, const SalcropDecision *decision,
                                   uint8_t *const data[4], const int linesize[4],
                                   SalcropPixelFormat format);

/* Renders a padded decision (decision->padded == 1): the region scaled to fit the output, the
 * rest filled per options.pad. src is the full source frame, dst an output-sized picture of the
 * same format. */
SALCROP_API int salcrop_render_padded(SalcropEngine *engine, const SalcropDecision *decision,
                                      const SalcropImage *src, uint8_t *const dst_data[4],
                                      const int dst_linesize[4]);

/* salcrop_render_padded() for output k (dst is that output's size). */
SALCROP_API int salcrop_render_padded_at(SalcropEngine *engine, int output, const SalcropDecision *decision,
                                         const SalcropImage *src, uint8_t *const dst_data[4],
                                         const int dst_linesize[4]);

/* projection "equirect": renders the decision's view of src (the full source frame) into an
 * output-sized picture of the same format (bilinear, wrapping across the seam). */
SALCROP_API int salcrop_render_view(SalcropEngine *engine, const SalcropDecision *decision,
                                    const SalcropImage *src, uint8_t *const dst_data[4],
                                    const int dst_linesize[4]);

/* Why the last failing call on this thread failed; "" if none. */
SALCROP_API const char *salcrop_last_error(void);

SALCROP_API const char *salcrop_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SALCROP_SALCROP_H */
