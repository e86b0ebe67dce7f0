#include "api/event_streams.hpp"

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <optional>
#include <random>
#include <utility>

#include "api/event_stream_format.hpp"
#include "http/problem.hpp"
#include "http/transport.hpp"
#include "http/wire.hpp"
#include "visitor/status_json.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {
using tcp = asio::ip::tcp;
// A room's streams on one thread are refreshed at most this often: about two messages a second.
constexpr auto kMinRefreshInterval = std::chrono::milliseconds(500);
// Tickets read under one lock of their room; the lock is let go between batches.
constexpr std::size_t kRefreshBatch = 1024;
// A write (a message, a heartbeat) must finish within this, or the reader is too slow: dropped.
constexpr auto kStreamWriteTimeout = std::chrono::seconds(10);
constexpr auto kWriteCheckInterval = std::chrono::seconds(1);
constexpr std::int64_t kAnswerWriteTimeoutS = 30;
constexpr std::int64_t kLimitRetryAfterS = 5;
constexpr std::size_t kDiscardBytes = 512;
constexpr std::size_t kNotWriting = SIZE_MAX;
constexpr std::int64_t kHeartbeatSpreadParts = 5;  // heartbeats come up to a fifth early
}  // namespace

// One open stream. Its run() coroutine (and, before that, serve()) holds it; its thread's Shard
// lists it by room.
struct EventStreams::Stream {
  explicit Stream(const asio::any_io_executor& ex) : connection(ex), wake(ex) {}
  http::Transport connection;  // once taken from the server: plain, or TLS (written through)
  tcp::socket& socket() { return connection.socket(); }
  asio::steady_timer wake;  // waits for the next heartbeat; cancelled to wake the stream sooner
  std::string room;
  std::string ticket;
  std::uint32_t epoch = 0;
  std::uint64_t position = 0;         // 0 until the ticket was found: refreshes skip it until then
  core::TicketState last;             // what the visitor was last sent (or would have been)
  core::RoomMessagePtr last_message;  // the room's message as the visitor was last told it
  std::string pending;   // to write next as it is: the answer's head, the retry hint, a heartbeat
  std::string status;    // to write next: at most one status message (the newest)
  std::string message;   // to write next: at most one message event (the newest)
  bool final = false;    // `status` (or what was written) carries a final status: end after it
  bool closing = false;  // the ticket or room is gone: end now
  bool peer_readable = false;
  bool too_slow = false;              // a write passed its deadline
  std::size_t index = 0;              // in its RoomStreams::streams
  std::size_t writing = kNotWriting;  // in its Shard::writing while a write is under way
  Clock::time_point write_deadline{};

  bool has_news() const { return !status.empty() || !message.empty(); }
  bool has_output() const { return !pending.empty() || has_news(); }

  // Takes in a fresh read of the ticket and its room's message: queues a message when the
  // visitor would see a change (a newer one replaces one not sent yet). False when the stream
  // must end without one (the ticket is gone: reset, room deleted).
  bool take(std::uint32_t room_epoch, std::uint64_t change_id,
            const std::optional<core::TicketState>& state,
            const core::RoomMessagePtr& now_message) {
    if (closing || final || position == 0) return true;
    if (room_epoch != epoch || !state) return false;
    if (!core::same_message(last_message, now_message)) {
      last_message = now_message;
      message.clear();
      append_message_event(message, change_id, visitor::message_event_json(now_message.get()));
    }
    if (!status_changed(last, *state)) return true;
    last = *state;
    status.clear();  // only the newest status is worth sending
    append_status_event(status, change_id,
                        visitor::ticket_json(ticket, room, *state, true, now_message.get()));
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
  std::vector<Stream*> writing;  // streams with a write under way (usually none: writes are quick)
  bool watching_writes = false;  // watch_writes() runs
  std::minstd_rand jitter;       // spreads heartbeats (see next_heartbeat_in)
  std::array<char, kDiscardBytes> discard;  // where bytes a client sends on its stream are dropped
};

// A stream's place: under max_event_streams and in its shard's lists. Freed however the stream
// ends, also when its coroutine is destroyed mid-wait (server stop). Moves from serve() to run().
struct EventStreams::Lease {
  EventStreams* self;
  Shard* shard;
  std::shared_ptr<Stream> stream;
  Lease(EventStreams& e, Shard& sh, std::shared_ptr<Stream> s)
      : self(&e), shard(&sh), stream(std::move(s)) {
    self->add(*shard, stream);
  }
  Lease(Lease&& other) noexcept
      : self(std::exchange(other.self, nullptr)),
        shard(other.shard),
        stream(std::move(other.stream)) {}
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (!self) return;
    self->end_write(*shard, *stream);
    self->remove(*shard, *stream);
    self->metrics_.closed();
  }
};

namespace {
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
        const bool alive =
            states && s.take(states->epoch, states->change_id, states->states[i], states->message);
        if (!alive) s.closing = true;
        if (!alive || s.has_news()) s.wake.cancel();
      }
      // Let this batch's streams write before the next batch is read: the first messages leave
      // sooner, and the next batch's messages reuse the memory of this one's.
      auto yield = asio::post(*shard.executor, use_awaitable);
      co_await std::move(yield);
    }
  }
}

// How the request asked to be answered, for the answers that are not a stream.
struct EventStreams::Reply {
  unsigned version = 11;
  bool keep_alive = false;
  bool head_only = false;
};

namespace {
// The answers that are not a stream, each built in its own short-lived coroutine frame so that
// the stream's frame, which lives as long as the stream, does not carry them.
asio::awaitable<bool> refuse(http::StreamExchange& ex, unsigned version, bool keep_alive,
                             bool head_only, const core::Error& error) {
  http::Request shell{http::Method::get, "", version};
  shell.keep_alive(keep_alive);
  const http::Response res = http::problem(shell, error);
  const bool again = co_await write_answer(ex, res, head_only);
  co_return again;
}

asio::awaitable<bool> no_content(http::StreamExchange& ex, unsigned version, bool keep_alive) {
  http::Response res{http::Status::no_content, version};
  res.set(http::beast_http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  const bool again = co_await write_answer(ex, res, false);
  co_return again;
}
}  // namespace

asio::awaitable<EventStreams::Opened> EventStreams::open_stream(
    http::StreamExchange& ex, const Reply& reply, Stream& s, std::optional<std::uint64_t> last_id) {
  if (abuse_) {
    // Opening a stream is a status read: it counts against the client's poll rate.
    auto admitted = co_await abuse_->admit_poll(ex.parser.get(), ex.remote, s.room);
    if (!admitted) {
      const bool again =
          co_await refuse(ex, reply.version, reply.keep_alive, reply.head_only, admitted.error());
      co_return again ? Opened::answered : Opened::answered_close;
    }
  }
  auto op = store_.watch_ticket(s.room, s.ticket);
  auto watched = co_await std::move(op);
  if (!watched) {
    const bool again =
        co_await refuse(ex, reply.version, reply.keep_alive, reply.head_only, watched.error());
    co_return again ? Opened::answered : Opened::answered_close;
  }
  const core::TicketState& state = watched->view.state;
  const bool caught_up = last_id == watched->change_id;
  if (caught_up && is_final(state.status)) {
    // The client has this final status already: 204 tells an EventSource not to reconnect.
    const bool again = co_await no_content(ex, reply.version, reply.keep_alive);
    co_return again ? Opened::answered : Opened::answered_close;
  }
  s.epoch = watched->epoch;
  s.position = state.position;
  s.last = state;
  s.last_message = watched->view.message;
  s.pending = event_stream_head(reply.version);
  if (reply.head_only) co_return Opened::head_only;
  append_retry(s.pending);
  if (!caught_up) {
    append_status_event(s.status, watched->change_id, visitor::ticket_json(watched->view, true));
    s.final = is_final(state.status);
    // The room's message follows when there is one, and for a client coming back (it may have
    // missed that the message was cleared).
    if (s.last_message || last_id)
      append_message_event(s.message, watched->change_id,
                           visitor::message_event_json(s.last_message.get()));
  }
  co_return Opened::streaming;
}

// One stream from request to close. The coroutine frame lives as long as the stream: keep what it
// holds across waits small (thousands of streams), and build everything else in helpers.
asio::awaitable<bool> EventStreams::serve(std::size_t, http::StreamExchange& ex) {
  Shard& shard = *shards_[ex.worker];
  if (!shard.executor) shard.executor = ex.client.get_executor();
  Reply reply;
  std::optional<std::uint64_t> last_id;
  auto s = std::make_shared<Stream>(ex.client.get_executor());
  {
    const auto& req = ex.parser.get();
    reply.version = req.version();
    reply.head_only = req.method() == http::Method::head;
    // A request with a body we will not read cannot be followed by another on this connection.
    reply.keep_alive = req.keep_alive() && ex.parser.is_done();
    last_id = parse_last_event_id(http::header_value(req, "Last-Event-ID"));
    for (const auto& [k, v] : ex.params) {
      if (k == "room") s->room = std::string(v);
      if (k == "ticket") s->ticket = std::string(v);
    }
  }
  if (!metrics_.try_open(max_streams_)) {
    const core::Error busy{core::ErrorCode::unavailable,
                           "too many live update streams; poll the ticket instead",
                           kLimitRetryAfterS};
    const bool again = co_await refuse(ex, reply.version, reply.keep_alive, reply.head_only, busy);
    co_return again;
  }
  // Listed before the ticket is read, so no change between the read and the listing is missed.
  Lease lease(*this, shard, s);
  const Opened opened = co_await open_stream(ex, reply, *s, last_id);
  if (opened == Opened::answered) co_return true;
  if (opened == Opened::answered_close) co_return false;
  if (opened == Opened::head_only) {
    ex.deadline.expire_in(kAnswerWriteTimeoutS);
    co_await asio::async_write(ex.client, asio::buffer(s->pending), as_tuple(use_awaitable));
    ex.deadline.clear();
    co_return false;  // the body would have run until the close
  }
  // The stream takes the connection: the server's request loop, with its buffers and parser,
  // ends here, and the stream goes on with just its own state (its first message may leave
  // before this returns).
  ex.release();
  s->connection = std::move(ex.client);
  asio::co_spawn(*shard.executor, run(shard, std::move(lease)), asio::detached);
  co_return false;
}

namespace {
// The client sends nothing after its request: readable means it closed (or sent bytes to drop).
// Watched on the TCP socket, also under TLS: nothing is read through TLS any more, so what the
// client sends (its close_notify too) is dropped as raw bytes.
template <class StreamPtr>
void watch_peer(const StreamPtr& s) {
  s->socket().async_wait(tcp::socket::wait_read, [s](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the stream is ending
    s->peer_readable = true;
    s->wake.cancel();
  });
}
}  // namespace

// Writes what is pending, then sleeps until the next heartbeat or until woken (a new status, the
// client went away, the ticket is gone). This frame lives as long as the stream: keep it small.
asio::awaitable<void> EventStreams::run(Shard& shard, Lease lease) {
  const std::shared_ptr<Stream>& s = lease.stream;
  watch_peer(s);
  auto next_heartbeat = Clock::now() + next_heartbeat_in(shard);
  std::string out;
  bool client_gone = false;  // it left, or stopped reading
  for (;;) {
    if (s->closing) break;
    if (s->peer_readable) {
      s->peer_readable = false;
      boost::system::error_code ec;
      const std::size_t available = s->socket().available(ec);
      client_gone = ec || available == 0;  // end of stream: the client left
      if (client_gone) break;
      s->socket().read_some(asio::buffer(shard.discard, std::min(available, shard.discard.size())),
                            ec);
      client_gone = bool(ec);
      if (client_gone) break;
      watch_peer(s);
    }
    if (!s->has_output() && Clock::now() >= next_heartbeat) {
      // The heartbeat is also a fresh look at the ticket: it records the visitor as present and
      // catches what changes with time alone (estimates, a pass running out).
      const std::array<std::uint64_t, 1> position{s->position};
      auto op = store_.ticket_states(s->room, position);
      auto fresh = co_await std::move(op);
      if (!fresh || !s->take(fresh->epoch, fresh->change_id, fresh->states[0], fresh->message))
        break;
      append_heartbeat(s->pending);
    }
    if (s->has_output()) {
      out = std::move(s->pending);
      out += s->status;
      out += s->message;
      s->pending = std::string();
      const bool status = !s->status.empty();
      s->status = std::string();
      s->message = std::string();
      const bool last = s->final;
      begin_write(shard, *s);
      auto [ec, n] =
          co_await asio::async_write(s->connection, asio::buffer(out), as_tuple(use_awaitable));
      end_write(shard, *s);
      if (ec) {
        if (s->too_slow) metrics_.dropped();
        client_gone = true;
        break;
      }
      if (status) metrics_.sent(1);
      out = std::string();  // an idle stream keeps no buffer
      if (last) break;
      next_heartbeat = Clock::now() + next_heartbeat_in(shard);
      continue;
    }
    s->wake.expires_at(next_heartbeat);
    co_await s->wake.async_wait(as_tuple(use_awaitable));  // timed out or woken: look again
  }
  // TLS: close_notify tells the client that the stream ended here, not somewhere on the way.
  if (!client_gone && s->connection.is_tls()) {
    begin_write(shard, *s);
    co_await s->connection.async_send_close_notify(as_tuple(use_awaitable));
    end_write(shard, *s);
  }
  boost::system::error_code ec;
  s->socket().shutdown(tcp::socket::shutdown_both, ec);
  s->socket().close(ec);  // also ends the peer watch
}

// Between 80% and 100% of event_heartbeat_s: streams that got the same message at once do not
// all send their heartbeats in the same instant ever after.
Clock::duration EventStreams::next_heartbeat_in(Shard& shard) const {
  const auto full = std::chrono::duration_cast<Clock::duration>(heartbeat_);
  const auto spread = static_cast<std::uint64_t>(full.count() / kHeartbeatSpreadParts);
  if (spread == 0) return full;
  return full - Clock::duration(static_cast<Clock::rep>(shard.jitter() % spread));
}

void EventStreams::begin_write(Shard& shard, Stream& s) {
  s.write_deadline = Clock::now() + kStreamWriteTimeout;
  s.writing = shard.writing.size();
  shard.writing.push_back(&s);
  if (shard.watching_writes) return;
  shard.watching_writes = true;
  asio::co_spawn(*shard.executor, watch_writes(shard), asio::detached);
}

void EventStreams::end_write(Shard& shard, Stream& s) {
  if (s.writing == kNotWriting) return;
  shard.writing[s.writing] = shard.writing.back();
  shard.writing[s.writing]->writing = s.writing;
  shard.writing.pop_back();
  s.writing = kNotWriting;
}

// Runs only while writes are under way: an idle thread has no timer ticking for this.
asio::awaitable<void> EventStreams::watch_writes(Shard& shard) {
  asio::steady_timer timer(*shard.executor);
  while (!shard.writing.empty()) {
    timer.expires_after(kWriteCheckInterval);
    co_await timer.async_wait(as_tuple(use_awaitable));
    const auto now = Clock::now();
    for (Stream* s : shard.writing) {
      if (s->write_deadline > now || s->too_slow) continue;
      s->too_slow = true;
      boost::system::error_code ec;
      s->socket().cancel(ec);  // the write ends with operation_aborted
    }
  }
  shard.watching_writes = false;
}

}  // namespace waitroom::api
