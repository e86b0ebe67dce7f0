#include "store/redis/redis_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <future>

#include "engine/apply_record.hpp"
#include "ops/log.hpp"
#include "store/redis/redis_scripts.hpp"
#include "store/redis/redis_store_internal.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;
using namespace internal;

RedisStorage::RedisStorage(RedisOptions options, std::string key_prefix, const core::Clock& clock,
                           const token::TicketIdCodec& ids)
    : options_(std::move(options)),
      keys_(std::move(key_prefix)),
      clock_(clock),
      ids_(ids),
      node_(random_node_id()),
      compactor_([this](bool automatic) { return compact_now(automatic); },
                 [this] { return compaction_due(); }) {
  redis_ = make_redis_client(ctx_.get_executor(), options_);
  if (options_.cluster) cluster_ = static_cast<RedisCluster*>(redis_.get());
}

core::Result<std::unique_ptr<RedisStorage>> RedisStorage::open(
    RedisOptions options, std::string key_prefix, const core::Clock& clock,
    const token::TicketIdCodec& ids, std::uint64_t compact_after_bytes, ops::EventFeed* feed) {
  std::unique_ptr<RedisStorage> store(
      new RedisStorage(std::move(options), std::move(key_prefix), clock, ids));
  RedisStorage& s = *store;
  s.set_event_feed(feed);  // before the rooms load: the feed gets the events their logs keep
  std::optional<core::Result<void>> loaded;
  asio::co_spawn(s.ctx_, s.load_all(), [&loaded](std::exception_ptr e, core::Result<void> r) {
    if (e) std::rethrow_exception(e);
    loaded.emplace(std::move(r));
  });
  while (!loaded && s.ctx_.run_one() > 0) {
  }
  if (!loaded) return fail(ErrorCode::internal, "loading the rooms from Redis did not finish");
  if (!*loaded) return std::unexpected(loaded->error());
  s.healthy_ = true;

  std::vector<std::string> channels{s.keys_.changes_channel(), s.keys_.seen_channel(),
                                    s.keys_.health_channel()};
  auto on_message = [&s](std::string_view channel, std::string_view message) {
    s.on_message(channel, message);
  };
  auto on_connected = [&s]() {
    // Changes published while the subscription was down are read now.
    std::vector<std::shared_ptr<Entry>> entries;
    {
      std::shared_lock lock(s.rooms_mu_);
      for (const auto& [name, entry] : s.rooms_) entries.push_back(entry);
    }
    for (const auto& e : entries) s.schedule_sync(e);
  };
  if (s.cluster_) {
    // A room's channel (re)subscribed: what its commits published meanwhile is read now.
    auto on_subscribed = [&s](const std::string& channel) {
      const auto open = channel.find('{'), close = channel.rfind("}:changes");
      if (open == std::string::npos || close == std::string::npos || close <= open) return;
      if (auto e = s.find(channel.substr(open + 1, close - open - 1))) s.schedule_sync(e);
    };
    s.cluster_subscriptions_ =
        std::make_unique<ClusterSubscriptions>(s.ctx_.get_executor(), s.options_, *s.cluster_,
                                               std::move(channels), on_message, on_subscribed);
    {
      std::shared_lock lock(s.rooms_mu_);
      for (const auto& [name, entry] : s.rooms_)
        s.cluster_subscriptions_->add_sharded(s.keys_.room_changes_channel(name));
    }
    s.cluster_subscriptions_->start();
  } else {
    s.subscriber_ = std::make_unique<RedisSubscriber>(
        s.ctx_.get_executor(), s.options_, std::move(channels), on_message, on_connected);
    s.subscriber_->start();
  }
  asio::co_spawn(s.ctx_, s.refresh_loop(), asio::detached);
  s.thread_ = std::jthread([&s] {
    auto work = asio::make_work_guard(s.ctx_);
    s.ctx_.run();
  });
  s.compact_after_bytes_ = compact_after_bytes;
  s.compactor_.start();
  return store;
}

RedisStorage::~RedisStorage() { stop(); }

void RedisStorage::stop() {
  compactor_.stop();  // a compaction that runs ends first: it needs the store's thread
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) {
    auto closed = asio::co_spawn(ctx_, release_and_close(), asio::use_future);
    closed.wait_for(std::chrono::seconds(2));
    ctx_.stop();
    thread_.join();
  }
}

// A graceful stop hands the rooms this node drives to the others at once.
asio::awaitable<void> RedisStorage::release_and_close() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  const auto now = SteadyClock::now();
  for (const auto& e : entries) {
    auto unlock_op = unlock(*e);
    co_await std::move(unlock_op);
    if (e->lease_until <= now) continue;
    e->lease_until = {};
    std::vector<std::string> keys{keys_.driver(e->name)};
    std::vector<std::string> args{node_};
    auto release_op = run_script(*redis_, release_script(), std::move(keys), std::move(args));
    co_await std::move(release_op);
  }
  if (subscriber_) subscriber_->stop();
  if (cluster_subscriptions_) cluster_subscriptions_->stop();
  redis_->close();
}

bool RedisStorage::ready() const { return healthy_.load(); }

void RedisStorage::render_metrics(std::string& out) const {
  auto counter = [&out](const char* name, const char* help, std::uint64_t value) {
    out.append("# HELP ")
        .append(name)
        .append(" ")
        .append(help)
        .append("\n# TYPE ")
        .append(name)
        .append(" counter\n")
        .append(name)
        .append(" ")
        .append(std::to_string(value))
        .append("\n");
  };
  counter("waitroom_redis_commands_total", "Commands this node sent to Redis (scripts count once).",
          commands_.load());
  counter("waitroom_redis_commits_total",
          "Changes (batches of requests) this node appended to room logs.", commits_.load());
  counter("waitroom_redis_records_total", "Records those changes appended.", records_.load());
  counter("waitroom_redis_lock_waits_total",
          "Times a change found another node holding the room's write lock.", lock_waits_.load());
  out.append(
         "# HELP waitroom_redis_stopped_rooms Rooms stopped at a record of their log in Redis "
         "that cannot be read (damaged, or written by a newer version).\n"
         "# TYPE waitroom_redis_stopped_rooms gauge\nwaitroom_redis_stopped_rooms ")
      .append(std::to_string(stopped_rooms()))
      .append("\n");
}

// ---- the copies ---------------------------------------------------------------------------

std::shared_ptr<RedisStorage::Entry> RedisStorage::find(const std::string& room) const {
  std::shared_lock lock(rooms_mu_);
  auto it = rooms_.find(room);
  return it == rooms_.end() ? nullptr : it->second;
}

std::shared_ptr<RedisStorage::Entry> RedisStorage::find_or_add(const std::string& room) {
  if (auto e = find(room)) return e;
  std::unique_lock lock(rooms_mu_);
  auto [it, added] = rooms_.try_emplace(room, nullptr);
  if (added) {
    it->second = std::make_shared<Entry>(room);
    it->second->change_id = static_cast<std::uint64_t>(clock_.now_ms());
    if (cluster_) listen_to(room);
  }
  return it->second;
}

std::string RedisStorage::changes_channel_of(std::string_view room) const {
  return cluster_ ? keys_.room_changes_channel(room) : keys_.changes_channel();
}

// Subscribed on the store's thread; until then (and until the node confirms) the room's commits
// elsewhere are found by the refresh every second, and the subscription's confirmation reads
// the room's log again.
void RedisStorage::listen_to(const std::string& room) {
  asio::post(ctx_, [this, channel = keys_.room_changes_channel(room)]() mutable {
    if (cluster_subscriptions_) cluster_subscriptions_->add_sharded(std::move(channel));
  });
}

core::Result<void> RedisStorage::apply(Entry& e, const engine::LogRecord& record) {
  auto r = engine::apply_record(e.name, e.room, e.last_epoch, record, clock_.now_s());
  if (!r) return r;
  feed_record(e.name, e.last_event_seq, record);
  ++e.applied;
  return {};
}

void RedisStorage::note_change(Entry& e) {
  ++e.change_id;
  if (changes_) changes_->room_changed(e.name);
}

// A pass in a copy with a commit in flight may not be in the log yet.
RoomSlot RedisStorage::slot_of(Entry& e) const {
  return RoomSlot{e.room,
                  e.last_epoch,
                  e.expired_sessions,
                  e.change_id,
                  engine::OpContext{clock_, ids_, &e.seen},
                  e.uncommitted};
}

// ---- reads: from the copy, under the room's lock ----------------------------------------------

core::Result<void> RedisStorage::read(const std::string& room, Reader read) {
  auto e = find(room);
  if (!e) {
    read_absent(read, engine::OpContext{clock_, ids_, nullptr});
    return {};
  }
  std::lock_guard lock(e->mu);
  if (e->damage) return std::unexpected(*e->damage);
  RoomSlot slot = slot_of(*e);
  read(slot);
  return {};
}

// A stopped room's copy lacks records from the bad one on: its figures would mislead. It is
// counted in waitroom_redis_stopped_rooms and logged instead.
void RedisStorage::for_each_room(Reader read) {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  for (auto& e : entries) {
    std::lock_guard lock(e->mu);
    if (e->damage) continue;
    RoomSlot slot = slot_of(*e);
    read(slot);
  }
}

// ---- changes: jobs of the room's writer ---------------------------------------------------------

// The job runs on the store's thread while the caller waits, so `change` (which refers to the
// caller's frame) outlives it. Its batch is committed whether or not this operation failed.
RoomStorage::Op<void> RedisStorage::change(std::string room, Changer change, bool may_create) {
  if (may_create) {
    // Listed before its first record, so a node that starts now finds the room's log.
    auto register_op = register_room(room);
    if (auto listed = co_await std::move(register_op); !listed)
      co_return std::unexpected(listed.error());
  }
  auto run = [this, change](Entry& e, engine::Effects& out) {
    RoomSlot slot = slot_of(e);
    change(slot, out);
  };
  auto op = run_job(std::move(room), std::move(run), /*fenced=*/false, /*read_only=*/false);
  co_return co_await std::move(op);
}

RoomStorage::Op<void> RedisStorage::register_room(std::string room) {
  auto op = asio::co_spawn(ctx_, register_on_thread(std::move(room)), asio::use_awaitable);
  co_return co_await std::move(op);
}

RoomStorage::Op<void> RedisStorage::register_on_thread(std::string room) {
  std::vector<std::string> sadd{"SADD", keys_.rooms(), room};
  auto sadd_op = redis_->command(std::move(sadd));
  auto reply = co_await std::move(sadd_op);
  commands_.fetch_add(1);
  if (!reply) co_return std::unexpected(unavailable(reply.error().detail));
  if (reply->is_error()) co_return std::unexpected(unavailable(reply->str));
  if (cluster_ && reply->integer == 1) {
    // New: the other nodes start listening to its own channel now (redis_keys.hpp).
    std::vector<std::string> publish{"PUBLISH", keys_.changes_channel(), room + " " + node_ + " 0"};
    auto publish_op = redis_->command(std::move(publish));
    co_await std::move(publish_op);
    commands_.fetch_add(1);
  }
  co_return core::Result<void>{};
}

core::Result<std::unique_ptr<Store>> open_redis_store(RedisOptions options, std::string key_prefix,
                                                      const core::Clock& clock,
                                                      const token::TicketIdCodec& ids,
                                                      const core::PassMinter& minter,
                                                      std::uint64_t compact_after_bytes,
                                                      ops::EventFeed* feed) {
  auto storage = RedisStorage::open(std::move(options), std::move(key_prefix), clock, ids,
                                    compact_after_bytes, feed);
  if (!storage) return std::unexpected(storage.error());
  return std::make_unique<Store>(std::move(*storage), clock, ids, minter);
}

}  // namespace waitroom::store::redis
