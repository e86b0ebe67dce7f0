#pragma once
// The config file's rooms, on start and on SIGHUP. One rule: for the rooms the file names, the
// keys the file writes are what runs. Each [rooms.NAME] section is applied to the running room
// like a PUT /admin/v1/rooms/NAME with those keys: a room the store lacks is created; a key whose
// running value differs (the file was edited, or the admin API changed it since) takes the
// file's value, and every such difference is logged, one line per setting. Keys a section leaves
// out stay as the admin API made them (a room's scheduled `events` too, unless the file writes
// them); a room whose section was removed is left alone. Every other setting is read once at
// start: a reload names those that changed, for a restart.
#include <optional>
#include <string>
#include <vector>

#include "config/room_settings_codec.hpp"
#include "config/server_config.hpp"
#include "ops/log.hpp"
#include "store/audit_trail.hpp"
#include "store/store.hpp"

namespace waitroom::app {

struct ReloadReport {
  std::vector<std::string> rooms_created;
  std::vector<std::string> rooms_updated;
  std::vector<std::string> rooms_failed;    // the store or the settings refused; logged each
  std::vector<std::string> restart_needed;  // config keys
};

// The section `before` had for `room`, if any.
const boost::json::object* section_of(const config::ServerConfig& before, const std::string& room);

// Logs one line per setting that differs between the running room and what the file makes of
// it, saying why they differ: the file was edited (`before`, the section last read, gives
// another value, or there was none), the admin API changed the room since the file was last
// read, or (at start) the stored room differs. Warns when the change ends the scheduled event
// running now.
void log_room_differences(const std::string& room, const store::RoomView& running,
                          const core::RoomSettings& wanted, bool at_start,
                          const boost::json::object* before);

// Records a room the config file created or changed in the audit trail, as the actor "config".
void audit_config_room(store::AuditTrail& audit, const std::string& room,
                       const std::optional<core::RoomSettings>& before,
                       const core::RoomSettings& after, std::int64_t now_ms);

// Applies `after`'s room sections to `store` by the rule above; `before` is the config the last
// start or reload read (null at start). `run` runs one store operation to completion. What it
// changes goes into `audit` (if any).
template <class Run>
ReloadReport apply_config_rooms(store::Store& store, const config::ServerConfig* before,
                                const config::ServerConfig& after, Run run,
                                store::AuditTrail* audit = nullptr) {
  ReloadReport report;
  if (before) report.restart_needed = config::settings_needing_restart(*before, after);
  for (const auto& [name, fields] : after.room_sections) {
    auto fail = [&](const std::string& reason) {
      ops::log_error("config room not applied", {{"room", name}, {"error", reason}});
      report.rooms_failed.push_back(name);
    };
    auto running = run(store.room(name));
    std::optional<core::RoomSettings> was;
    if (running) was = running->settings;
    if (!running && running.error().code != core::ErrorCode::not_found) {
      fail(running.error().detail);
      continue;
    }
    if (running) {
      auto wanted = config::apply_room_settings(fields, running->settings);
      if (!wanted) {
        fail(wanted.error().detail);
        continue;
      }
      if (*wanted == running->settings) continue;
      log_room_differences(name, *running, *wanted, !before,
                           before ? section_of(*before, name) : nullptr);
    }
    // Applied under the store's lock onto the room as it is then, like the admin API's PUT.
    auto put = run(store.put_room(
        name,
        [f = fields](const std::optional<core::RoomSettings>& c) {
          return config::apply_room_settings(f, c.value_or(core::RoomSettings{}));
        },
        engine::Actor{"config", "config", {}}));
    if (!put) {
      fail(put.error().detail);
      continue;
    }
    if (put->second) ops::log_info("config room created", {{"room", name}});
    if (audit)
      audit_config_room(*audit, name, put->second ? std::nullopt : was, put->first.settings,
                        store.clock().now_ms());
    (put->second ? report.rooms_created : report.rooms_updated).push_back(name);
  }
  return report;
}

}  // namespace waitroom::app
