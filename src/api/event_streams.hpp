#pragma once
// GET /v1/rooms/{room}/tickets/{ticket}/events: a ticket's status as Server-Sent Events
// (docs/events-stream.md). The route is a Router stream route: after the request head the
// connection is ours, and the stream writes the status whenever it changes until the ticket is
// over, the client leaves or the server stops.
//
// Fan-out, so that idle streams cost no CPU and one change reaches every stream of its room fast:
// - Once the stream starts it takes the connection from the server (StreamHandler allows it), so
//   a stream holds only its own small state and one small coroutine, not a request loop's.
// - Each I/O thread keeps its own streams by room (a Shard: no locks, the thread owns it). A
//   stream waits on its own timer, set for its next heartbeat; nothing runs while nothing changes.
// - The store tells room_changed() when a room's change counter grows (serving counter, admissions,
//   sessions, settings, the operators' message, reset). That posts one call to each I/O thread
//   holding streams of that room (a map under a shared lock says which), and to no other.
// - On its thread, the room's streams are refreshed together: one store read for a batch of
//   tickets by position (one lock, no id decoding), each stream compares what a visitor sees with
//   what it sent last, and only the changed ones are woken to write. A room is refreshed at most
//   every kMinRefreshInterval per thread, so a client gets at most about two messages a second.
// - A stream holds at most one status and one operators' message waiting to go out (a newer one
//   replaces each), and a write that does not finish in time drops the stream: slow readers
//   cannot hold memory.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/server_config.hpp"
#include "http/router.hpp"
#include "http/stream_handler.hpp"
#include "ops/event_stream_metrics.hpp"
#include "store/store.hpp"
#include "visitor/abuse_guard.hpp"

namespace waitroom::api {

class EventStreams final : public http::StreamHandler, public store::RoomChangeListener {
 public:
  // Listens to `store`'s room changes from now until destroyed. Must outlive the server's
  // io_contexts (streams unregister from it as they are destroyed).
  EventStreams(store::Store& store, const config::Limits& limits, ops::EventStreamMetrics& metrics);
  ~EventStreams() override;
  EventStreams(const EventStreams&) = delete;
  EventStreams& operator=(const EventStreams&) = delete;

  void add_routes(http::Router& router);
  // Opening a stream then counts against the client's poll rate (null: no limit). Set before
  // serving.
  void set_abuse_guard(visitor::AbuseGuard* guard) { abuse_ = guard; }

  void prepare(std::size_t workers) override;
  std::optional<std::size_t> match(std::string_view, std::string_view) const override {
    return std::nullopt;  // only the Router's route comes here
  }
  boost::asio::awaitable<bool> serve(std::size_t route, http::StreamExchange& exchange) override;
  void room_changed(const std::string& room) override;

 private:
  struct Stream;
  struct RoomStreams;
  struct Shard;
  struct Lease;
  struct Reply;
  enum class Opened { streaming, head_only, answered, answered_close };

  void add(Shard& shard, const std::shared_ptr<Stream>& stream);
  void remove(Shard& shard, Stream& stream);
  // Forgets a room the shard no longer streams (no streams, no refresh running).
  void forget_if_empty(Shard& shard, const std::string& room);
  void on_change(Shard& shard, const std::string& room);
  boost::asio::awaitable<void> refresh_room(Shard& shard, std::string room);
  // Reads the ticket and prepares the stream's first bytes in `s`, or writes the answer that is
  // not a stream (404/410, 204).
  boost::asio::awaitable<Opened> open_stream(http::StreamExchange& ex, const Reply& reply,
                                             Stream& s, std::optional<std::uint64_t> last_id);
  // The stream once it owns its connection: writes, sleeps, wakes, until it ends.
  boost::asio::awaitable<void> run(Shard& shard, Lease lease);
  // Slow readers: writes under way and the 1 s check that drops those past their deadline.
  void begin_write(Shard& shard, Stream& s);
  void end_write(Shard& shard, Stream& s);
  boost::asio::awaitable<void> watch_writes(Shard& shard);
  std::chrono::steady_clock::duration next_heartbeat_in(Shard& shard) const;

  store::Store& store_;
  visitor::AbuseGuard* abuse_ = nullptr;
  const std::uint64_t max_streams_;
  const std::chrono::seconds heartbeat_;
  ops::EventStreamMetrics& metrics_;
  std::vector<std::unique_ptr<Shard>> shards_;  // one per I/O thread, from prepare()
  // Which I/O threads have streams of a room: read by room_changed() on any thread.
  std::shared_mutex watched_mu_;
  std::unordered_map<std::string, std::vector<std::uint8_t>> watched_;
};

}  // namespace waitroom::api
