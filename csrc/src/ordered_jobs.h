// The workers' shared hand-back (saliency_worker.h, face_worker.h): each keeps its jobs in a deque, oldest first,
// runs them in order on its thread, and gives the results back strictly in push order, so nothing downstream
// depends on timing.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>

namespace salcrop {

// Pops the oldest job (jobs must not be empty) once it is done: waits for it when wait, else returns nullopt while
// it runs. lock holds the worker's mutex; it is released before the job's error, if any, is rethrown. next: the
// index of the next job to run, which the pop shifts down by one. Job has `bool done` and `std::exception_ptr error`.
template <typename Job>
std::optional<Job> take_oldest(std::unique_lock<std::mutex> &lock, std::deque<Job> &jobs, size_t &next,
                               std::condition_variable &done_cv, bool wait)
{
    if (!jobs.front().done) {
        if (!wait)
            return std::nullopt;
        done_cv.wait(lock, [&jobs] { return jobs.front().done; });
    }
    std::optional<Job> job(std::move(jobs.front()));
    jobs.pop_front();
    next--;
    lock.unlock();
    if (job->error)
        std::rethrow_exception(job->error);
    return job;
}

}  // namespace salcrop
