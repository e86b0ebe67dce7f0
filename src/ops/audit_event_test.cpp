#include "ops/audit_event.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "ops/stored_event.hpp"

namespace waitroom::ops {
namespace {

// xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx in lowercase hex. (Not std::regex: g++ 12 warns
// inside <regex> under the sanitizers.)
bool is_uuid_v4(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (c == '-')) return false;
    if (!dash && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return id[14] == '4' && std::string_view("89ab").find(id[19]) != std::string_view::npos;
}

TEST(Event, IdsAreVersion4UuidsAndUnique) {
  EXPECT_FALSE(is_uuid_v4("0123456789abcdef0123456789abcdef0123"));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_event_id();
    ASSERT_TRUE(is_uuid_v4(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Event, FormatsRfc3339UtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_rfc3339_ms(1'709'251'199'999), "2024-02-29T23:59:59.999Z");  // leap day
  EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_ms(253'402'300'799'000), "9999-12-31T23:59:59.000Z");
}

TEST(Event, JsonCarriesEveryField) {
  Event e{"id-1", "room.reset", "sale", 1'700'000'000'123, {{"epoch", 3}}, 0};
  const boost::json::object j = event_json(e);
  EXPECT_EQ(j.size(), 6u);
  EXPECT_EQ(j.at("id"), "id-1");
  EXPECT_EQ(j.at("type"), "room.reset");
  EXPECT_EQ(j.at("room"), "sale");
  EXPECT_EQ(j.at("time"), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j.at("time_ms").as_int64(), 1'700'000'000'123);
  EXPECT_EQ(j.at("data").as_object().at("epoch").as_int64(), 3);
}

TEST(Event, NumberedJsonHasItsSeqAndStoredEventsSayTheSame) {
  Event e{"id-2", "ticket.issued", "sa\"le", 1'700'000'000'123, {{"position", 5}}, 42};
  const boost::json::object j = event_json(e);
  EXPECT_EQ(j.at("seq").as_uint64(), 42u);
  std::string text;
  append_event_json(text, e.room, e.seq,
                    StoredEvent{e.id, e.type, e.time_ms, boost::json::serialize(e.data)});
  EXPECT_EQ(boost::json::parse(text), boost::json::value(j));
}

}  // namespace
}  // namespace waitroom::ops
