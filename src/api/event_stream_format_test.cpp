#include "api/event_stream_format.hpp"

#include <gtest/gtest.h>

namespace waitroom::api {
namespace {

TEST(EventStreamFormat, HeadOpensAnEventStreamWithARetryHint) {
  const std::string head = event_stream_head(11);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("\r\nContent-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(head.find("\r\nCache-Control: no-store\r\n"), std::string::npos);
  EXPECT_NE(head.find("\r\nX-Accel-Buffering: no\r\n"), std::string::npos);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  std::string out;
  append_retry(out);
  EXPECT_EQ(out, "retry: 3000\n\n");
  EXPECT_EQ(event_stream_head(10).rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
}

TEST(EventStreamFormat, StatusEventAndHeartbeat) {
  std::string out;
  append_status_event(out, 1700000000123, R"({"a":1})");
  append_heartbeat(out);
  EXPECT_EQ(out, "id: 1700000000123\nevent: status\ndata: {\"a\":1}\n\n: heartbeat\n\n");
}

TEST(EventStreamFormat, MessageEvent) {
  std::string out;
  append_message_event(out, 42, R"({"text":null})");
  EXPECT_EQ(out, "id: 42\nevent: message\ndata: {\"text\":null}\n\n");
}

TEST(EventStreamFormat, LastEventIdIsDecimalOrNothing) {
  EXPECT_EQ(parse_last_event_id("42"), 42u);
  EXPECT_EQ(parse_last_event_id(" 42 "), 42u);
  EXPECT_EQ(parse_last_event_id(""), std::nullopt);
  EXPECT_EQ(parse_last_event_id("4 2"), std::nullopt);
  EXPECT_EQ(parse_last_event_id("-1"), std::nullopt);
  EXPECT_EQ(parse_last_event_id("x1"), std::nullopt);
  EXPECT_EQ(parse_last_event_id("99999999999999999999999"), std::nullopt);
}

TEST(EventStreamFormat, OnlyWhatAVisitorSeesIsAChange) {
  core::TicketState a;
  a.position = 5;
  a.ahead = 4;
  a.serving = 0;
  a.queue_length = 10;
  core::TicketState b = a;
  b.queue_length = 11;  // someone joined behind: not worth a message
  b.last_seen_s = 99;
  EXPECT_FALSE(status_changed(a, b));
  b.serving = 1;
  b.ahead = 3;
  EXPECT_TRUE(status_changed(a, b));
  b = a;
  b.eta = core::Eta{10, 20};
  EXPECT_TRUE(status_changed(a, b));
  b = a;
  b.status = core::TicketStatus::eligible;
  EXPECT_TRUE(status_changed(a, b));
  // A room selling out, or a drawing's standing, changes what the page shows: no estimate needed.
  b = a;
  b.sold_out = true;
  EXPECT_TRUE(status_changed(a, b));
  b = a;
  b.drawing = core::DrawStanding::waitlist;
  b.waitlist_position = 3;
  EXPECT_TRUE(status_changed(a, b));
  // A notice sent or given up: the page says so. Its place kept while away moves with every
  // poll, and is not worth a message alone.
  a.notice = core::Notice{core::NoticeChannel::email, {}, "en", 1, {}, {}};
  b = a;
  b.away_until_s = 500;
  EXPECT_FALSE(status_changed(a, b));
  b.notice->near = core::NoticeProgress::sent;
  EXPECT_TRUE(status_changed(a, b));
}

TEST(EventStreamFormat, FinalStatuses) {
  using core::TicketStatus;
  EXPECT_FALSE(is_final(TicketStatus::waiting));
  EXPECT_FALSE(is_final(TicketStatus::eligible));
  EXPECT_FALSE(is_final(TicketStatus::admitted));
  EXPECT_TRUE(is_final(TicketStatus::expired));
  EXPECT_TRUE(is_final(TicketStatus::completed));
  EXPECT_TRUE(is_final(TicketStatus::abandoned));
  EXPECT_TRUE(is_final(TicketStatus::revoked));
}

}  // namespace
}  // namespace waitroom::api
