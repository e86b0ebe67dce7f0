// Fuzzes the JSON request bodies (src/api/json_io.cpp) and the room-settings codec
// (src/config/room_settings_codec.cpp), which reads the admin API's PUT/PATCH bodies, the config
// file's rooms and the store's log. A body must be read or refused with an error; settings that
// were accepted must survive the round trip the store's log makes (to JSON with secrets, back).
#include <boost/json.hpp>
#include <cstdint>
#include <string>

#include "api/json_io.hpp"
#include "config/room_settings_codec.hpp"
#include "http/message.hpp"

namespace json = boost::json;
using waitroom::config::Secrets;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  waitroom::http::Request req;
  req.body().assign(reinterpret_cast<const char*>(data), size);
  auto body = waitroom::api::read_json_object(req);
  if (!body) return 0;

  // The integer fields handlers read (advance's by/to), with the bounds they use.
  (void)waitroom::api::read_uint(*body, "by", 1, 1'000'000'000);
  (void)waitroom::api::read_uint(*body, "to", 0, UINT64_MAX);

  auto settings = waitroom::config::apply_room_settings(*body, waitroom::core::RoomSettings{});
  if (!settings) return 0;
  // What the log writes must read back to the same settings, or a restart would lose or refuse
  // them.
  const json::object saved = waitroom::config::room_settings_to_json(*settings, Secrets::include);
  auto again = waitroom::config::apply_room_settings(saved, waitroom::core::RoomSettings{});
  if (!again) __builtin_trap();
  if (waitroom::config::room_settings_to_json(*again, Secrets::include) != saved) __builtin_trap();
  (void)waitroom::config::room_settings_to_json(*settings, Secrets::redact);
  return 0;
}
