#include "gate/upstream_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <thread>

namespace waitroom::gate {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A connected pair on loopback: the pool's side and the upstream's side.
struct Pair {
  tcp::socket ours;
  tcp::socket theirs;
};

Pair connect_pair(asio::io_context& ctx, tcp::acceptor& acceptor) {
  tcp::socket ours(ctx);
  ours.connect(acceptor.local_endpoint());
  tcp::socket theirs = acceptor.accept();
  return Pair{std::move(ours), std::move(theirs)};
}

TEST(UpstreamPool, GivesBackOpenConnectionsNewestFirst) {
  asio::io_context ctx;
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  UpstreamPool pool(2);
  EXPECT_FALSE(pool.take(0));
  Pair a = connect_pair(ctx, acceptor);
  Pair b = connect_pair(ctx, acceptor);
  const auto b_port = b.ours.local_endpoint().port();
  pool.put(0, UpstreamConnection{std::move(a.ours), {}});
  pool.put(0, UpstreamConnection{std::move(b.ours), {}});
  EXPECT_EQ(pool.idle(0), 2u);
  EXPECT_EQ(pool.idle(1), 0u);
  auto taken = pool.take(0);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->socket.local_endpoint().port(), b_port);
  EXPECT_FALSE(pool.take(1));  // pools are per upstream
}

TEST(UpstreamPool, DropsConnectionsTheUpstreamClosedOrWroteOn) {
  asio::io_context ctx;
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  UpstreamPool pool(1);
  Pair closed = connect_pair(ctx, acceptor);
  Pair chatty = connect_pair(ctx, acceptor);
  pool.put(0, UpstreamConnection{std::move(closed.ours), {}});
  pool.put(0, UpstreamConnection{std::move(chatty.ours), {}});
  closed.theirs.close();
  asio::write(chatty.theirs, asio::buffer("HTTP/1.1 408 Request Timeout\r\n\r\n", 32));
  std::this_thread::sleep_for(
      std::chrono::milliseconds(50));  // loopback delivers the FIN and bytes
  EXPECT_FALSE(pool.take(0));
  EXPECT_EQ(pool.idle(0), 0u);
}

}  // namespace
}  // namespace waitroom::gate
