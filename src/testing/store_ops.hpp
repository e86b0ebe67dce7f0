#pragma once
// Test-only: what store tests share — a pass minter that needs no keys, and a store operation run
// to its end on an io_context of its own.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/pass_minter.hpp"

namespace waitroom::testing {

// Passes are "pass-ROOM-POSITION-N", N counting every pass minted, so two signatures of one
// ticket differ as ES256 signatures do.
class CountingMinter final : public core::PassMinter {
 public:
  core::Result<std::string> mint(const core::PassRequest& r) const override {
    return "pass-" + r.room + "-" + std::to_string(r.position) + "-" + std::to_string(++minted_);
  }
  mutable int minted_ = 0;
};

template <class T>
core::Result<T> run(boost::asio::awaitable<core::Result<T>> op) {
  boost::asio::io_context ctx;
  std::optional<core::Result<T>> out;
  boost::asio::co_spawn(ctx, std::move(op), [&](std::exception_ptr e, core::Result<T> r) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(r));
  });
  ctx.run();
  return std::move(*out);
}

}  // namespace waitroom::testing
