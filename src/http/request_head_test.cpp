#include "http/request_head.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <utility>

namespace waitroom::http {
namespace {

beast_http::fields fields_of(
    std::initializer_list<std::pair<std::string_view, std::string_view>> list) {
  beast_http::fields f;
  for (const auto& [name, value] : list) f.insert(name, value);
  return f;
}

std::optional<Status> framing(std::initializer_list<std::string_view> codings,
                              unsigned version = 11) {
  beast_http::fields f;
  for (std::string_view c : codings) f.insert(beast_http::field::transfer_encoding, c);
  auto refusal = check_framing(f, version);
  if (!refusal) return std::nullopt;
  return refusal->status;
}

TEST(RequestHead, ChunkedLastIsTheOnlyFramingAccepted) {
  EXPECT_FALSE(check_framing(fields_of({{"Content-Length", "2"}}), 11));
  EXPECT_EQ(framing({"chunked"}), std::nullopt);
  EXPECT_EQ(framing({"Chunked"}), std::nullopt);
  EXPECT_EQ(framing({" chunked ,"}), std::nullopt);  // empty list elements are ignored
  EXPECT_EQ(framing({"xchunked"}), Status::not_implemented);
  EXPECT_EQ(framing({"identity"}), Status::not_implemented);
  EXPECT_EQ(framing({"gzip, chunked"}), Status::not_implemented);
  EXPECT_EQ(framing({"gzip", "chunked"}), Status::not_implemented);
  EXPECT_EQ(framing({"chunked, identity"}), Status::bad_request);
  EXPECT_EQ(framing({"chunked", "gzip"}), Status::bad_request);
  EXPECT_EQ(framing({"chunked, chunked"}), Status::bad_request);
  EXPECT_EQ(framing({""}), Status::bad_request);
  EXPECT_EQ(framing({"chunked"}, 10), Status::bad_request);
}

TEST(RequestHead, HostIsRequiredOnceAndValid) {
  EXPECT_FALSE(check_host(fields_of({{"Host", "shop.example"}}), 11));
  EXPECT_FALSE(check_host(fields_of({}), 10));
  EXPECT_TRUE(check_host(fields_of({}), 11));
  EXPECT_TRUE(check_host(fields_of({{"Host", "a"}, {"Host", "a"}}), 11));
  EXPECT_TRUE(check_host(fields_of({{"Host", "a"}, {"Host", "b"}}), 10));
  EXPECT_TRUE(check_host(fields_of({{"Host", "a b/c"}}), 10));
}

TEST(RequestHead, HostSyntax) {
  for (std::string_view ok : {"", "a", "shop.example", "shop.example:8080", "127.0.0.1:1", "[::1]",
                              "[::1]:443", "xn--bcher-kva.example", "a%20b", "a:"})
    EXPECT_TRUE(valid_host(ok)) << ok;
  for (std::string_view bad : {"a b/c", "a/b", "a:b", "a:1:2", "[::1", "[]", "[::1]x", "[::1]:x",
                               "a@b", "a%2", "a%zz", "a\tb", "a\"b"})
    EXPECT_FALSE(valid_host(bad)) << bad;
}

TEST(RequestHead, HeadEnd) {
  constexpr std::string_view kHead = "GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT";
  EXPECT_EQ(find_head_end(kHead, 0), kHead.size() - 4);
  EXPECT_EQ(find_head_end(kHead.substr(0, 26), 0), std::string_view::npos);
  EXPECT_EQ(find_head_end(kHead, 23), kHead.size() - 4);
}

TEST(RequestHead, ContentLengthGoesOnlyBesideTransferEncoding) {
  EXPECT_EQ(without_content_length("POST / HTTP/1.1\r\nHost: a\r\ncontent-LENGTH: 5\r\n"
                                   "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  // An obs-fold continuation goes with its field.
  EXPECT_EQ(without_content_length("POST / HTTP/1.1\r\nContent-Length: 5\r\n 6\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"),
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_FALSE(without_content_length("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_FALSE(without_content_length("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  // A field whose name merely starts alike stays.
  EXPECT_FALSE(without_content_length(
      "POST / HTTP/1.1\r\nContent-Lengthy: 5\r\nTransfer-Encoding: chunked\r\n\r\n"));
}

TEST(RequestHead, RequestLine) {
  auto line = peek_request_line("GET /gate/v1/check?room=a HTTP/1.1\r\nHost");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->method, "GET");
  EXPECT_EQ(line->target, "/gate/v1/check?room=a");
  EXPECT_FALSE(peek_request_line("GET /gate/v1/check?room=a HTTP/1.1"));
  EXPECT_FALSE(peek_request_line("GET\r\n"));
  EXPECT_FALSE(peek_request_line("GET /\r\n"));
}

}  // namespace
}  // namespace waitroom::http
