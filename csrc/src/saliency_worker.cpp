#include "saliency_worker.h"

#include <algorithm>
#include <stdexcept>

namespace salcrop {

SaliencyWorker::SaliencyWorker(SaliencyModel &model)
    : model_(model), state_(model.state_floats(), 0.0f), state_next_(model.state_floats(), 0.0f),
      thread_([this] { loop(); })
{
}

SaliencyWorker::~SaliencyWorker()
{
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    work_cv_.notify_all();
    thread_.join();
}

void SaliencyWorker::submit(const std::vector<uint8_t> &input, bool first)
{
    Job job;
    job.input = input;
    job.first = first;
    {
        std::lock_guard<std::mutex> lock(mu_);
        jobs_.push_back(std::move(job));
    }
    work_cv_.notify_one();
}

bool SaliencyWorker::take(std::vector<float> &map, bool wait)
{
    std::unique_lock<std::mutex> lock(mu_);
    if (jobs_.empty())
        throw std::logic_error("SaliencyWorker::take: no job was submitted");
    std::optional<Job> job = take_oldest(lock, jobs_, next_, done_cv_, wait);
    if (!job)
        return false;
    map.swap(job->map);
    return true;
}

void SaliencyWorker::loop()
{
    const size_t limit = size_t(std::max(1, model_.batch_limit()));
    std::vector<Job *> batch;
    for (;;) {
        batch.clear();
        {
            std::unique_lock<std::mutex> lock(mu_);
            work_cv_.wait(lock, [this] { return stop_ || next_ < jobs_.size(); });
            if (stop_)
                return;
            for (size_t k = next_; k < jobs_.size() && batch.size() < limit; k++)
                batch.push_back(&jobs_[k]);
        }
        try {
            if (model_.batch_limit() > 1)
                run_batch(batch);
            else
                run(*batch.front());
        } catch (...) {
            for (Job *job : batch)
                job->error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(mu_);
            for (Job *job : batch)
                job->done = true;
            next_ += batch.size();
        }
        done_cv_.notify_all();
    }
}

void SaliencyWorker::run_batch(const std::vector<Job *> &jobs)
{
    const size_t ff = model_.frame_floats(), n = jobs.size();
    batch_input_.resize(n * ff);
    batch_first_.resize(n);
    for (size_t j = 0; j < n; j++) {
        const std::vector<uint8_t> &in = jobs[j]->input;
        float *dst = batch_input_.data() + j * ff;
        for (size_t k = 0; k < ff; k++)
            dst[k] = in[k] * (1.0f / 255.0f);
        batch_first_[j] = jobs[j]->first;
    }
    batch_maps_.resize(n * model_.map_floats());
    prev_input_.resize(ff);
    model_.run_sequence(batch_input_.data(), prev_input_.data(), batch_first_.data(), int(n), batch_maps_.data());
    std::copy(batch_input_.end() - ff, batch_input_.end(), prev_input_.begin());
    for (size_t j = 0; j < n; j++)
        jobs[j]->map.assign(batch_maps_.begin() + j * model_.map_floats(),
                            batch_maps_.begin() + (j + 1) * model_.map_floats());
}

void SaliencyWorker::run(Job &job)
{
    input_.resize(job.input.size());
    for (size_t k = 0; k < job.input.size(); k++)
        input_[k] = job.input[k] * (1.0f / 255.0f);
    if (job.first)
        std::fill(state_.begin(), state_.end(), 0.0f);
    const std::vector<float> &prev = job.first ? input_ : prev_input_;
    job.map.resize(model_.map_floats());
    model_.run(input_.data(), prev.data(), state_.data(), 1, job.map.data(), state_next_.data());
    std::swap(state_, state_next_);
    std::swap(prev_input_, input_);
}

}  // namespace salcrop
