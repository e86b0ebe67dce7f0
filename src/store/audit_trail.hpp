#pragma once
// The audit trail (docs/security.md, "Audit trail"): who changed what, when and from where,
// through any admin path (the admin API, the CLI and the dashboard that call it, the config
// file's rooms at start and on SIGHUP). One entry per change that was made; kept where the rooms
// are: DATA_DIR/audit.log (JSON lines, appended and synced), or the Redis list PREFIX:audit
// (the newest kAuditKept entries) numbered by PREFIX:audit:seq.
#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace waitroom::store {

struct AuditEntry {
  std::uint64_t id = 0;  // 1, 2, 3...: given by the trail when appended
  std::int64_t at_ms = 0;
  // Who: "admin key", a token's name, "dashboard", "config"; how they came in
  // ("admin_key", "token", "session", "config"); a token's id; the client's address.
  std::string actor;
  std::string via;
  std::string token_id;
  std::string address;
  std::string action;           // "PUT /admin/v1/rooms/{room}", "config: rooms.sale"
  std::string room;             // empty: not one room's (keys, tokens, compaction)
  int status = 0;               // the answer's HTTP status
  boost::json::object details;  // the request's fields; a room's settings before -> after
};

boost::json::object audit_json(const AuditEntry& entry);
core::Result<AuditEntry> audit_from_json(std::string_view line);

struct AuditQuery {
  std::string room;          // empty: every room
  std::string actor;         // empty: everyone (matches the actor's name or a token's id)
  std::uint64_t after = 0;   // only entries numbered above this
  std::uint64_t before = 0;  // ... and below this (0: no bound)
  bool newest_first = false;
  std::size_t limit = 100;
};

class AuditTrail {
 public:
  virtual ~AuditTrail() = default;
  // Gives the entry its id and keeps it; an error when it could not be kept.
  virtual core::Result<std::uint64_t> append(AuditEntry entry) = 0;
  // Entries between `after` and `before` matching the query, at most `limit`, oldest first, or
  // newest first (the newest `limit` of them).
  virtual core::Result<std::vector<AuditEntry>> read(const AuditQuery& query) = 0;
};

// The entries of `all` (oldest first) a query asks for, in the order it asks for.
std::vector<AuditEntry> select_audit(std::vector<AuditEntry> all, const AuditQuery& query);

class AuditFile final : public AuditTrail {
 public:
  static core::Result<std::unique_ptr<AuditFile>> open(std::filesystem::path file);
  ~AuditFile() override;

  core::Result<std::uint64_t> append(AuditEntry entry) override;
  core::Result<std::vector<AuditEntry>> read(const AuditQuery& query) override;

 private:
  AuditFile(std::filesystem::path file, int fd, std::uint64_t last_id)
      : file_(std::move(file)), fd_(fd), last_id_(last_id) {}

  const std::filesystem::path file_;
  std::mutex mu_;
  int fd_;
  std::uint64_t last_id_;
};

}  // namespace waitroom::store
