#include "api/event_streams.hpp"

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <optional>

#include "api/event_stream_format.hpp"
#include "api/json_io.hpp"
#include "http/problem.hpp"
#include "http/wire.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {
// A room's streams on one thread are refreshed at most this often: about two messages a second.
constexpr auto kMinRefreshInterval = std::chrono::milliseconds(500);
// Tickets read under one lock of their room; the lock is let go between batches.
constexpr std::size_t kRefreshBatch = 1024;
// A write (a message, a heartbeat) must finish within this, or the reader is too slow: dropped.
constexpr std::int64_t kStreamWriteTimeoutS = 10;
constexpr std::int64_t kAnswerWriteTimeoutS = 30;
constexpr std::int64_t kLimitRetryAfterS = 5;
constexpr std::size_t kDiscardBytes = 512;
}  // namespace

// One open stream. Owned by its serve() coroutine; its thread's Shard lists it by room.
struct EventStreams::Stream {
  explicit Stream(const asio::any_io_executor& ex) : wake(ex) {}
  asio::steady_timer wake;  // waits for the next heartbeat; cancelled to wake the stream sooner
  std::string room;
  std::string ticket;
  std::uint32_t epoch = 0;
  std::uint64_t position = 0;  // 0 until the ticket was found: refreshes skip it until then
  core::TicketState last;      // what the visitor was last sent (or would have been)
  std::string pending;         // to write next: at most one status message (the newest)
  bool pending_status = false;
  bool final = false;    // `pending` (or what was written) carries a final status: end after it
  bool closing = false;  // the ticket or room is gone: end now
  bool peer_readable = false;
  std::size_t index = 0;  // in its RoomStreams::streams

  // Takes in a fresh read of the ticket: queues a message when the visitor would see a change.
  // False when the stream must end without one (the ticket is gone: reset, room deleted).
  bool take(std::uint32_t room_epoch, std::uint64_t change_id,
            const std::optional<core::TicketState>& state) {
    if (closing || final || position == 0) return true;
    if (room_epoch != epoch || !state) return false;
    if (!status_changed(last, *state)) return true;
    last = *state;
    if (pending_status) pending.clear();  // only the newest status is worth sending
    append_status_event(pending, change_id, ticket_json(ticket, room, *state, true));
    pending_status = true;
    final = is_final(state->status);
    return true;
  }
};

struct EventStreams::RoomStreams {
  std::vector<std::shared_ptr<Stream>> streams;
  bool refreshing = false;  // a refresh_room coroutine is running (or waiting for its turn)
  bool dirty = false;       // the room changed since the running refresh read it
  Clock::time_point last_refresh{};
};

struct EventStreams::Shard {
  std::size_t index = 0;
  std::optional<asio::any_io_executor> executor;  // the thread's; set by its first stream
  std::unordered_map<std::string, RoomStreams> rooms;
};

// Lists a stream in its shard for as long as the serve() coroutine holds it, also when the
// coroutine is destroyed mid-wait (server stop).
struct EventStreams::Registration {
  EventStreams& self;
  Shard& shard;
  std::shared_ptr<Stream> stream;
  Registration(EventStreams& e, Shard& sh, std::shared_ptr<Stream> s)
      : self(e), shard(sh), stream(std::move(s)) {
    self.add(shard, stream);
  }
  ~Registration() { self.remove(shard, *stream); }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
};

namespace {
struct OpenSlot {
  ops::EventStreamMetrics& metrics;
  ~OpenSlot() { metrics.closed(); }
};

// Writes a whole answer (not a stream); true when the connection may carry another request.
asio::awaitable<bool> write_answer(http::StreamExchange& ex, const http::Response& res,
                                   bool head_only) {
  std::string wire;
  http::serialize_response(res, wire);
  if (head_only) wire.resize(wire.find("\r\n\r\n") + 4);
  ex.deadline.expire_in(kAnswerWriteTimeoutS);
  auto [ec, n] = co_await asio::async_write(ex.client, asio::buffer(wire), as_tuple(use_awaitable));
  ex.deadline.clear();
  co_return !ec && res.keep_alive();
}
}  // namespace

EventStreams::EventStreams(store::Store& store, const config::Limits& limits,
                           ops::EventStreamMetrics& metrics)
    : store_(store),
      max_streams_(limits.max_event_streams),
      heartbeat_(limits.event_heartbeat_s),
      metrics_(metrics) {
  store_.set_change_listener(this);
}

EventStreams::~EventStreams() { store_.set_change_listener(nullptr); }

void EventStreams::add_routes(http::Router& router) {
  router.add_stream(http::Method::get, "/v1/rooms/{room}/tickets/{ticket}/events", *this, 0);
}

void EventStreams::prepare(std::size_t workers) {
  shards_.clear();
  for (std::size_t i = 0; i < workers; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    shards_.back()->index = i;
  }
}

void EventStreams::add(Shard& shard, const std::shared_ptr<Stream>& stream) {
  auto [it, inserted] = shard.rooms.try_emplace(stream->room);
  stream->index = it->second.streams.size();
  it->second.streams.push_back(stream);
  if (inserted) {
    std::unique_lock lock(watched_mu_);
    auto& on = watched_[stream->room];
    on.resize(shards_.size());
    on[shard.index] = 1;
  }
}

void EventStreams::remove(Shard& shard, Stream& stream) {
  auto it = shard.rooms.find(stream.room);
  if (it == shard.rooms.end()) return;
  auto& list = it->second.streams;
  if (stream.index < list.size() && list[stream.index].get() == &stream) {
    list[stream.index] = std::move(list.back());
    list[stream.index]->index = stream.index;
    list.pop_back();
  }
  forget_if_empty(shard, stream.room);
}

void EventStreams::forget_if_empty(Shard& shard, const std::string& room) {
  auto it = shard.rooms.find(room);
  if (it == shard.rooms.end() || !it->second.streams.empty() || it->second.refreshing) return;
  shard.rooms.erase(it);
  std::unique_lock lock(watched_mu_);
  auto w = watched_.find(room);
  if (w == watched_.end()) return;
  w->second[shard.index] = 0;
  if (std::all_of(w->second.begin(), w->second.end(), [](std::uint8_t on) { return on == 0; }))
    watched_.erase(w);
}

void EventStreams::room_changed(const std::string& room) {
  std::shared_lock lock(watched_mu_);
  auto it = watched_.find(room);
  if (it == watched_.end()) return;
  for (std::size_t i = 0; i < it->second.size(); ++i) {
    if (!it->second[i]) continue;
    Shard* shard = shards_[i].get();
    asio::post(*shard->executor, [this, shard, room] { on_change(*shard, room); });
  }
}

void EventStreams::on_change(Shard& shard, const std::string& room) {
  auto it = shard.rooms.find(room);
  if (it == shard.rooms.end()) return;
  it->second.dirty = true;
  if (it->second.refreshing) return;  // the running refresh goes round again
  it->second.refreshing = true;
  asio::co_spawn(*shard.executor, refresh_room(shard, room), asio::detached);
}

asio::awaitable<void> EventStreams::refresh_room(Shard& shard, std::string room) {
  std::vector<std::shared_ptr<Stream>> batch;
  std::vector<std::uint64_t> positions;
  for (;;) {
    auto it = shard.rooms.find(room);
    if (it == shard.rooms.end()) co_return;
    if (!it->second.dirty) {
      it->second.refreshing = false;
      forget_if_empty(shard, room);
      co_return;
    }
    // Coalesce: changes within kMinRefreshInterval of the last refresh wait for the next one.
    const auto due = it->second.last_refresh + kMinRefreshInterval;
    if (Clock::now() < due) {
      asio::steady_timer timer(*shard.executor, due);
      co_await timer.async_wait(as_tuple(use_awaitable));  // cancelled only at shutdown
      continue;                                            // the map may have changed meanwhile
    }
    it->second.dirty = false;
    it->second.last_refresh = Clock::now();
    const std::vector<std::shared_ptr<Stream>> all =
        it->second.streams;  // streams may leave meanwhile
    for (std::size_t from = 0; from < all.size(); from += kRefreshBatch) {
      batch.clear();
      positions.clear();
      for (std::size_t i = from; i < std::min(all.size(), from + kRefreshBatch); ++i) {
        if (all[i]->position == 0 || all[i]->closing || all[i]->final) continue;
        batch.push_back(all[i]);
        positions.push_back(all[i]->position);
      }
      if (batch.empty()) continue;
      auto op = store_.ticket_states(room, positions);
      auto states = co_await std::move(op);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        Stream& s = *batch[i];
        const bool alive = states && s.take(states->epoch, states->change_id, states->states[i]);
        if (!alive) s.closing = true;
        if (!alive || s.pending_status) s.wake.cancel();
      }
    }
  }
}

asio::awaitable<bool> EventStreams::serve(std::size_t, http::StreamExchange& ex) {
  const auto& req = ex.parser.get();
  const unsigned version = req.version();
  const bool head_only = req.method() == http::Method::head;
  // A request with a body we will not read cannot be followed by another on this connection.
  const bool keep_alive = req.keep_alive() && ex.parser.is_done();
  http::Request shell{req.method(), "", version};
  shell.keep_alive(keep_alive);

  Shard& shard = *shards_[ex.worker];
  if (!shard.executor) shard.executor = ex.client.get_executor();
  if (!metrics_.try_open(max_streams_)) {
    http::Response res =
        http::problem(shell, http::Status::service_unavailable,
                      "too many live update streams; poll the ticket instead", kLimitRetryAfterS);
    const bool again = co_await write_answer(ex, res, head_only);
    co_return again;
  }
  OpenSlot slot{metrics_};
  auto s = std::make_shared<Stream>(ex.client.get_executor());
  for (const auto& [k, v] : ex.params) {
    if (k == "room") s->room = std::string(v);
    if (k == "ticket") s->ticket = std::string(v);
  }
  const auto last_event_id = parse_last_event_id(http::header_value(req, "Last-Event-ID"));
  // Listed before the ticket is read, so no change between the read and the listing is missed.
  Registration registration(*this, shard, s);
  auto op = store_.watch_ticket(s->room, s->ticket);
  auto watched = co_await std::move(op);
  if (!watched) {
    http::Response res = http::problem(shell, watched.error());
    const bool again = co_await write_answer(ex, res, head_only);
    co_return again;
  }
  const core::TicketState& state = watched->view.state;
  const bool caught_up = last_event_id && *last_event_id == watched->change_id;
  if (caught_up && is_final(state.status)) {
    // The client has this final status already: 204 tells an EventSource not to reconnect.
    http::Response res{http::Status::no_content, version};
    res.set(http::beast_http::field::cache_control, "no-store");
    res.keep_alive(keep_alive);
    const bool again = co_await write_answer(ex, res, head_only);
    co_return again;
  }
  s->epoch = watched->epoch;
  s->position = state.position;
  s->last = state;
  std::string out = event_stream_head(version);
  if (head_only) {
    ex.deadline.expire_in(kAnswerWriteTimeoutS);
    co_await asio::async_write(ex.client, asio::buffer(out), as_tuple(use_awaitable));
    ex.deadline.clear();
    co_return false;  // the body would have run until the close
  }
  append_retry(out);
  if (!caught_up) {
    append_status_event(out, watched->change_id, ticket_json(watched->view, true));
    s->final = is_final(state.status);
  }
  // From here on the request is no longer needed: free its headers and read buffer (a stream may
  // stay open for hours; thousands of them should cost little).
  { auto request = ex.parser.release(); }
  ex.buffer.clear();
  ex.buffer.shrink_to_fit();
  s->pending = std::move(out);
  s->pending_status = !caught_up;
  co_await stream_loop(ex, s);
  co_return false;
}

// Writes what is pending, then sleeps until the next heartbeat or until woken (a new status, the
// client went away, the ticket is gone).
asio::awaitable<void> EventStreams::stream_loop(http::StreamExchange& ex,
                                                std::shared_ptr<Stream> s) {
  // The client sends nothing more; readable means it closed (or sent junk to drop).
  auto watch_peer = [&ex, s] {
    ex.client.async_wait(asio::socket_base::wait_read, [s](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: the stream is ending
      s->peer_readable = true;
      s->wake.cancel();
    });
  };
  watch_peer();
  auto next_heartbeat = Clock::now() + heartbeat_;
  std::string out;
  for (;;) {
    if (s->closing) break;
    if (s->peer_readable) {
      s->peer_readable = false;
      boost::system::error_code ec;
      const std::size_t available = ex.client.available(ec);
      if (ec || available == 0) break;  // end of stream: the client left
      std::array<char, kDiscardBytes> sink;
      ex.client.read_some(asio::buffer(sink, std::min(available, sink.size())), ec);
      if (ec) break;
      watch_peer();
    }
    if (s->pending.empty() && Clock::now() >= next_heartbeat) {
      // The heartbeat is also a fresh look at the ticket: it records the visitor as present and
      // catches what changes with time alone (estimates, a pass running out).
      const std::array<std::uint64_t, 1> position{s->position};
      auto op = store_.ticket_states(s->room, position);
      auto fresh = co_await std::move(op);
      if (!fresh || !s->take(fresh->epoch, fresh->change_id, fresh->states[0])) break;
      append_heartbeat(s->pending);
    }
    if (!s->pending.empty()) {
      out = std::move(s->pending);
      s->pending = std::string();
      const bool status = s->pending_status;
      s->pending_status = false;
      const bool last = s->final;
      ex.deadline.expire_in(kStreamWriteTimeoutS);
      auto [ec, n] =
          co_await asio::async_write(ex.client, asio::buffer(out), as_tuple(use_awaitable));
      ex.deadline.clear();
      if (ec) {
        if (ec == asio::error::operation_aborted) metrics_.dropped();  // the deadline passed
        break;
      }
      if (status) metrics_.sent(1);
      out = std::string();  // an idle stream keeps no buffer
      if (last) break;
      next_heartbeat = Clock::now() + heartbeat_;
      continue;
    }
    s->wake.expires_at(next_heartbeat);
    co_await s->wake.async_wait(as_tuple(use_awaitable));  // timed out or woken: look again
  }
  boost::system::error_code ec;
  ex.client.cancel(ec);  // the peer watch
}

}  // namespace waitroom::api
