#include "gate/oauth_params.hpp"

#include "http/query.hpp"

namespace waitroom::gate {

namespace {
// More than any real request has; a bound so that the duplicate check stays cheap.
constexpr std::size_t kMaxParams = 64;
}  // namespace

core::Result<OAuthParams> OAuthParams::parse(std::string_view text) {
  OAuthParams out;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = http::form_decode(pair.substr(0, eq));
    auto value =
        http::form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value)
      return core::fail(core::ErrorCode::bad_request, "a parameter has a broken %-escape");
    if (value->empty()) continue;
    if (out.get(*name))
      return core::fail(core::ErrorCode::bad_request,
                        "the parameter \"" + *name + "\" is given more than once");
    if (out.items_.size() == kMaxParams)
      return core::fail(core::ErrorCode::bad_request, "too many parameters");
    out.items_.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::optional<std::string_view> OAuthParams::get(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

}  // namespace waitroom::gate
