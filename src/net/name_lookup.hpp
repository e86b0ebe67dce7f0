#pragma once
// A host name's addresses within a deadline, for the clients Waitroom makes its own calls with
// (net/http_client.hpp, net/smtp_client.hpp). getaddrinfo can be neither cancelled nor given a
// deadline, and Asio's resolver waits for it when cancelled or destroyed, so a DNS server that
// does not answer would hold a call past its timeout, and abort() with it. Here the lookup runs on
// a thread of its own; the caller stops waiting at the deadline or on wake(), and the detached
// lookup finishes in its own time, its answer dropped.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace waitroom::net {

class NameLookup {
 public:
  // The addresses of `host` (an IP address is its own) for `port`. Errors: the resolver's, or
  // asio::error::timed_out at `deadline`, or operation_aborted once `aborted` is set and wake()
  // is called. One call at a time.
  boost::system::error_code resolve(const std::string& host, std::uint16_t port,
                                    std::chrono::steady_clock::time_point deadline,
                                    const std::atomic<bool>& aborted,
                                    std::vector<boost::asio::ip::tcp::endpoint>& out);
  // Any thread: a resolve() waiting looks at `aborted` again now.
  void wake();

 private:
  struct Pending;
  std::mutex mutex_;  // guards pending_, which wake() wakes
  std::shared_ptr<Pending> pending_;
};

}  // namespace waitroom::net
