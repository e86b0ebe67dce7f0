#include "core/ticket_status.hpp"

#include <gtest/gtest.h>

namespace waitroom::core {
namespace {

// Logs written before TicketStatus was the one status type numbered sessions this way; a session
// end read back must mean what it meant when it was written.
TEST(TicketStatus, SessionCodesKeepTheNumberingOfWrittenLogs) {
  EXPECT_EQ(session_status_code(TicketStatus::admitted), 0);  // "active"
  EXPECT_EQ(session_status_code(TicketStatus::expired), 1);
  EXPECT_EQ(session_status_code(TicketStatus::completed), 2);
  EXPECT_EQ(session_status_code(TicketStatus::abandoned), 3);
  EXPECT_EQ(session_status_code(TicketStatus::revoked), 4);
  for (std::uint8_t code = 0; code < 5; ++code)
    EXPECT_EQ(session_status_code(*session_status_from_code(code)), code);
  EXPECT_FALSE(session_status_from_code(5));
  EXPECT_FALSE(session_status_from_code(255));
}

TEST(TicketStatus, OperatorsEndSessionsOnlyAsCompletedAbandonedOrRevoked) {
  EXPECT_EQ(parse_session_end("completed"), TicketStatus::completed);
  EXPECT_EQ(parse_session_end("abandoned"), TicketStatus::abandoned);
  EXPECT_EQ(parse_session_end("revoked"), TicketStatus::revoked);
  EXPECT_FALSE(parse_session_end("admitted"));
  EXPECT_FALSE(parse_session_end("expired"));
  EXPECT_EQ(to_string(TicketStatus::admitted), "admitted");
}

}  // namespace
}  // namespace waitroom::core
