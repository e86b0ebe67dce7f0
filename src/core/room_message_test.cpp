#include "core/room_message.hpp"

#include <gtest/gtest.h>

namespace waitroom::core {
namespace {

TEST(RoomMessage, TextIsTrimmedAndKeepsItsNewlines) {
  EXPECT_EQ(message_text("  The sale starts 10 minutes late. \n").value(),
            "The sale starts 10 minutes late.");
  EXPECT_EQ(message_text("Line one\nLine two").value(), "Line one\nLine two");
  EXPECT_EQ(message_text("\tLine one\r\nLine two\r\n").value(), "Line one\nLine two")
      << "a form's \\r\\n is a newline";
  EXPECT_EQ(message_text("<script>alert(1)</script>").value(), "<script>alert(1)</script>")
      << "plain text is kept as it is; whoever shows it escapes it";
}

TEST(RoomMessage, LengthCountsCharactersNotBytes) {
  std::string japanese;
  for (std::size_t i = 0; i < kMaxMessageChars; ++i) japanese += "\xE5\xBE\x85";  // 待
  EXPECT_TRUE(message_text(japanese)) << "500 characters of 3 bytes each";
  EXPECT_FALSE(message_text(japanese + "x"));
  EXPECT_TRUE(message_text(std::string(kMaxMessageChars, 'a')));
  EXPECT_FALSE(message_text(std::string(kMaxMessageChars + 1, 'a')));
  EXPECT_TRUE(message_text("\xF0\x9F\x8E\x89"));  // an emoji: 4 bytes, one character
}

TEST(RoomMessage, RefusesEmptyControlsAndBrokenUtf8) {
  for (std::string_view bad :
       {std::string_view(""), std::string_view(" \n\t "), std::string_view("a\tb"),
        std::string_view("a\rb"), std::string_view("bell\a"), std::string_view("a\x7f"),
        std::string_view("c1 \xC2\x85"), std::string_view("\xC3"), std::string_view("\xC0\xAF"),
        std::string_view("\xED\xA0\x80"), std::string_view("\xF4\x90\x80\x80"),
        std::string_view("\x80"), std::string_view("nul\0x", 5)}) {
    auto r = message_text(bad);
    ASSERT_FALSE(r) << "accepted " << ::testing::PrintToString(std::string(bad));
    EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  }
}

TEST(RoomMessage, SameMessageComparesWhatItSays) {
  const RoomMessagePtr a = std::make_shared<const RoomMessage>(RoomMessage{"late", 10});
  const RoomMessagePtr b = std::make_shared<const RoomMessage>(RoomMessage{"late", 10});
  const RoomMessagePtr later = std::make_shared<const RoomMessage>(RoomMessage{"late", 11});
  EXPECT_TRUE(same_message(nullptr, nullptr));
  EXPECT_TRUE(same_message(a, b));
  EXPECT_FALSE(same_message(a, later)) << "set again: a new message";
  EXPECT_FALSE(same_message(a, nullptr));
  EXPECT_FALSE(same_message(nullptr, a));
}

}  // namespace
}  // namespace waitroom::core
