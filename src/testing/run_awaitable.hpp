#pragma once
// Test-only: runs a test body written as a coroutine on its own single-threaded io_context, with
// a time limit, then checks that nothing was left running (no timer, socket or coroutine that
// outlives its owner). ASSERT_* cannot be used in a coroutine (it returns, not co_returns): use
// EXPECT_* and CO_ASSERT_TRUE.
#include <gtest/gtest.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <functional>

#define CO_ASSERT_TRUE(condition)                     \
  if (!(condition)) {                                 \
    ADD_FAILURE() << "Assertion failed: " #condition; \
    co_return;                                        \
  }

namespace waitroom::testing {

// `body(executor)` must return boost::asio::awaitable<void>.
template <class Body>
void run_awaitable(Body&& body, std::chrono::seconds limit = std::chrono::seconds(30)) {
  boost::asio::io_context io;
  bool done = false;
  std::exception_ptr error;
  boost::asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(done) << "the test body did not finish within " << limit.count() << " s";
  if (error) std::rethrow_exception(error);
  // What the body started must end soon after it (closed sockets, cancelled timers).
  io.run_for(std::chrono::seconds(2));
  EXPECT_TRUE(io.stopped()) << "work was left running after the test body finished";
}

inline boost::asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

// Polls `done()` every 10 ms until it holds (true) or `limit` passes (false). Pass a named
// lambda: a lambda written inside a co_await expression miscompiles with g++ 12.
template <class Predicate>
boost::asio::awaitable<bool> wait_until(const Predicate& done,
                                        std::chrono::steady_clock::duration limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    co_await sleep_for(std::chrono::milliseconds(10));
  }
  co_return true;
}

}  // namespace waitroom::testing
