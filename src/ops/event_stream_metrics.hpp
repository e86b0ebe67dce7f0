#pragma once
// The Server-Sent Events streams' counts, in Prometheus text format: how many are open, how many
// status messages went out, how many were refused at the limit or dropped as too slow. Lock-free:
// relaxed atomics, written from every I/O thread.
#include <atomic>
#include <cstdint>
#include <string>

namespace waitroom::ops {

class EventStreamMetrics {
 public:
  // Counts a new stream unless `limit` are open already (then counts a refusal): true if opened.
  bool try_open(std::uint64_t limit);
  void closed() { open_.fetch_sub(1, std::memory_order_relaxed); }
  void sent(std::uint64_t messages) { messages_.fetch_add(messages, std::memory_order_relaxed); }
  void dropped() { dropped_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t open() const { return open_.load(std::memory_order_relaxed); }
  void render(std::string& out) const;

 private:
  std::atomic<std::uint64_t> open_{0};
  std::atomic<std::uint64_t> opened_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace waitroom::ops
