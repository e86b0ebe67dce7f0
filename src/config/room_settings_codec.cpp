#include "config/room_settings_codec.hpp"

#include <boost/json.hpp>

namespace waitroom::config {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {

core::Result<std::string> read_string(const json::value& v, std::string_view field) {
  if (!v.is_string())
    return fail(ErrorCode::bad_request, std::string(field) + " must be a string");
  return std::string(v.get_string());
}

core::Result<std::int64_t> read_int(const json::value& v, std::string_view field) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  return fail(ErrorCode::bad_request, std::string(field) + " must be an integer");
}

}  // namespace

core::Result<core::RoomSettings> apply_room_settings(const json::object& fields,
                                                     core::RoomSettings s) {
  for (const auto& [key, value] : fields) {
    if (key == "pass_lifetime_s") {
      auto v = read_int(value, key);
      if (!v) return std::unexpected(v.error());
      s.pass_lifetime_s = *v;
    } else if (key == "aws_serving_counter_as_string") {
      if (!value.is_bool()) return fail(ErrorCode::bad_request, std::string(key) + " must be true or false");
      s.aws_serving_counter_as_string = value.get_bool();
    } else if (key == "algorithm" || key == "issuer" || key == "audience" || key == "target_url") {
      auto v = read_string(value, key);
      if (!v) return std::unexpected(v.error());
      if (key == "algorithm") s.algorithm = *v;
      if (key == "issuer") s.issuer = *v;
      if (key == "audience") s.audience = *v;
      if (key == "target_url") s.target_url = *v;
    } else {
      return fail(ErrorCode::bad_request, "unknown room setting \"" + std::string(key) + "\"");
    }
  }
  if (auto ok = core::validate(s); !ok) return std::unexpected(ok.error());
  return s;
}

json::object room_settings_to_json(const core::RoomSettings& s) {
  return json::object{{"pass_lifetime_s", s.pass_lifetime_s},
                      {"algorithm", s.algorithm},
                      {"issuer", s.issuer},
                      {"audience", s.audience},
                      {"target_url", s.target_url},
                      {"aws_serving_counter_as_string", s.aws_serving_counter_as_string}};
}

}  // namespace waitroom::config
