#pragma once
// The operator's API under /admin/v1. Every route requires `Authorization: Bearer <admin key>`,
// or the dashboard's session cookie plus its CSRF token for a change (api/admin_session.hpp).
#include <functional>

#include "api/admin_session.hpp"
#include "config/server_config.hpp"
#include "core/clock.hpp"
#include "http/router.hpp"
#include "ops/event_feed.hpp"
#include "store/audit_trail.hpp"
#include "store/history_archive.hpp"
#include "store/operator_tokens.hpp"
#include "store/room_history.hpp"
#include "store/store.hpp"
#include "token/key_ring.hpp"
#include "visitor/abuse_guard.hpp"

namespace waitroom::api {

// What the admin API uses. Built in app/; it outlives the router, whose handlers refer to it.
struct AdminDeps {
  store::Store& store;
  token::KeyRing& keys;
  const config::ServerConfig& config;  // admin_key
  const core::Clock& clock;
  // Told when a room's settings change or the room goes, so new limits apply at the next request.
  visitor::AbuseGuard& abuse;
  const store::RoomHistory& history;  // the dashboard's charts: the last hour's samples
  // Their minutes, kept for history_days; null: none (route listing, fuzzing).
  store::HistoryArchive* history_archive = nullptr;
  // Only with [testing] manual_clock: the clock tests move through /admin/v1/testing/clock.
  core::ManualClock* manual_clock = nullptr;
  // The operator dashboard's sessions, also accepted on /admin/v1: set once its routes are added;
  // null while the dashboard is off (its built-in pages failed to load).
  AdminSessionCheck* sessions = nullptr;
  // After a key rotation: the Redis store's nodes share keys, so the new ones are published for
  // the others (docs/scaling.md). Empty with the embedded store.
  std::function<core::Result<void>()> publish_keys = nullptr;
  // Web Push's VAPID keys ([push]); null without push: POST /admin/v1/push/keys/rotate is 409.
  token::KeyRing* push_keys = nullptr;
  // The rooms' events (GET /admin/v1/events); null when they are not recorded.
  const ops::EventFeed* feed = nullptr;
  // Operator tokens (api/admin_access.hpp); null: only the admin key and dashboard sessions.
  store::OperatorTokens* tokens = nullptr;
  // Where admin changes are recorded (api/admin_audit.hpp); null: nowhere.
  store::AuditTrail* audit = nullptr;
};

void add_admin_routes(http::Router& router, const AdminDeps& deps);
// Constant-time check of the request's bearer token against the configured admin key.
bool is_admin(const http::Request& req, std::string_view admin_key);

}  // namespace waitroom::api
