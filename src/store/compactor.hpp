#pragma once
// Runs a storage's compaction on a thread of its own: by itself when the storage says it is due
// (its log grew by [store] compact_after_mb since the last one), and when an operator asks
// (POST /admin/v1/compact). One at a time; requests that arrive while one runs share the next.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace waitroom::store {

// What one compaction did (the admin API's answer, the log line, the metrics).
struct CompactionReport {
  std::uint64_t rooms = 0;  // snapshots written
  std::uint64_t bytes_before = 0, bytes_after = 0;
  std::uint64_t records_before = 0, records_after = 0;
  std::int64_t took_ms = 0;
  bool automatic = false;  // started by the size trigger, not by an operator
};

class Compactor {
 public:
  // `automatic`: started because `due` said so, not by a request.
  using Run = std::function<core::Result<CompactionReport>(bool automatic)>;
  using Due = std::function<bool()>;
  // `due` is asked about once a second.
  Compactor(Run run, Due due);
  ~Compactor();
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  void start();
  void stop();  // waits for a compaction that is running

  // Compacts now (or right after the running one) and resumes the caller on its own executor
  // with the report.
  boost::asio::awaitable<core::Result<CompactionReport>> request() {
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                       void(core::Result<CompactionReport>)>(
        [this](auto handler) {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          add_waiter([shared](core::Result<CompactionReport> r) {
            auto ex = boost::asio::get_associated_executor(*shared);
            boost::asio::post(
                ex, [shared, r = std::move(r)]() mutable { std::move (*shared)(std::move(r)); });
          });
        },
        boost::asio::use_awaitable);
  }

  // Its lines of /metrics (Prometheus text).
  void render_metrics(std::string& out) const;

 private:
  using Waiter = std::function<void(core::Result<CompactionReport>)>;
  void add_waiter(Waiter waiter);
  void loop(std::stop_token stop);

  Run run_;
  Due due_;
  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  std::vector<Waiter> waiters_;
  std::uint64_t completed_ = 0;
  std::uint64_t failed_ = 0;
  CompactionReport last_;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point automatic_after_{};  // the loop's thread only
  std::jthread thread_;
};

}  // namespace waitroom::store
