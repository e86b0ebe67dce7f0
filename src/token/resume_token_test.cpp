#include "token/resume_token.hpp"

#include <gtest/gtest.h>

#include "token/ticket_id.hpp"

namespace waitroom::token {
namespace {

TEST(ResumeToken, RoundTripsATicketIdWithoutShowingIt) {
  token::TicketIdCodec ids(std::string(32, 's'));
  const std::string id = ids.encode("sale", 3, 1234);
  ResumeTokens tokens("server secret of thirty-two byte");
  auto t = tokens.token_for(id);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->size(), 22u);
  EXPECT_EQ(t->find(id.substr(0, 8)), std::string::npos);
  EXPECT_EQ(tokens.token_for(id), t);  // one token per ticket: the QR code stays put
  EXPECT_EQ(tokens.ticket_for(*t), id);
  EXPECT_TRUE(ids.decode("sale", *tokens.ticket_for(*t)).has_value());
}

TEST(ResumeToken, AnotherServersOrAMadeUpTokenIsNoTicket) {
  token::TicketIdCodec ids(std::string(32, 's'));
  const std::string id = ids.encode("sale", 1, 7);
  ResumeTokens ours("server secret of thirty-two byte");
  ResumeTokens theirs("another secret of thirty-two byt");
  auto t = theirs.token_for(id);
  ASSERT_TRUE(t.has_value());
  auto decoded = ours.ticket_for(*t);
  ASSERT_TRUE(decoded.has_value());                        // it decrypts to something...
  EXPECT_FALSE(ids.decode("sale", *decoded).has_value());  // ...that is not a ticket
  EXPECT_FALSE(ours.ticket_for("short").has_value());
  EXPECT_FALSE(ours.ticket_for("!!!!!!!!!!!!!!!!!!!!!!").has_value());
  EXPECT_FALSE(ours.token_for("not-a-ticket").has_value());
  EXPECT_FALSE(ours.token_for("0000000g-0000-0000-0000-000000000000").has_value());
}

}  // namespace
}  // namespace waitroom::token
