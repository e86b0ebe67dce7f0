#pragma once
// SIGHUP: a running server re-reads its config file. The rooms whose [rooms.NAME] section is new
// or changed since the file was last read take the file's settings (the operator edited them on
// purpose); rooms whose section did not change keep what the admin API made of them, as at start;
// a room whose section was removed is left alone (deleting a line is the admin API's job). Every
// other setting is read once at start: the reload names those that changed, for a restart.
#include <string>
#include <vector>

#include "config/server_config.hpp"
#include "store/store.hpp"

namespace waitroom::app {

struct ReloadReport {
  std::vector<std::string> rooms_created;
  std::vector<std::string> rooms_updated;
  std::vector<std::string> restart_needed;  // config keys
};

// Applies `after`'s rooms to `store` as above. `run` runs one store operation to completion.
// Stops at the first room the store refuses (the error names it); rooms before it are applied.
template <class Run>
core::Result<ReloadReport> reload_config(store::Store& store, const config::ServerConfig& before,
                                         const config::ServerConfig& after, Run run) {
  ReloadReport report;
  report.restart_needed = config::settings_needing_restart(before, after);
  for (const auto& [name, settings] : after.rooms) {
    const core::RoomSettings* old = nullptr;
    for (const auto& [n, s] : before.rooms)
      if (n == name) old = &s;
    const bool exists = static_cast<bool>(run(store.room(name)));
    if (exists && old && *old == settings) continue;
    auto put = run(store.put_room(
        name, [s = settings](const auto&) { return core::Result<core::RoomSettings>(s); }));
    if (!put)
      return std::unexpected(
          core::Error{put.error().code, "rooms." + name + ": " + put.error().detail});
    (put->second ? report.rooms_created : report.rooms_updated).push_back(name);
  }
  return report;
}

}  // namespace waitroom::app
