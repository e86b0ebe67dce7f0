#include "app/config_reload.hpp"

#include <algorithm>

#include "api/admin_audit.hpp"
#include "config/room_settings_diff.hpp"

namespace waitroom::app {

namespace {

// The settings whose value the file itself changed since `before` was read: those on which
// what `before` makes of the running room differs from what the file makes of it now.
std::vector<std::string> edited_in_file(const store::RoomView& running,
                                        const core::RoomSettings& wanted,
                                        const boost::json::object& before) {
  std::vector<std::string> out;
  auto previous = config::apply_room_settings(before, running.settings);
  if (!previous) return out;
  for (const auto& c : config::diff_room_settings(*previous, wanted)) out.push_back(c.setting);
  return out;
}

// A scheduled event in its pre-queue or running now that `wanted` no longer has.
bool ends_running_event(const store::RoomView& running, const core::RoomSettings& wanted) {
  if (!running.event || running.event->phase == "scheduled") return false;
  return std::find(wanted.events.begin(), wanted.events.end(), running.event->event) ==
         wanted.events.end();
}

}  // namespace

const boost::json::object* section_of(const config::ServerConfig& before, const std::string& room) {
  for (const auto& [name, fields] : before.room_sections)
    if (name == room) return &fields;
  return nullptr;
}

void log_room_differences(const std::string& room, const store::RoomView& running,
                          const core::RoomSettings& wanted, bool at_start,
                          const boost::json::object* before) {
  const std::vector<std::string> edited =
      before ? edited_in_file(running, wanted, *before) : std::vector<std::string>{};
  for (const auto& c : config::diff_room_settings(running.settings, wanted)) {
    // A section new since the last read is an edit of the file as a whole.
    const bool in_file =
        !before || std::find(edited.begin(), edited.end(), c.setting) != edited.end();
    // At start the cause is unknown: the file edited while the server was down, or the room
    // changed through the admin API before the restart.
    const char* cause = at_start  ? "stored_room_differs"
                        : in_file ? "file_edited"
                                  : "changed_through_admin_api";
    ops::log(at_start || in_file ? ops::LogLevel::info : ops::LogLevel::warn,
             "config file sets a room setting",
             {{"room", room},
              {"setting", c.setting},
              {"running", c.from},
              {"file", c.to},
              {"cause", cause}});
  }
  if (ends_running_event(running, wanted))
    ops::log_warn("config file ends the room's running scheduled event",
                  {{"room", room},
                   {"phase", running.event->phase},
                   {"hint",
                    "leave `events` out of the room's section to keep the events set "
                    "through the admin API"}});
}

void audit_config_room(store::AuditTrail& audit, const std::string& room,
                       const std::optional<core::RoomSettings>& before,
                       const core::RoomSettings& after, std::int64_t now_ms) {
  store::AuditEntry e;
  e.at_ms = now_ms;
  e.actor = "config";
  e.via = "config";
  e.action = "config file: rooms." + room;
  e.room = room;
  e.status = before ? 200 : 201;
  e.details["created"] = !before.has_value();
  e.details["changes"] = api::settings_changes_json(before.value_or(core::RoomSettings{}), after);
  if (auto kept = audit.append(std::move(e)); !kept)
    ops::log_error("a config change could not be recorded in the audit trail",
                   {{"room", room}, {"error", kept.error().detail}});
}

}  // namespace waitroom::app
