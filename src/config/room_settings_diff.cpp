#include "config/room_settings_diff.hpp"

#include <boost/json.hpp>

#include "config/room_settings_codec.hpp"

namespace waitroom::config {

namespace json = boost::json;

namespace {

constexpr std::string_view kHidden = "(hidden)";

// Every secret inside `v` (an OIDC client's, an invitation key's), at any depth, replaced by
// "(hidden)".
void hide_secrets(json::value& v) {
  if (auto* o = v.if_object()) {
    for (auto& [key, field] : *o) {
      if (key == "client_secret" || key == "secret")
        field = kHidden;
      else
        hide_secrets(field);
    }
  } else if (auto* a = v.if_array()) {
    for (json::value& item : *a) hide_secrets(item);
  }
}

void diff_objects(const json::object& from, const json::object& to, const std::string& prefix,
                  std::vector<SettingChange>& out) {
  auto note = [&](const std::string& key, const json::value& a, const json::value& b) {
    SettingChange c{prefix + key, a, b};
    hide_secrets(c.from);
    hide_secrets(c.to);
    // A list that differs only in a secret: say so rather than show two equal lists.
    if (c.from == c.to) c.from = c.to = kHidden;
    out.push_back(std::move(c));
  };
  for (const auto& [key, a] : from) {
    const json::value* b = to.if_contains(key);
    const json::value missing;  // null: the key is absent on that side
    if (b && a.is_object() && b->is_object())
      diff_objects(a.get_object(), b->get_object(), prefix + std::string(key) + ".", out);
    else if (!b || a != *b)
      note(std::string(key), a, b ? *b : missing);
  }
  for (const auto& [key, b] : to)
    if (!from.contains(key)) note(std::string(key), json::value(), b);
}

}  // namespace

std::vector<SettingChange> diff_room_settings(const core::RoomSettings& from,
                                              const core::RoomSettings& to) {
  std::vector<SettingChange> out;
  diff_objects(room_settings_to_json(from, Secrets::include),
               room_settings_to_json(to, Secrets::include), "", out);
  return out;
}

}  // namespace waitroom::config
