#include "http/router.hpp"

#include <gtest/gtest.h>

#include "http/stream_handler.hpp"

namespace waitroom::http {
namespace {

Handler noop() {
  return [](RequestContext&) -> boost::asio::awaitable<Response> { co_return Response{}; };
}

TEST(Router, MatchesLiteralsAndCaptures) {
  Router r;
  r.add(Method::get, "/v1/rooms/{room}", noop());
  r.add(Method::get, "/v1/rooms/{room}/tickets/{ticket}", noop());
  r.add(Method::post, "/v1/rooms/{room}/tickets", noop());
  Match m = r.match(Method::get, "/v1/rooms/demo/tickets/abc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.index, 1u);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0].second, "demo");
  EXPECT_EQ(m.params[1].second, "abc");
}

TEST(Router, WrongMethodListsAllowed) {
  Router r;
  r.add(Method::get, "/v1/rooms/{room}", noop());
  r.add(Method::put, "/v1/rooms/{room}", noop());
  Match m = r.match(Method::delete_, "/v1/rooms/demo");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "GET, PUT");
}

TEST(Router, UnknownPathsAndEmptyCapturesDoNotMatch) {
  Router r;
  r.add(Method::get, "/v1/rooms/{room}", noop());
  EXPECT_EQ(r.match(Method::get, "/v1/rooms/").route, nullptr);
  EXPECT_EQ(r.match(Method::get, "/v1/rooms/a/b").route, nullptr);
  EXPECT_TRUE(r.match(Method::get, "/v2/rooms/a").allow.empty());
  EXPECT_NE(r.match(Method::head, "/v1/rooms/a").route, nullptr);
}

class NoStreams final : public StreamHandler {
 public:
  void prepare(std::size_t) override {}
  std::optional<std::size_t> match(std::string_view, std::string_view) const override { return {}; }
  boost::asio::awaitable<bool> serve(std::size_t, StreamExchange&) override { co_return false; }
};

TEST(Router, StreamRoutesAreListedAndMatchedLikeOthers) {
  Router r;
  NoStreams streams;
  r.add(Method::get, "/v1/rooms/{room}/tickets/{ticket}", noop());
  r.add_stream(Method::get, "/v1/rooms/{room}/tickets/{ticket}/events", streams, 7);
  ASSERT_EQ(r.routes().size(), 2u);
  EXPECT_EQ(r.routes()[1].pattern, "/v1/rooms/{room}/tickets/{ticket}/events");
  Match m = r.match(Method::get, "/v1/rooms/demo/tickets/abc/events");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->stream, &streams);
  EXPECT_EQ(m.route->stream_route, 7u);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[1].second, "abc");
  EXPECT_EQ(r.match(Method::get, "/v1/rooms/demo/tickets/abc").route->stream, nullptr);
  EXPECT_EQ(r.match(Method::post, "/v1/rooms/demo/tickets/abc/events").allow, "GET");
}

}  // namespace
}  // namespace waitroom::http
