#include "store/redis/redis_cluster_map.hpp"

#include <algorithm>
#include <charconv>

namespace waitroom::store::redis {

namespace {

std::optional<long long> number(std::string_view text) {
  long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

core::Result<ClusterMap> ClusterMap::parse(const Reply& slots, const RedisEndpoint& asked) {
  auto bad = [](std::string why) {
    return core::fail(core::ErrorCode::unavailable, "CLUSTER SLOTS: " + std::move(why), 1);
  };
  if (slots.is_error()) return bad(slots.str);
  if (slots.type != Reply::Type::array) return bad("not an array");
  ClusterMap map;
  map.owners_.fill(kNobody);
  for (const Reply& range : slots.elements) {
    // [start, end, [host, port, id, ...], replicas...]
    if (range.type != Reply::Type::array || range.elements.size() < 3 ||
        range.elements[0].type != Reply::Type::integer ||
        range.elements[1].type != Reply::Type::integer ||
        range.elements[2].type != Reply::Type::array || range.elements[2].elements.size() < 2)
      return bad("a slot range is not [start, end, [host, port, ...], ...]");
    const long long first = range.elements[0].integer, last = range.elements[1].integer;
    if (first < 0 || last < first || last >= kClusterSlots) return bad("a slot out of range");
    const Reply& primary = range.elements[2];
    RedisEndpoint at{primary.elements[0].str, 0};
    if (at.host.empty() || at.host == "?") at.host = asked.host;
    if (primary.elements[1].type != Reply::Type::integer || primary.elements[1].integer <= 0 ||
        primary.elements[1].integer > 65535)
      return bad("a node's port is not 1-65535");
    at.port = static_cast<std::uint16_t>(primary.elements[1].integer);
    const std::uint16_t index = map.index_of(at);
    for (long long s = first; s <= last; ++s) map.owners_[static_cast<std::size_t>(s)] = index;
  }
  if (map.primaries_.empty()) return bad("no slot is served");
  return map;
}

std::uint16_t ClusterMap::index_of(const RedisEndpoint& endpoint) {
  auto it = std::find(primaries_.begin(), primaries_.end(), endpoint);
  if (it != primaries_.end()) return static_cast<std::uint16_t>(it - primaries_.begin());
  primaries_.push_back(endpoint);
  return static_cast<std::uint16_t>(primaries_.size() - 1);
}

std::optional<RedisEndpoint> ClusterMap::owner(std::uint16_t slot) const {
  const std::uint16_t index = owners_[slot % kClusterSlots];
  if (index == kNobody) return std::nullopt;
  return primaries_[index];
}

void ClusterMap::set_owner(std::uint16_t slot, const RedisEndpoint& endpoint) {
  owners_[slot % kClusterSlots] = index_of(endpoint);
}

std::size_t ClusterMap::covered() const {
  return static_cast<std::size_t>(
      std::count_if(owners_.begin(), owners_.end(), [](std::uint16_t i) { return i != kNobody; }));
}

std::optional<Redirect> parse_redirect(std::string_view error) {
  Redirect r;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    r.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = error.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto slot = number(error.substr(0, space));
  const std::string_view where = error.substr(space + 1);
  const auto colon = where.rfind(':');
  if (!slot || *slot < 0 || *slot >= kClusterSlots || colon == std::string_view::npos)
    return std::nullopt;
  const auto port = number(where.substr(colon + 1));
  if (!port || *port <= 0 || *port > 65535) return std::nullopt;
  std::string_view host = where.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  r.slot = static_cast<std::uint16_t>(*slot);
  r.to = RedisEndpoint{std::string(host), static_cast<std::uint16_t>(*port)};
  return r;
}

}  // namespace waitroom::store::redis
