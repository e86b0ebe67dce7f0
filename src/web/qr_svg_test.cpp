#include "web/qr_svg.hpp"

#include <gtest/gtest.h>

namespace waitroom::web {
namespace {

TEST(QrSvg, DrawsAnAccessibleInlineSvg) {
  auto svg = qr_svg("https://queue.example.com/r/sale/resume/AAAAAAAAAAAAAAAAAAAAAA", "QR <code>");
  ASSERT_TRUE(svg.has_value());
  EXPECT_TRUE(
      svg->starts_with("<svg class=\"wr-qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "));
  EXPECT_NE(svg->find("role=\"img\" aria-label=\"QR &lt;code&gt;\""), std::string::npos);
  EXPECT_NE(svg->find("<path fill=\"#000\" d=\"M4 4h7v1h-7z"),
            std::string::npos);  // the finder pattern's top row
  EXPECT_EQ(svg->find("style="), std::string::npos);
  EXPECT_TRUE(svg->ends_with("\"/></svg>"));
}

TEST(QrSvg, RefusesWhatDoesNotFit) {
  EXPECT_FALSE(qr_svg("", "x").has_value());
  EXPECT_FALSE(qr_svg(std::string(5000, 'a'), "x").has_value());
}

}  // namespace
}  // namespace waitroom::web
