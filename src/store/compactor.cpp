#include "store/compactor.hpp"

#include <chrono>

#include "ops/log.hpp"

namespace waitroom::store {

namespace {
constexpr auto kDueCheckEvery = std::chrono::seconds(1);
constexpr auto kRetryFailedAfter = std::chrono::seconds(10);
}  // namespace

Compactor::Compactor(Run run, Due due) : run_(std::move(run)), due_(std::move(due)) {}

Compactor::~Compactor() { stop(); }

void Compactor::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopped_) return;
  thread_ = std::jthread([this](std::stop_token stop) { loop(stop); });
}

void Compactor::stop() {
  std::vector<Waiter> left;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    left.swap(waiters_);
  }
  if (thread_.joinable()) {
    thread_.request_stop();
    wake_.notify_all();
    thread_.join();
  }
  for (Waiter& w : left) w(core::fail(core::ErrorCode::unavailable, "the server is stopping", 5));
}

void Compactor::add_waiter(Waiter waiter) {
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      waiters_.push_back(std::move(waiter));
      wake_.notify_all();
      return;
    }
  }
  waiter(core::fail(core::ErrorCode::unavailable, "the server is stopping", 5));
}

void Compactor::loop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    wake_.wait_for(lock, stop, kDueCheckEvery, [&] { return !waiters_.empty(); });
    if (stop.stop_requested()) break;
    std::vector<Waiter> waiting;
    waiting.swap(waiters_);
    lock.unlock();
    const bool automatic = waiting.empty();
    if (automatic && (std::chrono::steady_clock::now() < automatic_after_ || !due_())) {
      lock.lock();
      continue;
    }
    auto report = run_(automatic);
    if (report && automatic && report->rooms == 0) {  // nothing was due after all
      lock.lock();
      continue;
    }
    if (report) {
      report->automatic = automatic;
      ops::log_info("compacted the log", {{"automatic", automatic},
                                          {"rooms", report->rooms},
                                          {"bytes_before", report->bytes_before},
                                          {"bytes_after", report->bytes_after},
                                          {"records_before", report->records_before},
                                          {"records_after", report->records_after},
                                          {"took_ms", report->took_ms}});
    } else {
      ops::log_warn("compaction failed; the log is unchanged",
                    {{"automatic", automatic}, {"error", report.error().detail}});
      // A failing disk (or, on Redis, a room busy on another node) is not tried again every second.
      if (automatic) automatic_after_ = std::chrono::steady_clock::now() + kRetryFailedAfter;
    }
    for (Waiter& w : waiting) w(report);
    lock.lock();
    if (report) {
      ++completed_;
      last_ = *report;
    } else {
      ++failed_;
    }
  }
}

void Compactor::render_metrics(std::string& out) const {
  std::lock_guard lock(mu_);
  out.append(
         "# HELP waitroom_compactions_total Compactions of the store's log, by outcome.\n"
         "# TYPE waitroom_compactions_total counter\nwaitroom_compactions_total{result=\"ok\"} ")
      .append(std::to_string(completed_))
      .append("\nwaitroom_compactions_total{result=\"failed\"} ")
      .append(std::to_string(failed_))
      .append(
          "\n# HELP waitroom_compaction_last_seconds How long the last compaction took.\n"
          "# TYPE waitroom_compaction_last_seconds gauge\nwaitroom_compaction_last_seconds ")
      .append(std::to_string(static_cast<double>(last_.took_ms) / 1000.0))
      .append("\n");
}

}  // namespace waitroom::store
