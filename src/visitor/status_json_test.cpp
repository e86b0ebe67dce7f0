#include "visitor/status_json.hpp"

#include <gtest/gtest.h>

namespace waitroom::visitor {
namespace {

namespace json = boost::json;

core::TicketState waiting() {
  core::TicketState s;
  s.position = 3;
  s.ahead = 2;
  s.serving = 0;
  s.queue_length = 3;
  return s;
}

TEST(StatusJson, TheTicketPollCarriesTheMessageOrNull) {
  const std::string none = ticket_json("t", "sale", waiting(), true, nullptr);
  EXPECT_TRUE(json::parse(none).as_object().at("message").is_null()) << none;
  EXPECT_EQ(json::parse(ticket_json("t", "sale", waiting(), false, nullptr))
                .as_object()
                .if_contains("message"),
            nullptr)
      << "the join answer has only the ticket's own fields";

  const core::RoomMessage m{"Late \"10 min\" \\ <script>alert(1)</script>\nsorry \xE5\xBE\x85",
                            1'700'000'000};
  const std::string with = ticket_json("t", "sale", waiting(), true, &m);
  EXPECT_EQ(with.find('\n'), std::string::npos) << "one line, as an event stream's data";
  const json::object message = json::parse(with).as_object().at("message").as_object();
  EXPECT_EQ(message.at("text").as_string(), m.text);
  EXPECT_EQ(message.at("set_at").as_string(), "2023-11-14T22:13:20Z");
}

TEST(StatusJson, MessageEventsSayTheTextOrNull) {
  const core::RoomMessage m{"a\nb", 1'700'000'000};
  EXPECT_EQ(message_event_json(&m), R"({"text":"a\nb","set_at":"2023-11-14T22:13:20Z"})");
  EXPECT_EQ(message_event_json(nullptr), R"({"text":null})");
  const auto ptr = std::make_shared<const core::RoomMessage>(m);
  EXPECT_EQ(json::serialize(message_json(ptr)), message_event_json(&m));
  EXPECT_TRUE(message_json(nullptr).is_null());
}

}  // namespace
}  // namespace waitroom::visitor
