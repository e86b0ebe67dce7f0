#include "ops/event_stream_metrics.hpp"

#include <gtest/gtest.h>

namespace waitroom::ops {
namespace {

TEST(EventStreamMetrics, OpensUpToTheLimitAndCountsRefusals) {
  EventStreamMetrics m;
  EXPECT_TRUE(m.try_open(2));
  EXPECT_TRUE(m.try_open(2));
  EXPECT_FALSE(m.try_open(2));
  m.closed();
  EXPECT_TRUE(m.try_open(2));
  m.sent(3);
  m.dropped();
  std::string out;
  m.render(out);
  EXPECT_NE(out.find("\nwaitroom_event_streams_open 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nwaitroom_event_streams_opened_total 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nwaitroom_event_streams_refused_total 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nwaitroom_event_streams_dropped_total 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nwaitroom_event_messages_total 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("# TYPE waitroom_event_streams_open gauge\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace waitroom::ops
