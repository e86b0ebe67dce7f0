// The Redis store's copies kept up to date: start-up loads every room's log, other nodes' commits
// arrive by pub/sub (a missed message is caught by the refresh every second), and presence (who
// is still polling) is shared between nodes in batches.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "ops/log.hpp"
#include "store/health_board.hpp"
#include "store/redis/redis_scripts.hpp"
#include "store/redis/redis_store.hpp"
#include "store/redis/redis_store_internal.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;
using namespace internal;

// ---- start-up, other nodes' changes, presence -------------------------------------------------

asio::awaitable<core::Result<void>> RedisStorage::load_all() {
  std::vector<std::string> smembers{"SMEMBERS", keys_.rooms()};
  auto smembers_op = redis_->command(std::move(smembers));
  auto members = co_await std::move(smembers_op);
  commands_.fetch_add(1);
  if (!members) co_return std::unexpected(members.error());
  if (members->is_error()) co_return fail(ErrorCode::internal, "Redis: " + members->str);
  for (const Reply& name : members->elements) {
    if (!core::is_valid_room_name(name.str)) continue;
    auto e = find_or_add(name.str);
    if (auto r = co_await reload(*e); !r) co_return r;
  }
  co_return core::Result<void>{};
}

void RedisStorage::on_message(std::string_view channel, std::string_view message) {
  auto parts = split(message);
  if (channel == keys_.changes_channel() || channel.ends_with("}:changes")) {
    // ROOM NODE LENGTH (on a cluster's room channel, or the deployment's); this node's own
    // commits are applied already.
    if (parts.size() != 3 || parts[1] == node_ || !core::is_valid_room_name(std::string(parts[0])))
      return;
    auto length = to_uint(parts[2]);
    auto e = find_or_add(std::string(parts[0]));
    if (length && *length > e->applied) schedule_sync(e);
  } else if (channel == keys_.seen_channel()) {
    // NODE ROOM EPOCH AT_S POSITION...
    if (parts.size() < 5 || parts[0] == node_) return;
    auto e = find(std::string(parts[1]));
    auto epoch = to_uint(parts[2]);
    auto at = to_uint(parts[3]);
    if (!e || !epoch || !at) return;
    std::lock_guard lock(e->mu);
    if (!e->room || e->room->epoch() != *epoch) return;
    for (std::size_t i = 4; i < parts.size(); ++i)
      if (auto p = to_uint(parts[i]); p && e->room->has_ticket(*p))
        e->room->mark_seen(*p, static_cast<std::int64_t>(*at));
  } else if (channel == keys_.health_channel()) {
    // NODE ROOM HISTOGRAM FAILED POSTED
    if (parts.size() != 5 || parts[0] == node_ || !health_ ||
        !core::is_valid_room_name(std::string(parts[1])))
      return;
    const std::size_t from = static_cast<std::size_t>(parts[2].data() - message.data());
    health_->heard(parts[0], parts[1], message.substr(from));
  }
}

asio::awaitable<void> RedisStorage::flush_health() {
  if (!health_) co_return;
  for (SharedHealth& part : health_->shareable()) {
    std::vector<std::string> publish{"PUBLISH", keys_.health_channel(),
                                     node_ + " " + part.room + " " + part.text};
    auto publish_op = redis_->command(std::move(publish));
    auto r = co_await std::move(publish_op);
    commands_.fetch_add(1);
    if (!r) co_return;
  }
}

asio::awaitable<void> RedisStorage::flush_seen() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  const std::string at = std::to_string(clock_.now_s());
  for (const auto& e : entries) {
    std::string message;
    {
      std::lock_guard lock(e->mu);
      if (e->seen.empty() || !e->room) {
        e->seen.clear();
        continue;
      }
      std::sort(e->seen.begin(), e->seen.end());
      e->seen.erase(std::unique(e->seen.begin(), e->seen.end()), e->seen.end());
      message = node_ + " " + e->name + " " + std::to_string(e->room->epoch()) + " " + at;
      for (std::uint64_t p : e->seen) message.append(" ").append(std::to_string(p));
      e->seen.clear();
    }
    std::vector<std::string> publish{"PUBLISH", keys_.seen_channel(), std::move(message)};
    auto publish_op = redis_->command(std::move(publish));
    auto r = co_await std::move(publish_op);
    commands_.fetch_add(1);
    if (!r) co_return;
  }
}

// Every second: rooms created elsewhere, logs that grew while a message was missed (or shrank:
// Redis lost data), and this node's presence for the others.
asio::awaitable<void> RedisStorage::refresh_loop() {
  asio::steady_timer timer(ctx_);
  while (!stopping_) {
    timer.expires_after(std::chrono::milliseconds(1000));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) break;
    if (cluster_) {
      // A reshard or a failover moves slots without a word to an idle node: the map is read
      // again, and the rooms' channels follow it.
      co_await cluster_->refresh();
      if (cluster_subscriptions_) cluster_subscriptions_->follow_map();
    }
    std::vector<std::string> smembers{"SMEMBERS", keys_.rooms()};
    auto smembers_op = redis_->command(std::move(smembers));
    auto members = co_await std::move(smembers_op);
    commands_.fetch_add(1);
    healthy_ = members && members->type == Reply::Type::array;
    if (!healthy_) continue;
    std::vector<std::shared_ptr<Entry>> entries;
    std::vector<std::vector<std::string>> lengths;
    for (const Reply& name : members->elements) {
      if (!core::is_valid_room_name(name.str)) continue;
      entries.push_back(find_or_add(name.str));
      lengths.push_back({"LLEN", keys_.log(name.str)});
      lengths.push_back({"GET", keys_.log_base(name.str)});  // records compactions dropped
    }
    if (!lengths.empty()) {
      auto lengths_op = redis_->pipeline(std::move(lengths));
      auto replies = co_await std::move(lengths_op);
      commands_.fetch_add(entries.size());
      if (!replies) {
        healthy_ = false;
        continue;
      }
      for (std::size_t i = 0; i < entries.size() && 2 * i + 1 < replies->size(); ++i) {
        const auto base = to_uint((*replies)[2 * i + 1].str).value_or(0);
        const auto length = base + static_cast<std::uint64_t>((*replies)[2 * i].integer);
        if (length < entries[i]->applied) {
          ops::log_error(
              "a room's log in Redis is shorter than this node's copy: Redis lost writes; "
              "reloading",
              {{"room", entries[i]->name}});
          entries[i]->diverged = true;
        }
        bool stopped = false;
        {
          std::lock_guard lock(entries[i]->mu);
          stopped = entries[i]->damage.has_value();
        }
        // A stopped room is read again even when its length did not change: its record may have
        // been put right in place (write_batch reads it at most every kRecheckStopped).
        if (length != entries[i]->applied || stopped) schedule_sync(entries[i]);
      }
    }
    co_await flush_seen();
    co_await flush_health();
  }
}

}  // namespace waitroom::store::redis
