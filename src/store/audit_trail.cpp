#include "store/audit_trail.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include "token/atomic_file.hpp"

namespace waitroom::store {

namespace json = boost::json;
using core::ErrorCode;

namespace {
constexpr std::size_t kMaxFileBytes = 256 << 20;

core::Error io_error(const std::string& what, const std::filesystem::path& file) {
  return core::Error{ErrorCode::unavailable,
                     what + " " + file.string() + ": " + std::strerror(errno), 5};
}
}  // namespace

json::object audit_json(const AuditEntry& e) {
  return json::object{
      {"id", e.id},
      {"at_ms", e.at_ms},
      {"actor", e.actor},
      {"via", e.via},
      {"token_id", e.token_id.empty() ? json::value(nullptr) : json::value(e.token_id)},
      {"address", e.address.empty() ? json::value(nullptr) : json::value(e.address)},
      {"action", e.action},
      {"room", e.room.empty() ? json::value(nullptr) : json::value(e.room)},
      {"status", e.status},
      {"details", e.details}};
}

core::Result<AuditEntry> audit_from_json(std::string_view line) {
  json::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return core::fail(ErrorCode::internal, "an audit entry is malformed");
  const json::object& o = v.as_object();
  auto str = [&](const char* key) {
    const json::value* x = o.if_contains(key);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  auto num = [&](const char* key) {
    const json::value* x = o.if_contains(key);
    return x && x->is_number() ? x->to_number<std::int64_t>() : 0;
  };
  AuditEntry e;
  e.id = static_cast<std::uint64_t>(num("id"));
  e.at_ms = num("at_ms");
  e.actor = str("actor");
  e.via = str("via");
  e.token_id = str("token_id");
  e.address = str("address");
  e.action = str("action");
  e.room = str("room");
  e.status = static_cast<int>(num("status"));
  if (const json::value* d = o.if_contains("details"); d && d->is_object())
    e.details = d->as_object();
  if (e.id == 0) return core::fail(ErrorCode::internal, "an audit entry has no id");
  return e;
}

std::vector<AuditEntry> select_audit(std::vector<AuditEntry> all, const AuditQuery& q) {
  auto wanted = [&q](const AuditEntry& e) {
    return e.id > q.after && (q.before == 0 || e.id < q.before) &&
           (q.room.empty() || e.room == q.room) &&
           (q.actor.empty() || e.actor == q.actor || e.token_id == q.actor);
  };
  std::vector<AuditEntry> out;
  auto take = [&](auto first, auto last) {
    for (auto it = first; it != last && out.size() < q.limit; ++it)
      if (wanted(*it)) out.push_back(std::move(*it));
  };
  if (q.newest_first)
    take(all.rbegin(), all.rend());
  else
    take(all.begin(), all.end());
  return out;
}

core::Result<std::unique_ptr<AuditFile>> AuditFile::open(std::filesystem::path file) {
  std::uint64_t last = 0;
  auto text = token::read_small_file(file, kMaxFileBytes);
  if (!text && text.error().code != ErrorCode::not_found) return std::unexpected(text.error());
  if (text) {
    // The last whole line says where numbering goes on; a torn last line (a crash mid-append) is
    // left as it is and skipped by read().
    std::string_view rest = *text;
    while (!rest.empty()) {
      const std::size_t end = rest.find('\n');
      if (end == std::string_view::npos) break;
      if (auto e = audit_from_json(rest.substr(0, end))) last = std::max(last, e->id);
      rest.remove_prefix(end + 1);
    }
  }
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected(io_error("cannot open", file));
  return std::unique_ptr<AuditFile>(new AuditFile(std::move(file), fd, last));
}

AuditFile::~AuditFile() { ::close(fd_); }

core::Result<std::uint64_t> AuditFile::append(AuditEntry entry) {
  std::lock_guard lock(mu_);
  entry.id = last_id_ + 1;
  // A torn line before (a crash mid-append) ends here, so this entry starts a line of its own.
  const std::string line = "\n" + json::serialize(audit_json(entry)) + "\n";
  if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      ::fdatasync(fd_) != 0)
    return std::unexpected(io_error("cannot append to", file_));
  last_id_ = entry.id;
  return entry.id;
}

core::Result<std::vector<AuditEntry>> AuditFile::read(const AuditQuery& query) {
  auto text = token::read_small_file(file_, kMaxFileBytes);
  if (!text) {
    if (text.error().code == ErrorCode::not_found) return std::vector<AuditEntry>{};
    return std::unexpected(text.error());
  }
  std::vector<AuditEntry> all;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    if (auto e = audit_from_json(rest.substr(0, end)); e && e->id > query.after)
      all.push_back(std::move(*e));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return select_audit(std::move(all), query);
}

}  // namespace waitroom::store
