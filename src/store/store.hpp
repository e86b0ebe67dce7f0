#pragma once
// What a room's state needs from storage. The embedded store (default) and the Redis store
// (scale-out) implement it; handlers call exactly one of these per request. Operations are
// coroutines so that a store may wait on disk or the network without blocking an I/O thread.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/pass_minter.hpp"
#include "core/room.hpp"
#include "core/room_settings.hpp"
#include "core/ticket_status.hpp"

namespace waitroom::store {

struct RoomView {
  std::string name;
  core::RoomSettings settings;
  std::uint32_t epoch = 0;
  bool paused = false;
  core::RoomCounters counters;
};

struct TicketView {
  std::string ticket;
  std::string room;
  core::TicketState state;
};

struct EnqueueResult {
  TicketView ticket;
  bool created = false;  // false: the visitor's existing ticket was returned
};

struct PassView {
  std::string pass;
  std::int64_t expires_at_s = 0;
  std::int64_t expires_in_s = 0;
};

// Overrides for one first issuance (AWS's private generate_token); a re-fetch returns the pass as
// first issued.
struct PassOptions {
  std::optional<std::string> issuer;
  std::optional<std::int64_t> lifetime_s;
};

struct Advance {
  std::optional<std::uint64_t> by;
  std::optional<std::uint64_t> to;
};

// Builds a room's new settings from its current ones (nullopt when the room does not exist yet).
using SettingsUpdate =
    std::function<core::Result<core::RoomSettings>(const std::optional<core::RoomSettings>&)>;

class Store {
 public:
  template <class T>
  using Op = boost::asio::awaitable<core::Result<T>>;

  virtual ~Store() = default;

  // Gives the visitor a place at the tail, or returns their ticket when `existing` is a live
  // ticket of this room (one place per browser).
  virtual Op<EnqueueResult> enqueue(std::string room, std::optional<std::string> existing) = 0;
  // Reads a ticket and records that its visitor is still there.
  virtual Op<TicketView> ticket(std::string room, std::string ticket) = 0;
  // Issues the ticket's pass once it is eligible; asking again returns the same pass.
  virtual Op<PassView> issue_pass(std::string room, std::string ticket, PassOptions options) = 0;

  virtual Op<RoomView> room(std::string room) = 0;
  virtual Op<std::vector<RoomView>> rooms() = 0;
  // Creates or changes a room; the bool is true when it was created.
  virtual Op<std::pair<RoomView, bool>> put_room(std::string room, SettingsUpdate update) = 0;
  virtual Op<void> delete_room(std::string room) = 0;
  virtual Op<std::uint64_t> advance(std::string room, Advance advance) = 0;
  virtual Op<RoomView> set_paused(std::string room, bool paused) = 0;
  virtual Op<RoomView> reset(std::string room) = 0;
  virtual Op<TicketView> end_session(std::string room, std::string ticket,
                                     core::SessionStatus status) = 0;
  // Ticket ids whose pass expired by time (not ended by an operator), for AWS's expired_tokens.
  virtual Op<std::vector<std::string>> expired_tickets(std::string room) = 0;

  // False while the store cannot accept writes (e.g. the log failed).
  virtual bool ready() const = 0;
};

}  // namespace waitroom::store
