#pragma once
// The parameters of an OAuth 2.0 request, from a query string or a form body, decoded once.
// RFC 6749 section 3.1: a parameter sent without a value counts as absent, and no parameter may
// be sent twice (a second client_id or redirect_uri could otherwise be read differently by two
// parties).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace waitroom::gate {

class OAuthParams {
 public:
  // Errors (bad_request) name the problem: a broken %-escape, or the parameter sent twice.
  static core::Result<OAuthParams> parse(std::string_view text);

  // The decoded value; nullopt when absent or empty.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace waitroom::gate
