#include "core/rfc3339.hpp"

#include <gtest/gtest.h>

namespace waitroom::core {
namespace {

TEST(Rfc3339, ParsesUtcOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2026-12-01T10:00:00Z"), 1796119200);
  EXPECT_EQ(parse_rfc3339("2026-12-01T11:30:00+01:30"), 1796119200);
  EXPECT_EQ(parse_rfc3339("2026-12-01T10:00:00.999Z"), 1796119200);
  EXPECT_EQ(format_rfc3339(1796119200), "2026-12-01T10:00:00Z");
}

TEST(Rfc3339, RefusesWhatIsNotATimestamp) {
  for (const char* bad :
       {"", "2026-12-01", "2026-12-01T10:00:00", "2026-13-01T10:00:00Z", "2026-02-30T10:00:00Z",
        "2026-12-01 10:00:00Z", "2026-12-01T10:00:00Zjunk", "2026-12-01T24:00:00Z",
        "2026-12-01T10:00:00.Z"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

}  // namespace
}  // namespace waitroom::core
