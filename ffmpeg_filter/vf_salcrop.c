/*
 * Saliency-driven reframing filter
 *
 * This file is part of FFmpeg.
 *
 * FFmpeg is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * FFmpeg is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Lesser General Public License for more details.
 *
 * You should have received a copy of the GNU Lesser General Public
 * License along with FFmpeg; if not, write to the Free Software
 * Foundation, Inc., 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301 USA
 */

/**
 * @file
 * salcrop: crop every frame to a target aspect ratio along a camera path
 * planned from predicted saliency.
 *
 * The filter is plumbing only: options, pixel formats, buffering and
 * cropping. Every decision (model, shots, path) comes from the salcrop core
 * through its C ABI, which the Python package shares, so both front ends
 * behave the same and validate options the same way.
 *
 * The core decides a frame only after it has seen some frames of lookahead,
 * so input frames wait in a FIFO until their decision pops out; decisions
 * arrive in input order, one per frame.
 *
 * The core reads 8-bit pictures. 10-bit input is cropped as it is (the
 * output keeps its depth); the core is shown an 8-bit copy of each frame.
 *
 * Memory: up to salcrop_max_delay() frames wait for their decision (4 s of
 * lookahead and more: 3 GB of 4K at 60 fps). The core's budget
 * (max_memory, default 448 MB) says how many of them may stay in memory;
 * the others wait in an unlinked temporary file ($TMPDIR, else /var/tmp)
 * and are read back when their decision comes, so the lookahead and the
 * path stay the same. A frame is written and read once; only frames past
 * the budget pay for it.
 *
 * Pace: input read faster than real time (a file) gets its decided frames
 * handed on one per frame in (see paced()); live input as soon as decided.
 *
 * ratios=9/16|1|4/5 gives one output pad per ratio (created in init, as
 * split does) from one engine: shots and the network run once, each ratio
 * has its own path. Every output's decision for a frame is ready at the same
 * time, so a buffered frame goes to all outputs (as references) at once.
 *
 * audio=1 adds a second input, audio, for analysis only (who speaks):
 * [0:v][0:a]salcrop=audio=1[v]. Its frames go to the core as they come, in
 * whatever format, rate and layout the graph gives (the core resamples and
 * mixes down once), and are then dropped; they never hold a video frame
 * back. A filter's pads are fixed when it is created, before the graph's
 * labels are linked, so the second input must be asked for by the option.
 * An audio stream the core refuses (e.g. 4 kHz) is ignored with a warning:
 * the video is reframed without it.
 */

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libavutil/avassert.h"
#include "libavutil/avstring.h"
#include "libavutil/fifo.h"
#include "libavutil/file_open.h"
#include "libavutil/imgutils.h"
#include "libavutil/time.h"
#include "libavutil/mem.h"
#include "libavutil/opt.h"
#include "libavutil/pixdesc.h"
#include "libavutil/spherical.h"

#include "avfilter.h"
#include "filters.h"
#include "formats.h"
#include "video.h"

#include <salcrop/salcrop.h>

typedef struct SalcropContext {
    const AVClass *class;

    /* options; strings go to the core unparsed, it validates them */
    char  *ratio;
    char  *ratios;
    char  *model;
    char  *device;
    char  *mode;
    char  *pad;
    char  *path;
    char  *keyframes;
    char  *subjects;
    int    stride;
    double lookahead;
    double scene_threshold;
    double smoothing;
    int    threads;
    int    debug;
    char  *projection;          ///< "" (auto: flat, refusing frames marked spherical), flat, equirect
    double fov;
    int    view_w, view_h;
    char  *stereo;
    double front;
    char  *speakers;            ///< auto (faces count; who speaks when there is audio) | off; NULL: auto with audio=1
    int    sphere;              ///< projection=equirect: frames are rendered views
    double max_memory;
    int    audio;               ///< a second input, audio, for analysis

    SalcropEngine *engine;
    SalcropPixelFormat core_format;
    int depth;                  ///< bits per sample of the input
    AVFrame *reduced;           ///< 8-bit copy shown to the core when depth > 8
    int full_range_format;      ///< yuvj420p: full range whatever the frame says
    int in_w, in_h;
    int nb_ratios;              ///< one output pad each (1 without ratios=)
    int *out_w, *out_h;         ///< per output
    int hsub, vsub;
    int max_step[4];
    double fps;

    AVFifo *frames;             ///< HeldFrame awaiting their decision, oldest first
    int frames_in_memory;       ///< how many of them the budget keeps in memory
    int paced_hold;             ///< held frames up to which decided ones go out one per frame in
    int64_t nb_paced;           ///< frames pushed while the input ran faster than real time
    int nb_in_memory;
    int spill_fd;               ///< the temporary file of the others, -1 until needed
    int64_t frame_bytes;        ///< one frame's planes, packed: a slot of the file
    int64_t *free_slots;        ///< slots read back, for reuse
    int nb_free, free_size;
    int64_t nb_slots;           ///< slots the file has
    int64_t nb_spilled;         ///< frames that waited in the file
    int waiting;                ///< a frame to read back waits for the outputs to take theirs
    int eof_status;             ///< the input's status, once acknowledged
    int64_t eof_pts;
    int64_t nb_pushed;
    int64_t nb_emitted;
    int path_written;
    int audio_done;             ///< the audio input ended, failed or was closed
    double audio_t;             ///< end of the last audio block, seconds
    double video_t;             ///< time of the last video frame pushed, seconds
    double first_t;             ///< the first frame's time, seconds
    int64_t first_wall;         ///< when it came (av_gettime_relative(), us)
    int video_status;           ///< the video input's end (EOF or error), once seen
    int64_t video_status_pts;
    int64_t nb_audio;           ///< audio blocks the core took
    double audio_heard;         ///< seconds of sound in them
} SalcropContext;

/* A frame awaiting its decision: in memory (slot < 0), or its pixels in the
 * temporary file's slot and only its properties here. */
typedef struct HeldFrame {
    AVFrame *frame;
    int64_t slot;
} HeldFrame;

static const struct {
    enum AVPixelFormat av;
    SalcropPixelFormat core;
} format_map[] = {
    { AV_PIX_FMT_YUV420P,  SALCROP_PIX_YUV420P },
    { AV_PIX_FMT_YUVJ420P, SALCROP_PIX_YUV420P },
    { AV_PIX_FMT_YUV422P,  SALCROP_PIX_YUV422P },
    { AV_PIX_FMT_YUV444P,  SALCROP_PIX_YUV444P },
    { AV_PIX_FMT_NV12,     SALCROP_PIX_NV12    },
    { AV_PIX_FMT_GRAY8,    SALCROP_PIX_GRAY8   },
    { AV_PIX_FMT_RGB24,    SALCROP_PIX_RGB24   },
    { AV_PIX_FMT_BGR24,    SALCROP_PIX_BGR24   },
    { AV_PIX_FMT_RGBA,     SALCROP_PIX_RGBA    },
    { AV_PIX_FMT_BGRA,     SALCROP_PIX_BGRA    },
    /* The core sees an 8-bit copy of these (see reduce_depth()). */
    { AV_PIX_FMT_YUV420P10, SALCROP_PIX_YUV420P },
    { AV_PIX_FMT_YUV422P10, SALCROP_PIX_YUV422P },
    { AV_PIX_FMT_YUV444P10, SALCROP_PIX_YUV444P },
};

/* The formats of format_map; anything else is converted by the graph. 10-bit
 * only where the output is a crop of the input: the debug view and padded
 * frames are drawn by the core, which draws in 8 bits. */
static int query_formats(AVFilterContext *ctx)
{
    SalcropContext *s = ctx->priv;
    int ret;
    int crop_only = !s->debug && (!s->pad || !strcmp(s->pad, "none")) &&
                    !(s->projection && !strcmp(s->projection, "equirect"));
    int fmts[FF_ARRAY_ELEMS(format_map) + 1];
    int i, n = 0;

    for (i = 0; i < FF_ARRAY_ELEMS(format_map); i++)
        if (crop_only || (av_pix_fmt_desc_get(format_map[i].av)->comp[0].depth == 8 &&
                          !(av_pix_fmt_desc_get(format_map[i].av)->flags & AV_PIX_FMT_FLAG_ALPHA)))
            fmts[n++] = format_map[i].av;
    fmts[n] = AV_PIX_FMT_NONE;
    /* The audio input takes any sample format, rate and layout: the core
     * reads them all (SalcropSampleFormat is AVSampleFormat's order). */
    if (s->audio) {
        AVFilterLink *alink = ctx->inputs[1];

        if ((ret = ff_formats_ref(ff_all_formats(AVMEDIA_TYPE_AUDIO), &alink->outcfg.formats)) < 0 ||
            (ret = ff_formats_ref(ff_all_samplerates(), &alink->outcfg.samplerates)) < 0 ||
            (ret = ff_channel_layouts_ref(ff_all_channel_counts(), &alink->outcfg.channel_layouts)) < 0)
            return ret;
    }
    return ff_set_common_formats_from_list(ctx, fmts);
}

static double link_fps(AVFilterLink *inlink)
{
    FilterLink *l = ff_filter_link(inlink);

    if (l->frame_rate.num > 0 && l->frame_rate.den > 0)
        return av_q2d(l->frame_rate);
    /* A time base of 1/25 or 1/30000 says nothing certain, but 1/fps time
     * bases are common enough to be a better guess than a constant. */
    if (inlink->time_base.num > 0 && av_q2d(av_inv_q(inlink->time_base)) <= 240)
        return av_q2d(av_inv_q(inlink->time_base));
    return 25.0;
}

static int config_input(AVFilterLink *inlink)
{
    AVFilterContext *ctx = inlink->dst;
    SalcropContext *s = ctx->priv;
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(inlink->format);
    SalcropOptions o;
    int i, frame_bytes;

    s->core_format = SALCROP_PIX_NB;
    for (i = 0; i < FF_ARRAY_ELEMS(format_map); i++)
        if (format_map[i].av == inlink->format)
            s->core_format = format_map[i].core;
    av_assert0(s->core_format != SALCROP_PIX_NB);
    s->full_range_format = inlink->format == AV_PIX_FMT_YUVJ420P;

    s->in_w = inlink->w;
    s->in_h = inlink->h;
    s->hsub = desc->log2_chroma_w;
    s->vsub = desc->log2_chroma_h;
    s->depth = desc->comp[0].depth;
    av_frame_free(&s->reduced);
    if (s->depth > 8) {
        int ret;

        s->reduced = av_frame_alloc();
        if (!s->reduced)
            return AVERROR(ENOMEM);
        /* The 8-bit format of the same layout: the first format_map entry
         * that shows the core this picture format. */
        for (i = 0; format_map[i].core != s->core_format; i++)
            ;
        s->reduced->format = format_map[i].av;
        s->reduced->width  = inlink->w;
        s->reduced->height = inlink->h;
        ret = av_frame_get_buffer(s->reduced, 0);
        if (ret < 0)
            return ret;
    }
    av_image_fill_max_pixsteps(s->max_step, NULL, desc);
    s->fps  = link_fps(inlink);

    salcrop_options_init(&o);
    o.width  = inlink->w;
    o.height = inlink->h;
    o.fps    = s->fps;
    o.ratio  = s->ratios ? s->ratios : s->ratio;
    o.model  = s->model;
    o.device = s->device;
    o.mode   = s->mode;
    o.pad    = s->pad;
    o.keyframes = s->keyframes;
    o.subjects  = s->subjects;
    /* Negative numbers mean "the core's default": it owns the measured values. */
    if (s->stride >= 0)
        o.stride = s->stride;
    if (s->lookahead >= 0)
        o.lookahead = s->lookahead;
    if (s->scene_threshold >= 0)
        o.scene_threshold = s->scene_threshold;
    if (s->smoothing >= 0)
        o.smoothing = s->smoothing;
    o.threads   = s->threads;
    /* Chroma planes can only be offset by whole chroma samples. */
    o.even      = s->hsub || s->vsub;
    o.keep_maps = s->debug;
    s->sphere = s->projection && !strcmp(s->projection, "equirect");
    o.projection = s->projection && *s->projection ? s->projection : "flat";
    o.fov = s->fov;
    o.view_width = s->view_w;
    o.view_height = s->view_h;
    o.stereo = s->stereo;
    o.front = s->front;
    o.max_memory = s->max_memory;
    /* Without the option, the core's rule for every front end: faces and
     * voices with the audio input or a 360° view, else saliency alone. */
    o.speakers = s->speakers ? s->speakers : salcrop_default_speakers(s->audio, s->sphere);

    salcrop_destroy(s->engine);
    s->engine = salcrop_create(&o);
    if (!s->engine) {
        av_log(ctx, AV_LOG_ERROR, "%s\n", salcrop_last_error());
        return AVERROR(EINVAL);
    }
    /* The frames awaiting a decision are kept here, in the input's own
     * format: the core says how many fit the memory budget (without one,
     * it refuses a size whose worst case cannot fit in memory). */
    frame_bytes = av_image_get_buffer_size(inlink->format, inlink->w, inlink->h, 1);
    if (frame_bytes <= 0 || salcrop_check_buffer(s->engine, frame_bytes) < 0) {
        av_log(ctx, AV_LOG_ERROR, "%s\n", frame_bytes <= 0 ? "cannot size the input's frames" :
               salcrop_last_error());
        return frame_bytes <= 0 ? AVERROR(EINVAL) : AVERROR(ENOMEM);
    }
    s->frame_bytes      = frame_bytes;
    s->frames_in_memory = salcrop_frames_in_memory(s->engine);
    s->paced_hold = FFMIN(salcrop_usual_delay(s->engine), s->frames_in_memory);
    /* The core splits the list; init only counted its '|' for the pads. */
    if (salcrop_output_count(s->engine) != s->nb_ratios) {
        av_log(ctx, AV_LOG_ERROR, "ratios='%s' gives %d outputs, the filter has %d pads\n",
               o.ratio, salcrop_output_count(s->engine), s->nb_ratios);
        return AVERROR(EINVAL);
    }
    /* Without the audio input, the core knows now that no sound will come. */
    if (!s->audio && salcrop_audio_end(s->engine) < 0) {
        av_log(ctx, AV_LOG_ERROR, "%s\n", salcrop_last_error());
        return AVERROR_EXTERNAL;
    }
    for (i = 0; i < s->nb_ratios; i++)
        salcrop_output_size_at(s->engine, i, &s->out_w[i], &s->out_h[i]);
    av_log(ctx, AV_LOG_INFO, "%s\n", salcrop_describe(s->engine));
    if (s->debug)
        av_log(ctx, AV_LOG_INFO, "debug view: full %dx%d frames with the saliency map and window drawn\n",
               s->in_w, s->in_h);
    return 0;
}

static int config_output(AVFilterLink *outlink)
{
    AVFilterContext *ctx = outlink->src;
    SalcropContext *s = ctx->priv;
    AVFilterLink *inlink = ctx->inputs[0];
    int idx = FF_OUTLINK_IDX(outlink);

    outlink->w = s->debug ? s->in_w : s->out_w[idx];
    outlink->h = s->debug ? s->in_h : s->out_h[idx];
    outlink->sample_aspect_ratio = inlink->sample_aspect_ratio;
    return 0;
}

static void frame_to_image(const SalcropContext *s, const AVFrame *frame, SalcropImage *img)
{
    int i;

    memset(img, 0, sizeof(*img));
    img->format = s->core_format;
    img->width  = frame->width;
    img->height = frame->height;
    for (i = 0; i < 4; i++) {
        img->data[i]     = frame->data[i];
        img->linesize[i] = frame->linesize[i];
    }
    img->full_range = s->full_range_format || frame->color_range == AVCOL_RANGE_JPEG;
    img->colorspace = frame->colorspace == AVCOL_SPC_BT709;
}

/* The core's 8-bit view of a deeper planar frame: each sample shifted down
 * to its 8 most significant bits, colour properties kept. */
static void reduce_depth(SalcropContext *s, const AVFrame *frame)
{
    AVFrame *r = s->reduced;
    int shift = s->depth - 8;
    int p, x, y;

    for (p = 0; p < 3; p++) {
        int w = p ? AV_CEIL_RSHIFT(frame->width,  s->hsub) : frame->width;
        int h = p ? AV_CEIL_RSHIFT(frame->height, s->vsub) : frame->height;

        for (y = 0; y < h; y++) {
            const uint16_t *src = (const uint16_t *)(frame->data[p] + y * frame->linesize[p]);
            uint8_t *dst = r->data[p] + y * r->linesize[p];

            for (x = 0; x < w; x++)
                dst[x] = src[x] >> shift;
        }
    }
    r->color_range = frame->color_range;
    r->colorspace  = frame->colorspace;
}

static int open_spill_file(AVFilterContext *ctx)
{
    SalcropContext *s = ctx->priv;
    const char *dir = getenv("TMPDIR");
    char *name = av_asprintf("%s/salcrop-XXXXXX", dir && *dir ? dir : "/var/tmp");
    int ret;

    if (!name)
        return AVERROR(ENOMEM);
    s->spill_fd = mkstemp(name);
    ret = s->spill_fd < 0 ? AVERROR(errno) : 0;
    if (ret < 0)
        av_log(ctx, AV_LOG_ERROR, "cannot create a temporary file for the frames past max_memory "
               "('%s': %s); set TMPDIR, or raise max_memory\n", name, av_err2str(ret));
    else
        unlink(name);  /* gone with the descriptor, even on a crash */
    av_free(name);
    return ret;
}

/* Moves the pixels of frame between memory and the file's slot, plane by
 * plane, packed (no padding) in the file. */
static int transfer_planes(AVFilterContext *ctx, AVFrame *frame, int64_t slot, int write)
{
    SalcropContext *s = ctx->priv;
    int64_t pos = slot * s->frame_bytes;
    int p, y, nb_planes = av_pix_fmt_count_planes(frame->format);

    for (p = 0; p < nb_planes; p++) {
        int bytes = av_image_get_linesize(frame->format, frame->width, p);
        int rows  = p == 1 || p == 2 ? AV_CEIL_RSHIFT(frame->height, s->vsub) : frame->height;
        int whole = frame->linesize[p] == bytes;  /* one call for the plane */

        for (y = 0; y < rows; y += whole ? rows : 1) {
            size_t len = whole ? (size_t)bytes * rows : (size_t)bytes;
            uint8_t *data = frame->data[p] + (size_t)y * frame->linesize[p];
            size_t done = 0;

            while (done < len) {
                ssize_t n = write ? pwrite(s->spill_fd, data + done, len - done, pos + done)
                                  : pread(s->spill_fd, data + done, len - done, pos + done);
                if (n <= 0) {
                    int ret = n < 0 ? AVERROR(errno) : AVERROR(EIO);
                    av_log(ctx, AV_LOG_ERROR, "%s the temporary file of the frames past max_memory: %s\n",
                           write ? "writing" : "reading", av_err2str(ret));
                    return ret;
                }
                done += n;
            }
            pos += len;
        }
    }
    return 0;
}

/* Past the budget: the pixels go to the file, the properties stay. */
static int spill_frame(AVFilterContext *ctx, HeldFrame *h)
{
    SalcropContext *s = ctx->priv;
    AVFrame *props;
    int64_t slot;
    int ret;

    if (s->spill_fd < 0 && (ret = open_spill_file(ctx)) < 0)
        return ret;
    slot = s->nb_free ? s->free_slots[--s->nb_free] : s->nb_slots++;
    ret = transfer_planes(ctx, h->frame, slot, 1);
    props = ret < 0 ? NULL : av_frame_alloc();
    if (!props || (ret = av_frame_copy_props(props, h->frame)) < 0) {
        av_frame_free(&props);
        return ret < 0 ? ret : AVERROR(ENOMEM);
    }
    props->format = h->frame->format;
    props->width  = h->frame->width;
    props->height = h->frame->height;
    av_frame_free(&h->frame);
    h->frame = props;
    h->slot  = slot;
    s->nb_spilled++;
    return 0;
}

/* Its decision came: the pixels come back into a new frame. */
static int unspill_frame(AVFilterContext *ctx, HeldFrame *h)
{
    SalcropContext *s = ctx->priv;
    AVFrame *frame = ff_get_video_buffer(ctx->inputs[0], h->frame->width, h->frame->height);
    int ret;

    if (!frame)
        return AVERROR(ENOMEM);
    ret = av_frame_copy_props(frame, h->frame);
    if (ret >= 0)
        ret = transfer_planes(ctx, frame, h->slot, 0);
    if (ret >= 0 && s->nb_free == s->free_size)
        ret = av_reallocp_array(&s->free_slots, s->free_size = 2 * s->free_size + 16,
                                sizeof(*s->free_slots));
    if (ret < 0) {
        av_frame_free(&frame);
        return ret;
    }
    s->free_slots[s->nb_free++] = h->slot;
    av_frame_free(&h->frame);
    h->frame = frame;
    h->slot  = -1;
    return 0;
}

static int push_frame(AVFilterContext *ctx, AVFrame *frame)
{
    SalcropContext *s = ctx->priv;
    AVFilterLink *inlink = ctx->inputs[0];
    SalcropImage img;
    HeldFrame held;
    double t;
    int ret;

    /* The core plans one geometry per stream; a new size needs a new
     * filter graph (the ffmpeg CLI builds one on its own). */
    if (frame->width != s->in_w || frame->height != s->in_h) {
        av_log(ctx, AV_LOG_ERROR, "frame size changed from %dx%d to %dx%d mid-stream; "
               "salcrop needs a new filter graph for a new size (or scale=%d:%d "
               "in front of it)\n",
               s->in_w, s->in_h, frame->width, frame->height, s->in_w, s->in_h);
        av_frame_free(&frame);
        return AVERROR(EINVAL);
    }

    /* FFmpeg 7.1 hands spherical side data over only with frames, after
     * the output size is fixed: a marked frame without projection= cannot
     * switch to a view any more, so say how to ask for one. */
    if (s->nb_pushed == 0 && (!s->projection || !*s->projection)) {
        const AVFrameSideData *sd = av_frame_get_side_data(frame, AV_FRAME_DATA_SPHERICAL);

        if (sd && ((const AVSphericalMapping *)sd->data)->projection == AV_SPHERICAL_EQUIRECTANGULAR) {
            av_log(ctx, AV_LOG_ERROR, "the input is marked as 360-degree equirectangular video: "
                   "pass projection=equirect (with fov=, default 90) for a perspective view that follows "
                   "the saliency, or projection=flat to crop the equirect frame as a flat video\n");
            av_frame_free(&frame);
            return AVERROR(EINVAL);
        }
    }

    /* The core reads rows top-down; a bottom-up picture (negative
     * linesizes, e.g. from vflip) gets a top-down copy. */
    if (frame->linesize[0] < 0 || frame->linesize[1] < 0 ||
        frame->linesize[2] < 0 || frame->linesize[3] < 0) {
        AVFrame *copy = ff_get_video_buffer(inlink, frame->width, frame->height);

        ret = copy ? av_frame_copy(copy, frame) : AVERROR(ENOMEM);
        if (ret >= 0)
            ret = av_frame_copy_props(copy, frame);
        av_frame_free(&frame);
        if (ret < 0) {
            av_frame_free(&copy);
            return ret;
        }
        frame = copy;
    }

    t = frame->pts != AV_NOPTS_VALUE ? frame->pts * av_q2d(inlink->time_base)
                                     : s->nb_pushed / s->fps;
    s->video_t = t;
    if (s->nb_pushed == 0) {
        s->first_t    = t;
        s->first_wall = av_gettime_relative();
    }
    if (s->reduced) {
        reduce_depth(s, frame);
        frame_to_image(s, s->reduced, &img);
    } else {
        frame_to_image(s, frame, &img);
    }
    if (salcrop_push(s->engine, &img, t) < 0) {
        av_log(ctx, AV_LOG_ERROR, "%s\n", salcrop_last_error());
        av_frame_free(&frame);
        return AVERROR_EXTERNAL;
    }
    held.frame = frame;
    held.slot  = -1;
    if (s->nb_in_memory < s->frames_in_memory)
        s->nb_in_memory++;
    else if ((ret = spill_frame(ctx, &held)) < 0) {
        av_frame_free(&held.frame);
        return ret;
    }
    ret = av_fifo_write(s->frames, &held, 1);
    if (ret < 0) {
        if (held.slot < 0)
            s->nb_in_memory--;
        av_frame_free(&held.frame);
        return ret;
    }
    s->nb_pushed++;
    return 0;
}

static int crop_in_place(AVFilterContext *ctx, int idx, AVFrame *frame, const SalcropDecision *d)
{
    SalcropContext *s = ctx->priv;
    int i;

    if (d->w != s->out_w[idx] || d->h != s->out_h[idx] ||
        d->x < 0 || d->y < 0 || d->x + d->w > s->in_w || d->y + d->h > s->in_h ||
        (d->x & ((1 << s->hsub) - 1)) || (d->y & ((1 << s->vsub) - 1))) {
        av_log(ctx, AV_LOG_ERROR, "frame %"PRId64": the core returned window %dx%d+%d+%d, "
               "which is not a %dx%d window inside %dx%d on the chroma grid\n",
               d->frame, d->w, d->h, d->x, d->y, s->out_w[idx], s->out_h[idx], s->in_w, s->in_h);
        return AVERROR_BUG;
    }

    frame->width  = d->w;
    frame->height = d->h;
    frame->data[0] += d->y * frame->linesize[0] + d->x * s->max_step[0];
    for (i = 1; i < 3; i++)
        if (frame->data[i])
            frame->data[i] += (d->y >> s->vsub) * frame->linesize[i] +
                              ((d->x * s->max_step[i]) >> s->hsub);
    if (frame->data[3])
        frame->data[3] += d->y * frame->linesize[3] + d->x * s->max_step[3];
    return 0;
}

/* Turns frame into output idx's frame according to d; takes ownership of frame. */
static int emit_frame(AVFilterContext *ctx, int idx, AVFrame *frame, const SalcropDecision *d)
{
    SalcropContext *s = ctx->priv;
    AVFilterLink *outlink = ctx->outputs[idx];
    AVFrame *out;
    SalcropImage img;
    int ret;

    if (ff_outlink_get_status(outlink)) {  /* that output is closed; the others go on */
        av_frame_free(&frame);
        return 0;
    }

    if (s->debug) {
        ret = av_frame_make_writable(frame);
        if (ret >= 0 && salcrop_draw_debug(s->engine, d, frame->data, frame->linesize,
                                           s->core_format) < 0) {
            av_log(ctx, AV_LOG_ERROR, "%s\n", salcrop_last_error());
            ret = AVERROR_EXTERNAL;
        }
        if (ret < 0) {
            av_frame_free(&frame);
            return ret;
        }
        return ff_filter_frame(outlink, frame);
    }

    if (s->sphere || d->padded) {
        out = ff_get_video_buffer(outlink, s->out_w[idx], s->out_h[idx]);
        if (!out) {
            av_frame_free(&frame);
            return AVERROR(ENOMEM);
        }
        av_frame_copy_props(out, frame);
        frame_to_image(s, frame, &img);
        ret = s->sphere ? salcrop_render_view(s->engine, d, &img, out->data, out->linesize)
                        : salcrop_render_padded_at(s->engine, idx, d, &img, out->data, out->linesize);
        av_frame_free(&frame);
        if (ret < 0) {
            av_log(ctx, AV_LOG_ERROR, "%s\n", salcrop_last_error());
            av_frame_free(&out);
            return AVERROR_EXTERNAL;
        }
        return ff_filter_frame(outlink, out);
    }

    ret = crop_in_place(ctx, idx, frame, d);
    if (ret < 0) {
        av_frame_free(&frame);
        return ret;
    }
    return ff_filter_frame(outlink, frame);
}

/* Whether an open output still holds a frame it has not taken. */
static int outputs_backed_up(AVFilterContext *ctx)
{
    int i;

    for (i = 0; i < ctx->nb_outputs; i++)
        if (!ff_outlink_get_status(ctx->outputs[i]) && ff_inlink_queued_frames(ctx->outputs[i]))
            return 1;
    return 0;
}

/* Whether decided frames go out one per frame in rather than as soon as
 * they are decided. A chunk's decisions come at once (2 s of frames); sent
 * at once, they filled the encoder's queue and this thread waited on it while
 * the decoder stood still, then the encoder waited for the next chunk: each
 * ran alone (issue 27: with libx264 on 2 cores, 1.53 -> 1.38x the plain
 * crop's wall time). Paced, the frames held stay at what a run usually holds
 * (more go out at once past that), and every frame waits about as long as the
 * longest wait unpaced: the same path and frames, later on average. So only a
 * stream read faster than real time (a file) is paced; a live one keeps its
 * frames leaving as soon as they are decided. */
static int paced(const SalcropContext *s)
{
    const double wall = (av_gettime_relative() - s->first_wall) / 1e6;

    return s->video_t - s->first_t > 2 * wall;
}

/* Emits up to limit frames whose decisions are ready (all with limit < 0),
 * to every output; returns how many frames or an error. A frame to read back
 * from the file goes out only once the outputs took the previous ones
 * (s->waiting until then): a chunk's decisions come at once, and reading all
 * of its frames back at once would bring them into memory together. */
static int emit_ready(AVFilterContext *ctx, int limit)
{
    SalcropContext *s = ctx->priv;
    SalcropDecision d;
    HeldFrame held;
    AVFrame *frame, *copy;
    int i, ret, nb = 0;

    s->waiting = 0;
    for (;;) {
        if (limit >= 0 && nb >= limit)
            return nb;
        if (av_fifo_peek(s->frames, &held, 1, 0) >= 0 && held.slot >= 0 && outputs_backed_up(ctx)) {
            s->waiting = 1;
            return nb;
        }
        if ((ret = salcrop_pop_at(s->engine, 0, &d)) != 1)
            break;
        if (av_fifo_read(s->frames, &held, 1) < 0 || d.frame != s->nb_emitted) {
            av_log(ctx, AV_LOG_ERROR, "decision for frame %"PRId64" does not match the next buffered "
                   "frame %"PRId64"\n", d.frame, s->nb_emitted);
            return AVERROR_BUG;
        }
        if (held.slot < 0) {
            s->nb_in_memory--;
        } else if ((ret = unspill_frame(ctx, &held)) < 0) {
            av_frame_free(&held.frame);
            return ret;
        }
        frame = held.frame;
        s->nb_emitted++;
        for (i = 0; i < s->nb_ratios && ret >= 0; i++) {
            if (i > 0 && salcrop_pop_at(s->engine, i, &d) != 1) {
                av_log(ctx, AV_LOG_ERROR, "output %d has no decision for frame %"PRId64"\n",
                       i, s->nb_emitted - 1);
                ret = AVERROR_BUG;
                break;
            }
            /* The last output takes the frame, the others a new reference. */
            copy = i + 1 < s->nb_ratios ? av_frame_clone(frame) : frame;
            if (!copy) {
                ret = AVERROR(ENOMEM);
                break;
            }
            ret = emit_frame(ctx, i, copy, &d);
            if (copy == frame)
                frame = NULL;
        }
        av_frame_free(&frame);
        if (ret < 0)
            return ret;
        nb++;
    }
    if (ret < 0) {
        av_log(ctx, AV_LOG_ERROR, "%s\n", salcrop_last_error());
        return AVERROR_EXTERNAL;
    }
    return nb;
}

/* Audio is asked for while it is behind the video, so that the two stay in
 * step (a scheduler feeds the input that asks); video frames are never held
 * for it, only the end of the stream waits for the sound of its last frame. */
static int audio_behind(const SalcropContext *s)
{
    return s->audio && !s->audio_done && s->audio_t < s->video_t + 1 / s->fps;
}

/* No more audio: the core stops waiting for it. */
static int end_audio(AVFilterContext *ctx)
{
    SalcropContext *s = ctx->priv;

    if (s->audio_done)
        return 0;
    s->audio_done = 1;
    if (s->audio) {
        ff_inlink_set_status(ctx->inputs[1], AVERROR_EOF);
        av_log(ctx, AV_LOG_VERBOSE, "audio: %"PRId64" blocks, %.3f s of sound, up to %.3f s\n",
               s->nb_audio, s->audio_heard, s->audio_t);
    }
    if (s->engine && salcrop_audio_end(s->engine) < 0) {
        av_log(ctx, AV_LOG_ERROR, "%s\n", salcrop_last_error());
        return AVERROR_EXTERNAL;
    }
    return 0;
}

/* Gives the core every audio frame queued on the audio input. A block the
 * core refuses ends the audio (with a warning): the video goes on without. */
static int consume_audio(AVFilterContext *ctx)
{
    SalcropContext *s = ctx->priv;
    AVFilterLink *alink = ctx->inputs[1];
    SalcropAudio a;
    AVFrame *frame;
    int64_t pts;
    int ret, status;
    double t;

    while (!s->audio_done && (ret = ff_inlink_consume_frame(alink, &frame)) > 0) {
        t = frame->pts != AV_NOPTS_VALUE ? frame->pts * av_q2d(alink->time_base) : s->audio_t;
        a.format      = (SalcropSampleFormat)frame->format;
        a.sample_rate = frame->sample_rate;
        a.channels    = frame->ch_layout.nb_channels;
        a.nb_samples  = frame->nb_samples;
        a.data        = (const uint8_t *const *)frame->extended_data;
        ret = salcrop_push_audio(s->engine, &a, t);
        if (frame->sample_rate > 0)
            s->audio_t = t + (double)frame->nb_samples / frame->sample_rate;
        if (ret >= 0 && frame->sample_rate > 0) {
            s->nb_audio++;
            s->audio_heard += (double)frame->nb_samples / frame->sample_rate;
        }
        av_frame_free(&frame);
        if (ret < 0) {
            av_log(ctx, AV_LOG_WARNING, "%s; the audio input is ignored from %.3f s on\n",
                   salcrop_last_error(), t);
            return end_audio(ctx);
        }
    }
    if (s->audio_done)
        return 0;
    if (ret < 0)
        return ret;
    if (ff_inlink_acknowledge_status(alink, &status, &pts))
        return end_audio(ctx);
    return 0;
}

/* With several ratios, output idx's file is the path option with the ratio
 * before its extension: path=p.json gives p.9x16.json, p.1x1.json, ... */
static char *path_name(SalcropContext *s, int idx)
{
    const char *base, *dot;
    int num, den;

    if (s->nb_ratios == 1)
        return av_strdup(s->path);
    salcrop_output_ratio_at(s->engine, idx, &num, &den);
    base = strrchr(s->path, '/');
    dot  = strrchr(base ? base : s->path, '.');
    if (!dot || dot == (base ? base + 1 : s->path))
        return av_asprintf("%s.%dx%d", s->path, num, den);
    return av_asprintf("%.*s.%dx%d%s", (int)(dot - s->path), s->path, num, den, dot);
}

static int write_path(AVFilterContext *ctx)
{
    SalcropContext *s = ctx->priv;
    const char *json;
    char *name;
    FILE *f;
    int i, ok, ret = 0;

    if (!s->path || !*s->path || !s->engine || s->path_written)
        return 0;
    s->path_written = 1;
    for (i = 0; i < s->nb_ratios && ret >= 0; i++) {
        json = salcrop_path_json_at(s->engine, i);
        name = path_name(s, i);
        if (!json || !name) {
            av_free(name);
            return json ? AVERROR(ENOMEM) : AVERROR_EXTERNAL;
        }
        f = avpriv_fopen_utf8(name, "w");
        if (!f) {
            ret = AVERROR(errno);
            av_log(ctx, AV_LOG_ERROR, "cannot write the crop path to '%s': %s\n", name, av_err2str(ret));
        } else {
            ok = fputs(json, f) >= 0 && fputc('\n', f) != EOF;
            ok = !fclose(f) && ok;
            if (!ok) {
                av_log(ctx, AV_LOG_ERROR, "error writing the crop path to '%s'\n", name);
                ret = AVERROR(EIO);
            } else {
                av_log(ctx, AV_LOG_VERBOSE, "crop path of %"PRId64" frames written to '%s'\n",
                       s->nb_emitted, name);
            }
        }
        av_free(name);
    }
    return ret;
}

/* All outputs closed (e.g. -frames:v on each): no more input is needed. */
static int all_outputs_closed(AVFilterContext *ctx)
{
    int i;

    for (i = 0; i < ctx->nb_outputs; i++)
        if (!ff_outlink_get_status(ctx->outputs[i]))
            return 0;
    return 1;
}

/* The input ended (s->eof_status) and every frame is out: the path, then
 * the status to every output. */
static int finish(AVFilterContext *ctx)
{
    SalcropContext *s = ctx->priv;
    int i, ret;

    if (s->eof_status == AVERROR_EOF) {
        if (av_fifo_can_read(s->frames)) {
            av_log(ctx, AV_LOG_ERROR, "%zu frames got no decision at the end of the stream\n",
                   av_fifo_can_read(s->frames));
            return AVERROR_BUG;
        }
        ret = write_path(ctx);
        if (ret < 0)
            return ret;
    }
    for (i = 0; i < ctx->nb_outputs; i++)
        ff_outlink_set_status(ctx->outputs[i], s->eof_status, s->eof_pts);
    return 0;
}

static int activate(AVFilterContext *ctx)
{
    SalcropContext *s = ctx->priv;
    AVFilterLink *inlink = ctx->inputs[0];
    AVFrame *frame;
    int64_t pts;
    int i, ret, status;

    if (all_outputs_closed(ctx)) {
        ff_inlink_set_status(inlink, AVERROR_EOF);
        return end_audio(ctx);
    }

    if (s->audio && !s->audio_done) {
        ret = consume_audio(ctx);
        if (ret < 0)
            return ret;
    }

    /* Frames read back from the file go out as the outputs take them; no
     * more input meanwhile, so the file does not grow past the lookahead. */
    if (s->waiting || s->eof_status) {
        ret = emit_ready(ctx, -1);
        if (ret < 0)
            return ret;
        if (s->waiting)
            return FFERROR_NOT_READY;
        if (s->eof_status)
            return finish(ctx);
    }

    if (!s->video_status) {
        ret = ff_inlink_consume_frame(inlink, &frame);
        if (ret < 0)
            return ret;
        if (ret > 0) {
            ret = push_frame(ctx, frame);
            if (ret < 0)
                return ret;
            if (paced(s)) {
                s->nb_paced++;
                ret = emit_ready(ctx, 1 + FFMAX(0, (int)av_fifo_can_read(s->frames) - s->paced_hold));
            } else {
                ret = emit_ready(ctx, -1);
            }
            if (ret < 0)
                return ret;
            if (audio_behind(s))
                ff_inlink_request_frame(ctx->inputs[1]);
            /* One frame per call keeps the graph scheduling fair; come back
             * for more input, the EOF or a request. */
            ff_filter_set_ready(ctx, 100);
            return 0;
        }
        if (ff_inlink_acknowledge_status(inlink, &status, &pts)) {
            s->video_status     = status;
            s->video_status_pts = pts;
        }
    }

    if (s->video_status) {
        status = s->video_status;
        pts    = s->video_status_pts;
        /* The last frames' sound may still be on its way: ask for it up
         * to the video's end (the audio's own end comes as its EOF). */
        if (status == AVERROR_EOF && audio_behind(s)) {
            ff_inlink_request_frame(ctx->inputs[1]);
            return 0;
        }
        /* The video's end is the end: audio after it is not needed. */
        ret = end_audio(ctx);
        if (ret < 0)
            return ret;
        if (status == AVERROR_EOF && salcrop_flush(s->engine) < 0) {
            av_log(ctx, AV_LOG_ERROR, "%s\n", salcrop_last_error());
            return AVERROR_EXTERNAL;
        }
        s->eof_status = status;
        s->eof_pts    = pts;
        ret = emit_ready(ctx, -1);
        if (ret < 0)
            return ret;
        return s->waiting ? FFERROR_NOT_READY : finish(ctx);
    }

    for (i = 0; i < ctx->nb_outputs; i++) {
        if (!ff_outlink_get_status(ctx->outputs[i]) && ff_outlink_frame_wanted(ctx->outputs[i])) {
            ff_inlink_request_frame(inlink);
            if (audio_behind(s))
                ff_inlink_request_frame(ctx->inputs[1]);
            return 0;
        }
    }
    return FFERROR_NOT_READY;
}

static av_cold int init(AVFilterContext *ctx)
{
    SalcropContext *s = ctx->priv;
    const char *c;
    int i, ret;

    s->spill_fd = -1;  /* before anything can fail: uninit closes it */
    /* One pad per item of ratios (the core checks the items themselves). */
    s->nb_ratios = 1;
    for (c = s->ratios; c && *c; c++)
        s->nb_ratios += *c == '|';
    s->out_w = av_calloc(s->nb_ratios, sizeof(*s->out_w));
    s->out_h = av_calloc(s->nb_ratios, sizeof(*s->out_h));
    if (!s->out_w || !s->out_h)
        return AVERROR(ENOMEM);
    for (i = 0; i < s->nb_ratios; i++) {
        AVFilterPad pad = {
            .type         = AVMEDIA_TYPE_VIDEO,
            .name         = s->ratios ? av_asprintf("output%d", i) : av_strdup("default"),
            .config_props = config_output,
        };

        if (!pad.name)
            return AVERROR(ENOMEM);
        if ((ret = ff_append_outpad_free_name(ctx, &pad)) < 0)
            return ret;
    }

    if (s->audio) {
        AVFilterPad pad = {
            .type = AVMEDIA_TYPE_AUDIO,
            .name = "audio",
        };

        if ((ret = ff_append_inpad(ctx, &pad)) < 0)
            return ret;
    }

    s->frames = av_fifo_alloc2(64, sizeof(HeldFrame), AV_FIFO_FLAG_AUTO_GROW);
    return s->frames ? 0 : AVERROR(ENOMEM);
}

static av_cold void uninit(AVFilterContext *ctx)
{
    SalcropContext *s = ctx->priv;
    HeldFrame held;
    const char *summary;
    int i;

    /* A run stopped early (e.g. -frames:v) never sees EOF here: still keep
     * the path of what came out. */
    write_path(ctx);
    /* What the camera did, one line per output (the path JSON has it frame
     * by frame). */
    for (i = 0; s->engine && s->nb_emitted && i < s->nb_ratios; i++)
        if ((summary = salcrop_summary_at(s->engine, i)))
            av_log(ctx, AV_LOG_INFO, "%s\n", summary);
    /* Torn down before EOF (e.g. the ffmpeg CLI rebuilds the graph on a
     * size change): the frames awaiting a decision cannot come out. */
    if (s->frames && av_fifo_can_read(s->frames))
        av_log(ctx, AV_LOG_WARNING, "%zu frames were still waiting for their crop decision "
               "and are dropped (the stream did not end here; on a size change, "
               "-reinit_filter 0 with scale=%d:%d before salcrop keeps every frame)\n",
               av_fifo_can_read(s->frames), s->in_w, s->in_h);
    if (s->frames) {
        while (av_fifo_read(s->frames, &held, 1) >= 0)
            av_frame_free(&held.frame);
        av_fifo_freep2(&s->frames);
    }
    if (s->nb_spilled)
        av_log(ctx, AV_LOG_INFO, "max_memory: %"PRId64" of %"PRId64" frames waited for their decision in a "
               "temporary file (%"PRId64" MB at most; %d stayed in memory)\n", s->nb_spilled, s->nb_pushed,
               s->nb_slots * s->frame_bytes >> 20, s->frames_in_memory);
    if (s->nb_pushed)
        av_log(ctx, AV_LOG_VERBOSE, "%"PRId64" of %"PRId64" frames came faster than real time: decided "
               "frames went out one per frame in then (up to %d held), else as soon as decided\n",
               s->nb_paced, s->nb_pushed, s->paced_hold);
    if (s->spill_fd >= 0)
        close(s->spill_fd);
    s->spill_fd = -1;
    av_freep(&s->free_slots);
    salcrop_destroy(s->engine);
    s->engine = NULL;
    av_frame_free(&s->reduced);
    av_freep(&s->out_w);
    av_freep(&s->out_h);
}

#define OFFSET(x) offsetof(SalcropContext, x)
#define FLAGS AV_OPT_FLAG_FILTERING_PARAM|AV_OPT_FLAG_VIDEO_PARAM

/* Ranges are deliberately wide: the core validates every value and names
 * the allowed range, the same way for FFmpeg and for Python. */
static const AVOption salcrop_options[] = {
    { "ratio",           "target aspect ratio: W/H, W:H or a decimal, e.g. 9/16, 4/5, 1, 0.5625",
      OFFSET(ratio),           AV_OPT_TYPE_STRING, { .str = "9/16" },  0, 0, FLAGS },
    { "ratios",          "several target ratios from one pass, e.g. 9/16|1|4/5: one output each, in order (replaces ratio)",
      OFFSET(ratios),          AV_OPT_TYPE_STRING, { .str = NULL },    0, 0, FLAGS },
    { "model",           "saliency model (.onnx); empty for the bundled model",
      OFFSET(model),           AV_OPT_TYPE_STRING, { .str = "" },      0, 0, FLAGS },
    { "device",          "inference device: auto, cpu or cuda",
      OFFSET(device),          AV_OPT_TYPE_STRING, { .str = "auto" },  0, 0, FLAGS },
    { "mode",            "camera mode per shot: auto, stationary, pan or track",
      OFFSET(mode),            AV_OPT_TYPE_STRING, { .str = "auto" },  0, 0, FLAGS },
    { "stride",          "run the model every n-th frame while the picture changes (every 0.5 s while it is still), interpolate between (-1 = core default)",
      OFFSET(stride),          AV_OPT_TYPE_INT,    { .i64 = -1 },      -1, INT_MAX, FLAGS },
    { "lookahead",       "seconds of future the camera planner may see (-1 = core default)",
      OFFSET(lookahead),       AV_OPT_TYPE_DOUBLE, { .dbl = -1 },      -1, DBL_MAX, FLAGS },
    { "scene_threshold", "shot cut sensitivity, higher finds fewer cuts, 0 disables (-1 = core default)",
      OFFSET(scene_threshold), AV_OPT_TYPE_DOUBLE, { .dbl = -1 },      -1, DBL_MAX, FLAGS },
    { "smoothing",       "camera smoothing from 0 to 1, higher is calmer (-1 = core default)",
      OFFSET(smoothing),       AV_OPT_TYPE_DOUBLE, { .dbl = -1 },      -1, DBL_MAX, FLAGS },
    { "pad",             "when the subject cannot fit the window: none, blur or black",
      OFFSET(pad),             AV_OPT_TYPE_STRING, { .str = "none" },  0, 0, FLAGS },
    { "threads",         "CPU inference threads (0 = automatic: one non-spinning thread)",
      OFFSET(threads),         AV_OPT_TYPE_INT,    { .i64 = 0 },       0, INT_MAX, FLAGS },
    { "keyframes",       "JSON file of keyframes [{\"t\": s or \"frame\": n, \"x\": px, \"y\": px}]: the window's centre is pinned there",
      OFFSET(keyframes),       AV_OPT_TYPE_STRING, { .str = NULL },    0, 0, FLAGS },
    { "subjects",        "JSON file of picked subjects [{\"t\": s or \"frame\": n, \"box\": [x, y, w, h]}]: each is tracked through its shot and kept inside the window",
      OFFSET(subjects),        AV_OPT_TYPE_STRING, { .str = NULL },    0, 0, FLAGS },
    { "path",            "write the crop path as JSON to this file (with ratios: one per ratio, p.json -> p.9x16.json, ...)",
      OFFSET(path),            AV_OPT_TYPE_STRING, { .str = NULL },    0, 0, FLAGS },
    { "debug",           "output full frames with the saliency map and the window drawn",
      OFFSET(debug),           AV_OPT_TYPE_BOOL,   { .i64 = 0 },       0, 1, FLAGS },
    { "projection",      "input projection: flat (crop) or equirect (360-degree: render a perspective view); unset: flat, refusing frames marked as equirectangular",
      OFFSET(projection),      AV_OPT_TYPE_STRING, { .str = NULL },    0, 0, FLAGS },
    { "fov",             "equirect: the view's horizontal field of view in degrees, 30 to 120",
      OFFSET(fov),             AV_OPT_TYPE_DOUBLE, { .dbl = 90 },      -DBL_MAX, DBL_MAX, FLAGS },
    { "size",            "equirect: output size WxH (default: the source's angular resolution at the view's centre)",
      OFFSET(view_w),          AV_OPT_TYPE_IMAGE_SIZE, { .str = NULL }, 0, 0, FLAGS },
    { "stereo",          "equirect: mono, tb (top-bottom: the top eye is used) or sbs (side by side: the left eye)",
      OFFSET(stereo),          AV_OPT_TYPE_STRING, { .str = "mono" },  0, 0, FLAGS },
    { "max_memory",      "MB the frames awaiting their decision may take in memory; the others wait in a temporary file (0 = core default, < 0 = no budget)",
      OFFSET(max_memory),      AV_OPT_TYPE_DOUBLE, { .dbl = 0 },       -DBL_MAX, DBL_MAX, FLAGS },
    { "speakers",        "auto: faces count and the camera follows who speaks (equirect: faces pull the view); off: saliency alone (default: auto with audio=1 or projection=equirect, else off)",
      OFFSET(speakers),        AV_OPT_TYPE_STRING, { .str = NULL },   0, 0,      FLAGS },
    { "front",           "equirect: weight of the front prior from 0 (saliency alone) to 1 (viewers mostly face the front; -1 = core default)",
      OFFSET(front),           AV_OPT_TYPE_DOUBLE, { .dbl = -1 },      -DBL_MAX, DBL_MAX, FLAGS },
    { "audio", "take a second input, audio, to hear who speaks (analysis only; [0:v][0:a]salcrop=audio=1)",
      OFFSET(audio),           AV_OPT_TYPE_BOOL,   { .i64 = 0 },       0, 1, FLAGS },
    { NULL }
};

AVFILTER_DEFINE_CLASS(salcrop);

static const AVFilterPad salcrop_inputs[] = {
    {
        .name         = "default",
        .type         = AVMEDIA_TYPE_VIDEO,
        .config_props = config_input,
    },
};

const AVFilter ff_vf_salcrop = {
    .name          = "salcrop",
    .description   = NULL_IF_CONFIG_SMALL("Reframe video to an aspect ratio, following predicted saliency."),
    .priv_size     = sizeof(SalcropContext),
    .priv_class    = &salcrop_class,
    .init          = init,
    .uninit        = uninit,
    .activate      = activate,
    .flags         = AVFILTER_FLAG_DYNAMIC_INPUTS | AVFILTER_FLAG_DYNAMIC_OUTPUTS,
    FILTER_INPUTS(salcrop_inputs),
    .outputs       = NULL,  /* one per ratio, made in init() */
    FILTER_QUERY_FUNC(query_formats),
};
