#pragma once
// Unit tests' shared copy of the page's compiled-in languages (loaded once per test binary).
#include <gtest/gtest.h>

#include "web/i18n.hpp"

namespace waitroom::testing {

inline const web::Languages& embedded_languages() {
  static const web::Languages l = [] {
    auto loaded = web::Languages::load_embedded();
    EXPECT_TRUE(loaded.has_value()) << (loaded ? "" : loaded.error().detail);
    return std::move(*loaded);
  }();
  return l;
}

}  // namespace waitroom::testing
