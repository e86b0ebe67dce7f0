#pragma once
// Every operation on a room that the handlers call, written once over a RoomStorage (the embedded
// store by default, the Redis store to scale out): find the room or the ticket, run the engine's
// operation under the room's lock, and answer once its records are durable. Handlers call exactly
// one of these per request. Operations are coroutines so that storage may wait on disk or the
// network without blocking an I/O thread.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/ip_network.hpp"
#include "core/pass_minter.hpp"
#include "core/room.hpp"
#include "core/room_settings.hpp"
#include "core/ticket_status.hpp"
#include "engine/code_ops.hpp"
#include "engine/effects.hpp"
#include "engine/inventory_ops.hpp"
#include "engine/notice_ops.hpp"
#include "engine/views.hpp"
#include "ops/event_feed.hpp"
#include "store/health_board.hpp"
#include "store/room_storage.hpp"
#include "token/invitation.hpp"
#include "token/ticket_id.hpp"

namespace waitroom::store {

// How often the admission driver runs each room's policy (and the test clock's step).
inline constexpr std::int64_t kAdmissionStepMs = 100;

// The views operations answer with live in the engine (engine/views.hpp); the handlers name them
// through the store they call.
using engine::AdmissionEntry;
using engine::AdmissionsPage;
using engine::Advance;
using engine::EnqueueResult;
using engine::PassCheck;
using engine::PassOptions;
using engine::PassView;
using engine::RoomStats;
using engine::RoomView;
using engine::SettingsUpdate;
using engine::TicketStates;
using engine::TicketView;
using engine::WatchedTicket;

// What a join may bring besides the visitor's ticket: an access code they typed, an invitation the
// site signed for them (token/invitation.hpp: checked against the room's keys before its lock is
// taken), the visitor's address (an invitation bound to one is good from there only), and the
// seats the ticket is for (a party).
struct JoinOptions {
  std::optional<std::string> code;
  std::optional<std::string> invitation;
  std::optional<core::IpBytes> client;
  std::uint64_t party_size = 1;
  // A sign-in at the room's identity provider, its ID token checked already (web/room_login).
  std::optional<engine::SignedIn> signed_in{};
};

class InvitationJwks;

class Store {
 public:
  template <class T>
  using Op = boost::asio::awaitable<core::Result<T>>;

  Store(std::unique_ptr<RoomStorage> storage, const core::Clock& clock,
        const token::TicketIdCodec& ids, const core::PassMinter& minter);
  virtual ~Store();

  // Gives the visitor a place at the tail, or returns their ticket when `existing` is a live
  // ticket of this room (one place per browser). `tracks_presence`: the visitor's client polls
  // its ticket, so a ticket not seen for the room's idle timeout has left. A code or invitation
  // (engine::enqueue) moves a waiting `existing` ticket to its lane; an invitation's identity
  // keeps its place on any device (the answer may be a ticket other than `existing`).
  Op<EnqueueResult> enqueue(std::string room, std::optional<std::string> existing,
                            bool tracks_presence, JoinOptions options = {});
  // Reads a ticket and records that its visitor is still there.
  Op<TicketView> ticket(std::string room, std::string ticket);
  // ticket(), plus what an event stream needs to follow the ticket by position afterwards.
  Op<WatchedTicket> watch_ticket(std::string room, std::string ticket);
  // Reads the tickets at `positions` of the room's current epoch under one lock, without decoding
  // ids, and records that their visitors are still there (their streams are open). `positions`
  // must outlive the call.
  Op<TicketStates> ticket_states(std::string room, std::span<const std::uint64_t> positions);
  // Issues the ticket's pass once it is eligible; asking again returns the same pass.
  Op<PassView> issue_pass(std::string room, std::string ticket, PassOptions options);
  // Whether `pass` is exactly the pass this room issued for `ticket` and its session is active
  // now. The store keeps every pass it issued, so this is the whole check: a forged or altered
  // token cannot match, and a session ended by an operator fails at once (gone).
  Op<PassCheck> check_pass(std::string room, std::string ticket, std::string pass);
  // Renews the ticket's active session (renew_on_activity): a new pass valid for the room's
  // pass_lifetime_s from now, unless a concurrent request just did it; returns the current pass.
  // `binding`: the "bind" claim of the pass it renews (a session keeps the binding it began with).
  Op<PassView> renew_pass(std::string room, std::string ticket, std::string binding);

  Op<RoomView> room(std::string room);
  // The room's pass cookie settings: what gates need of a room besides the pass itself.
  Op<core::PassCookie> pass_cookie(std::string room);
  Op<std::vector<RoomView>> rooms();
  // The room, or every room, with the numbers of the admin stats and the history's samples.
  Op<RoomStats> room_stats(std::string room);
  Op<std::vector<RoomStats>> all_room_stats();
  // Creates or changes a room; the bool is true when it was created.
  // `by`: the operator who asked (their events name them as data.actor); none for the server's own.
  Op<std::pair<RoomView, bool>> put_room(std::string room, SettingsUpdate update,
                                         std::optional<engine::Actor> by = std::nullopt);
  Op<void> delete_room(std::string room, std::optional<engine::Actor> by = std::nullopt);
  Op<std::uint64_t> advance(std::string room, Advance advance,
                            std::optional<engine::Actor> by = std::nullopt);
  Op<RoomView> set_paused(std::string room, bool paused,
                          std::optional<engine::Actor> by = std::nullopt);
  Op<RoomView> reset(std::string room, std::optional<engine::Actor> by = std::nullopt);
  // `consumed`: items a completed session bought, off the room's inventory with its end.
  Op<TicketView> end_session(std::string room, std::string ticket, core::TicketStatus status,
                             std::optional<engine::Actor> by = std::nullopt,
                             std::uint64_t consumed = 0);
  // The room's inventory (engine/inventory_ops.hpp): read, and set or adjusted by an operator.
  Op<engine::InventoryView> inventory(std::string room);
  Op<engine::InventoryView> change_inventory(std::string room, engine::InventoryChange change,
                                             std::optional<engine::Actor> by = std::nullopt);
  // Sets the operators' message to the room's line (`text`, checked by core::message_text), or
  // clears it (nullopt); answers the message now (null: none).
  Op<core::RoomMessagePtr> set_message(std::string room, std::optional<std::string> text,
                                       std::optional<engine::Actor> by = std::nullopt);
  // The admissions of the room's current epoch, in order, from `from` (1-based seq).
  Op<AdmissionsPage> admissions(std::string room, std::uint64_t from, std::uint64_t limit);
  // The room's access codes (engine/code_ops.hpp): created (the answer holds the code's text, the
  // room only its hash), listed in the order they were created, revoked.
  Op<engine::CreatedCode> add_code(std::string room, engine::NewCode code,
                                   std::optional<engine::Actor> by);
  Op<std::vector<core::AccessCode>> codes(std::string room);
  Op<core::AccessCode> revoke_code(std::string room, std::string id,
                                   std::optional<engine::Actor> by);
  // Leave and come back (engine/notice_ops.hpp): the visitor's notice, set (its contact sealed
  // already) or cancelled; the answer is the ticket, showing it.
  Op<TicketView> set_notice(std::string room, std::string ticket, engine::NoticeRequest request);
  Op<TicketView> cancel_notice(std::string room, std::string ticket);
  // The messages due that this node sends (rooms it drives), as of the last admission step.
  std::vector<engine::PendingNotice> pending_notices() const;
  // Whether the message is still due, once the state that says so is durable: a message goes out
  // only for what a crash cannot undo (the step that made it due may not be written yet).
  Op<bool> notice_still_due(std::string room, std::uint32_t epoch, std::uint64_t position,
                            core::NoticeKind kind);
  // The notifier sent a message or gave it up.
  Op<void> notice_done(std::string room, std::uint32_t epoch, std::uint64_t position,
                       core::NoticeKind kind, bool sent, std::string reason);
  // Ticket ids whose pass expired by time (not ended by an operator), for AWS's expired_tokens.
  Op<std::vector<std::string>> expired_tickets(std::string room);
  // One step of every room's admission policy (the admission driver calls it about every 100 ms).
  void drive_admissions();

  // Snapshots every room and drops what the snapshots replace (POST /admin/v1/compact).
  Op<CompactionReport> compact() { return storage_->compact(); }

  // False while the store cannot accept writes (e.g. the log failed, Redis is unreachable).
  bool ready() const { return storage_->ready(); }
  // Finishes what is pending (the embedded log's writes, the Redis store's connections); the
  // server has stopped calling it by then.
  void stop() { storage_->stop(); }
  // Records read at start (the embedded log's replay, the Redis store's room logs).
  std::uint64_t replayed_records() const { return storage_->replayed_records(); }
  // The store's own lines of /metrics (Prometheus text), if it has any.
  void render_metrics(std::string& out) const;
  const core::Clock& clock() const { return clock_; }
  // Who hears of room changes (the event streams); null: nobody. Set before serving.
  void set_change_listener(RoomChangeListener* listener) {
    storage_->set_change_listener(listener);
  }
  // Where rooms' invitations.jwks_url keys come from (store/invitation_jwks.hpp); null: no keys
  // are fetched, and an invitation only a JWKS could check is refused. Set before serving.
  void set_invitation_jwks(InvitationJwks* jwks) { jwks_ = jwks; }
  // The rooms' sites' health as this node sees it (store/health_board.hpp): the built-in proxy
  // and the signals endpoint write it, adaptive admission's steps read it.
  HealthBoard& health() { return health_; }
  const HealthBoard& health() const { return health_; }

 protected:
  RoomStorage& storage() { return *storage_; }

 private:
  // Reads of the room's state: answered at once (no coroutine frame of their own), unless the
  // state may be behind where other nodes change rooms too; then read_caught_up() answers.
  template <class T, class Read>
  std::optional<core::Result<T>> read_now(const std::string& room, Read& read, bool final = false);
  template <class T, class Read>
  Op<T> read_caught_up(std::string room, Read& read);
  // The reads of one room, and of one ticket at its position; a room or ticket this state does
  // not know may be one another node made a moment ago.
  template <class T, class Read>
  auto room_reader(const std::string& room, Read read);
  template <class T, class Read>
  auto ticket_reader(const std::string& room, const std::optional<token::TicketRef>& ref,
                     Read read);
  // Where `ticket` is in the room (position, epoch), as a read finds it.
  Op<token::TicketRef> find_ticket(const std::string& room, const std::string& ticket);
  // A change of the room's state by an engine operation; its answer once its records are durable.
  template <class T, class Change>
  Op<T> change(std::string room, Change change, bool may_create = false,
               std::optional<engine::Actor> by = std::nullopt);
  // Both ways a pass is handed out (a first issuance, a renewal): planned under the room's lock,
  // signed outside it (the expensive step, so other visitors are not held), recorded under the
  // lock again. A pass issued already is handed out once it is durable.
  using PassPlanner = core::FunctionRef<core::Result<engine::PassPlan>(
      core::Room&, const engine::OpContext&, std::uint64_t)>;
  using PassRecorder = core::FunctionRef<core::Result<PassView>(
      core::Room&, const engine::OpContext&, const core::PassRequest&, const std::string&,
      engine::Effects&)>;
  Op<PassView> hand_out_pass(std::string room, std::string ticket, PassPlanner plan,
                             PassRecorder record, std::string_view gone);
  Op<engine::PassPlan> plan_pass(const std::string& room, const std::string& ticket,
                                 PassPlanner plan);
  // A join's invitation, verified against the room's keys or its JWKS's (and the visitor's
  // address, when the invitation is bound to one).
  Op<token::Invitation> check_invitation(const std::string& room, const std::string& jwt,
                                         const std::optional<core::IpBytes>& client);

  // A room's stats, with its site's health for an adaptive room.
  RoomStats stats_of(core::Room& rm, std::int64_t now_ms) const;

  std::unique_ptr<RoomStorage> storage_;
  const core::Clock& clock_;
  const token::TicketIdCodec& ids_;
  const core::PassMinter& minter_;
  std::atomic<std::int64_t> last_metrics_ms_{0};  // when waiting_room_metrics events last went out
  InvitationJwks* jwks_ = nullptr;
  HealthBoard health_{clock_};
  // Each driven room's messages due, refreshed by its admission step.
  mutable std::mutex outbox_mu_;
  std::map<std::string, std::vector<engine::PendingNotice>> outbox_;
};

}  // namespace waitroom::store
