#pragma once
// Idle keep-alive connections to the proxy's upstreams. One pool per I/O thread: only that
// thread's coroutines touch it, so it needs no lock, and its sockets belong to that thread's
// io_context. The most recently used connection goes out first (the least likely to have been
// closed by the upstream); connections idle for longer than kIdleTimeoutS, or beyond
// kMaxIdlePerUpstream, are closed.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

namespace waitroom::gate {

// A connection to an upstream and its read buffer, which lives as long as the connection.
struct UpstreamConnection {
  boost::asio::ip::tcp::socket socket;
  boost::beast::flat_buffer buffer;
};

class UpstreamPool {
 public:
  static constexpr std::size_t kMaxIdlePerUpstream = 256;
  static constexpr std::chrono::seconds kIdleTimeoutS{30};

  explicit UpstreamPool(std::size_t upstreams) : idle_(upstreams) {}
  // An idle connection to `upstream` that still looks open (the upstream has not closed it), or
  // nullopt. The check is one non-blocking peek; an upstream may still close the connection just
  // after it, which the proxy survives by retrying once.
  std::optional<UpstreamConnection> take(std::size_t upstream);
  // Keeps a connection whose last exchange ended cleanly, for the next request to `upstream`.
  void put(std::size_t upstream, UpstreamConnection connection);
  std::size_t idle(std::size_t upstream) const { return idle_[upstream].size(); }

 private:
  struct Idle {
    UpstreamConnection connection;
    std::chrono::steady_clock::time_point since;
  };
  std::vector<std::deque<Idle>> idle_;  // per upstream; oldest at the front
};

}  // namespace waitroom::gate
