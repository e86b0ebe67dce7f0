#include "store/history_sampler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <set>

#include "ops/log.hpp"

namespace waitroom::store {

namespace asio = boost::asio;

namespace {
// Ended minutes held while the archive refuses them (Redis away, a full disk): a day of a
// hundred rooms; beyond that the oldest go.
constexpr std::size_t kMaxUnkeptMinutes = 144'000;
}  // namespace

HistorySampler::HistorySampler(Store& store, RoomHistory& history, const core::Clock& clock,
                               HistoryArchive* archive)
    : store_(store), history_(history), clock_(clock), archive_(archive) {}

HistorySampler::~HistorySampler() { stop(); }

void HistorySampler::sample_once() {
  // Store operations are coroutines; the embedded store's rooms() completes without waiting, so
  // a private io_context runs it to the end here.
  asio::io_context ctx;
  std::optional<core::Result<std::vector<RoomStats>>> rooms;
  asio::co_spawn(ctx, store_.all_room_stats(),
                 [&rooms](std::exception_ptr e, core::Result<std::vector<RoomStats>> r) {
                   if (!e) rooms.emplace(std::move(r));
                 });
  ctx.run();
  if (!rooms || !*rooms) return;
  const std::int64_t at_ms = clock_.now_ms();
  const std::vector<HistorySample> samples = history_.record(**rooms, at_ms);
  if (archive_) keep_minutes(**rooms, samples, at_ms);
}

void HistorySampler::keep_minutes(const std::vector<RoomStats>& rooms,
                                  const std::vector<HistorySample>& samples, std::int64_t at_ms) {
  std::vector<std::string> names;
  for (const RoomStats& room : rooms) names.push_back(room.view.name);
  const std::set<std::string_view> listed(names.begin(), names.end());
  for (auto it = minutes_.begin(); it != minutes_.end();) {
    if (listed.contains(it->first)) {
      ++it;
      continue;
    }
    std::erase_if(unkept_, [&](const RoomMinute& m) { return m.room == it->first; });
    if (auto r = archive_->forget(it->first, at_ms); !r)
      ops::log_warn("cannot drop a deleted room's history",
                    {{"room", it->first}, {"error", r.error().detail}});
    it = minutes_.erase(it);
  }
  // At the first sample and once a day: old days go, and rooms deleted while this was not
  // running.
  if (pruned_day_ != day_of(at_ms)) {
    pruned_day_ = day_of(at_ms);
    if (auto r = archive_->prune(at_ms, names); !r)
      ops::log_warn("cannot prune the history", {{"error", r.error().detail}});
  }
  for (std::size_t i = 0; i < rooms.size() && i < samples.size(); ++i) {
    const std::string& name = rooms[i].view.name;
    auto [it, added] = minutes_.try_emplace(name);
    if (added) {
      // Counting goes on from the last minute kept (before a restart, or by another node).
      auto latest = archive_->latest(name, at_ms);
      if (latest && *latest) it->second.seed(**latest);
    }
    if (auto ended = it->second.add(samples[i], &rooms[i].waits)) unkept_.push_back({name, *ended});
  }
  if (unkept_.empty()) return;
  if (auto r = archive_->append(unkept_); !r) {
    if (!failing_)
      ops::log_warn("cannot keep the history's minutes", {{"error", r.error().detail}});
    failing_ = true;
    if (unkept_.size() > kMaxUnkeptMinutes)
      unkept_.erase(unkept_.begin(), unkept_.begin() + static_cast<std::ptrdiff_t>(
                                                           unkept_.size() - kMaxUnkeptMinutes));
    return;
  }
  if (failing_) ops::log_info("the history's minutes are kept again");
  failing_ = false;
  unkept_.clear();
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
