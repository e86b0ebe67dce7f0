#include "net/name_lookup.hpp"

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <system_error>
#include <thread>

namespace waitroom::net {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

struct NameLookup::Pending {
  std::mutex mutex;
  std::condition_variable done_or_woken;
  bool done = false;
  error_code ec;
  std::vector<tcp::endpoint> endpoints;
};

error_code NameLookup::resolve(const std::string& host, std::uint16_t port,
                               std::chrono::steady_clock::time_point deadline,
                               const std::atomic<bool>& aborted, std::vector<tcp::endpoint>& out) {
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) {  // nothing to look up
    out.emplace_back(address, port);
    return {};
  }
  ec.clear();
  auto pending = std::make_shared<Pending>();
  {
    std::lock_guard lock(mutex_);
    pending_ = pending;
  }
  try {
    std::thread([pending, host, port = std::to_string(port)] {
      asio::io_context resolver_ioc;
      tcp::resolver resolver(resolver_ioc);
      error_code e;
      const auto results = resolver.resolve(host, port, e);
      std::lock_guard lock(pending->mutex);
      pending->ec = e;
      for (const auto& entry : results) pending->endpoints.push_back(entry.endpoint());
      pending->done = true;
      pending->done_or_woken.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    ec = e.code();
  }
  if (!ec) {
    std::unique_lock lock(pending->mutex);
    const bool done = pending->done_or_woken.wait_until(
        lock, deadline, [&] { return pending->done || aborted.load(); });
    if (aborted)
      ec = asio::error::operation_aborted;
    else if (!done)
      ec = asio::error::timed_out;
    else if (pending->ec)
      ec = pending->ec;
    else
      out = std::move(pending->endpoints);
  }
  std::lock_guard lock(mutex_);
  pending_.reset();
  return ec;
}

void NameLookup::wake() {
  std::lock_guard lock(mutex_);
  if (pending_) {
    std::lock_guard pending_lock(pending_->mutex);
    pending_->done_or_woken.notify_all();
  }
}

}  // namespace waitroom::net
