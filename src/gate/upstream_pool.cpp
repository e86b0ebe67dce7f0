#include "gate/upstream_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace waitroom::gate {

namespace {

// Open and quiet: nothing to read and no end of stream. An upstream that closed the connection
// (or sent bytes nobody asked for) makes it unusable.
bool looks_open(boost::asio::ip::tcp::socket& socket) {
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::optional<UpstreamConnection> UpstreamPool::take(std::size_t upstream) {
  auto& idle = idle_[upstream];
  const auto now = std::chrono::steady_clock::now();
  while (!idle.empty()) {
    Idle last = std::move(idle.back());
    idle.pop_back();
    if (now - last.since < kIdleTimeoutS && looks_open(last.connection.socket))
      return std::move(last.connection);
    // Otherwise `last` closes here; so do older ones on later calls or in put().
  }
  return std::nullopt;
}

void UpstreamPool::put(std::size_t upstream, UpstreamConnection connection) {
  auto& idle = idle_[upstream];
  const auto now = std::chrono::steady_clock::now();
  while (!idle.empty() &&
         (idle.size() >= kMaxIdlePerUpstream || now - idle.front().since >= kIdleTimeoutS))
    idle.pop_front();
  idle.push_back(Idle{std::move(connection), now});
}

}  // namespace waitroom::gate
