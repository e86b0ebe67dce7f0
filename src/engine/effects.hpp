#pragma once
// What a room operation leaves for its store besides its answer: the records that make the change
// durable, and what may be told once they are (audit events, and that ticket statuses changed).
// A store commits the records first and only then publishes the rest, so nothing leaves the
// process that a crash could undo (docs/architecture.md, "Events after the commit").
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/log_records.hpp"
#include "ops/audit_event.hpp"

namespace waitroom::engine {

// Who asked for a change through an operator's path (the admin API, the dashboard, the AWS
// private API, the config file): its events carry it as `data.actor` (docs/events.md). Changes
// of the room's own (admission steps, expiries) and visitors' have none.
struct Actor {
  std::string name;      // the token's name, "admin key", an AWS access key id, "config"
  std::string via;       // admin_key, token, session, sigv4, config
  std::string token_id;  // the operator token's id; empty otherwise

  boost::json::object json() const;
};

struct Effects {
  // `wants_events`: whether anyone listens for audit events; when not, operations skip them.
  explicit Effects(bool wants_events_ = false) : wants_events(wants_events_) {}

  bool wants_events = false;
  std::vector<LogRecord> records;  // in the order they must be appended
  std::vector<ops::Event> events;  // in the order they happened
  bool changed = false;          // a ticket's status may show something new: event streams are told
  const Actor* actor = nullptr;  // an operator's change: its events name it

  // Appends a record; consecutive tickets of one room that entered in the same second with the
  // same flags share one enqueue record, as a surge's tickets do.
  void record(LogRecord record);
  void event(const std::string& room, std::string_view type, boost::json::object data,
             std::int64_t now_ms);
  // Another operation's effects after these (a batch of requests committed together).
  void append(Effects&& later);
  bool empty() const { return records.empty() && events.empty() && !changed; }
};

}  // namespace waitroom::engine
