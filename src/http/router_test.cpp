#include "http/router.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace waitroom::http
