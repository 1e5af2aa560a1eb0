// The model on a thread of its own. In a video pipeline the network is most of the engine's work; run inline it
// made the thread that calls push() the slowest stage of ffmpeg's pipeline while the other core idled
// (BENCHMARKS.md). Jobs run strictly in submission order and the temporal state is carried from one to the
// next exactly as an inline run would, so the maps, and every decision made from them, do not depend on timing.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "model.h"
#include "ordered_jobs.h"

namespace salcrop {

class SaliencyWorker {
public:
    explicit SaliencyWorker(SaliencyModel &model);
    ~SaliencyWorker();  // stops after the running job and joins
    SaliencyWorker(const SaliencyWorker &) = delete;
    SaliencyWorker &operator=(const SaliencyWorker &) = delete;

    // Queues one sample: the model input as bytes (0..255, model_.frame_floats() of them). first: a shot's first
    // sample, whose state starts at zero and whose previous frame is itself.
    void submit(const std::vector<uint8_t> &input, bool first);
    // The map of the oldest job not yet taken, into `map`. wait=false returns false when it is not finished yet.
    // Rethrows the job's error. Throws std::logic_error when nothing was submitted.
    bool take(std::vector<float> &map, bool wait);

private:
    struct Job {
        std::vector<uint8_t> input;
        bool first = false;
        bool done = false;
        std::vector<float> map;
        std::exception_ptr error;
    };
    void loop();
    void run(Job &job);
    // Batching (model_.batch_limit() > 1): the jobs already queued, up to the limit, in one run_sequence call.
    // It never waits for more jobs than are queued, so the engine's lookahead and order are those of one at a
    // time; the state is carried inside the model from each batch's last sample to the next batch's first.
    void run_batch(const std::vector<Job *> &jobs);

    SaliencyModel &model_;
    mutable std::mutex mu_;
    std::condition_variable work_cv_, done_cv_;
    std::deque<Job> jobs_;  // oldest first; jobs_[next_] is the next to run (references stay valid: only
    size_t next_ = 0;       // finished jobs are erased, from the front)
    bool stop_ = false;
    // Touched by the worker thread only.
    std::vector<float> input_, prev_input_, state_, state_next_;
    std::vector<float> batch_input_, batch_maps_;
    std::vector<uint8_t> batch_first_;
    std::thread thread_;  // last: starts once everything above exists
};

}  // namespace salcrop
