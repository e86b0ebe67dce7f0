#include "http/wire.hpp"

#include <gtest/gtest.h>

namespace waitroom::http {
namespace {

TEST(Wire, SerializesStatusFieldsAndBody) {
  Request req;
  req.version(11);
  Response res = json_response(req, Status::created, R"({"a":1})");
  std::string out;
  serialize_response(res, out);
  EXPECT_EQ(out.rfind("HTTP/1.1 201 Created\r\n", 0), 0u);
  EXPECT_NE(out.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(out.find("Content-Length: 7\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 11), "\r\n\r\n{\"a\":1}");
}

TEST(Wire, KeepsHttp10AndCloses) {
  Request req;
  req.version(10);
  Response res = json_response(req, Status::ok, "{}");
  std::string out;
  serialize_response(res, out);
  EXPECT_EQ(out.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
}

}  // namespace
}  // namespace waitroom::http
