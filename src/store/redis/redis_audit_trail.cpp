#include "store/redis/redis_audit_trail.hpp"

#include <boost/json/serialize.hpp>

namespace waitroom::store::redis {

namespace {
core::Error refused(const Reply& r) {
  return core::Error{core::ErrorCode::unavailable, "Redis: " + r.str, 1};
}
}  // namespace

core::Result<std::uint64_t> RedisAuditTrail::append(AuditEntry entry) {
  auto seq = redis_.pipeline({{"INCR", keys_.audit() + ":seq"}});
  if (!seq) return std::unexpected(seq.error());
  if (seq->front().is_error()) return std::unexpected(refused(seq->front()));
  entry.id = static_cast<std::uint64_t>(seq->front().integer);
  auto kept = redis_.pipeline({{"RPUSH", keys_.audit(), boost::json::serialize(audit_json(entry))},
                               {"LTRIM", keys_.audit(), std::to_string(-kAuditKept), "-1"}});
  if (!kept) return std::unexpected(kept.error());
  for (const Reply& r : *kept)
    if (r.is_error()) return std::unexpected(refused(r));
  return entry.id;
}

core::Result<std::vector<AuditEntry>> RedisAuditTrail::read(const AuditQuery& query) {
  auto replies = redis_.pipeline({{"LRANGE", keys_.audit(), "0", "-1"}});
  if (!replies) return std::unexpected(replies.error());
  if (replies->front().is_error()) return std::unexpected(refused(replies->front()));
  std::vector<AuditEntry> all;
  for (const Reply& r : replies->front().elements)
    if (auto e = audit_from_json(r.str); e && e->id > query.after) all.push_back(std::move(*e));
  // Appended by several nodes: an entry may land after one numbered later.
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return select_audit(std::move(all), query);
}

}  // namespace waitroom::store::redis
