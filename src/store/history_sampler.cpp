#include "store/history_sampler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>

namespace waitroom::store {

namespace asio = boost::asio;

HistorySampler::HistorySampler(Store& store, RoomHistory& history, const core::Clock& clock)
    : store_(store), history_(history), clock_(clock) {}

HistorySampler::~HistorySampler() { stop(); }

void HistorySampler::sample_once() {
  // Store operations are coroutines; the embedded store's rooms() completes without waiting, so
  // a private io_context runs it to the end here.
  asio::io_context ctx;
  std::optional<core::Result<std::vector<RoomView>>> rooms;
  asio::co_spawn(ctx, store_.rooms(),
                 [&rooms](std::exception_ptr e, core::Result<std::vector<RoomView>> r) {
                   if (!e) rooms.emplace(std::move(r));
                 });
  ctx.run();
  if (rooms && *rooms) history_.record(**rooms, clock_.now_ms());
}

void HistorySampler::start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    const auto interval = std::chrono::milliseconds(history_.interval_ms());
    auto next = std::chrono::steady_clock::now();
    while (!stop.stop_requested()) {
      sample_once();
      // Steps on a fixed grid, so sampling time does not stretch the interval; after a stall
      // (a suspended machine) it starts again from now rather than catching up.
      next += interval;
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now + interval;
      std::unique_lock lock(mu_);
      wake_.wait_until(lock, stop, next, [] { return false; });
    }
  });
}

void HistorySampler::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

}  // namespace waitroom::store
