#pragma once
// One waiting room's state and rules: the line, sessions and counters. The room's admission
// policy (core/admission/), estimates (core/estimate.hpp) and scheduled events
// (core/event_schedule.hpp) live in their own files; Room runs them over its line.
// Pure and single-threaded: the store guards each Room with its own lock and makes it durable.
// Every change that depends on something the log cannot replay (time, presence, chance) comes out
// as an `Admissions` value that the store logs and replay applies again with apply().
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/admission/adaptive_controller.hpp"
#include "core/admission/health.hpp"
#include "core/admission/policies.hpp"
#include "core/error.hpp"
#include "core/estimate.hpp"
#include "core/event_schedule.hpp"
#include "core/lanes.hpp"
#include "core/line_status.hpp"
#include "core/line_tally.hpp"
#include "core/room_codes.hpp"
#include "core/room_invitations.hpp"
#include "core/room_message.hpp"
#include "core/room_notices.hpp"
#include "core/room_settings.hpp"
#include "core/ticket_status.hpp"
#include "core/wait_log.hpp"

namespace waitroom::core {

struct RoomImage;

// Positions are at most 40 bits (they travel inside ticket ids, see token/ticket_id.hpp).
inline constexpr std::uint64_t kMaxPosition = (std::uint64_t{1} << 40) - 1;
inline constexpr std::uint32_t kMaxEpoch = (std::uint32_t{1} << 24) - 1;
// How long a visitor who is not yet eligible is told to wait before asking again.
inline constexpr std::int64_t kNotYetRetryAfterS = 5;
// A full room (max_waiting) asks new visitors to come back after this long.
inline constexpr std::int64_t kFullRetryAfterS = 30;
// Turns decided (claimed, or run out unclaimed) before a room trusts its no-show share.
inline constexpr std::uint64_t kNoShowSample = 20;

// The one byte a ticket's slot keeps of where it is in its life, apart from its session (the pass).
// Inside the room only: everything outside reads a ticket's status as core::TicketStatus.
enum class TicketPhase : std::uint8_t {
  waiting,
  admitted,   // eligible; a session exists once the pass is claimed
  left,       // its visitor stopped asking (ticket_idle_timeout_s) and admission skipped it
  unclaimed,  // eligible, but the pass was not claimed in time (claim_timeout_s)
};

// A ticket costs 16 bytes: its id is derived from (room, epoch, position) under an HMAC, so no id
// is stored, and positions index a vector (DESIGN.md section 4).
struct TicketSlot {
  std::uint32_t entry_time_s = 0;
  std::uint32_t last_seen_s = 0;  // not logged: a restart gives every visitor a fresh idle window
  std::uint32_t admitted_at_s = 0;
  TicketPhase phase = TicketPhase::waiting;
  std::uint8_t flags = 0;
  std::uint8_t lane = kDefaultLane;  // its number in core/lanes.hpp
  // The seats it stands for (a party ticket: 2..max_party_size), each counted against the
  // policy's pace and caps; in the byte the struct had spare.
  std::uint8_t party = 1;
};
// The visitor's client reports presence (polls, page, SSE), so idleness means they left. Tickets
// from AWS's API have no such signal (its clients poll the room, not the ticket).
inline constexpr std::uint8_t kTracksPresence = 1;
// Admitted the moment it was handed out (capacity below its thresholds, passthrough).
inline constexpr std::uint8_t kAdmittedOnArrival = 2;

struct Session {
  std::string pass;
  std::int64_t issued_at_s = 0;
  std::int64_t expires_at_s = 0;
  TicketStatus status = TicketStatus::admitted;  // admitted (active), then how it ended
  std::uint64_t lsn = 0;  // log sequence number that made it durable (see store)
  // After a renewal (renew_on_activity): the pass it replaced, still good until its own expiry,
  // so requests already on their way with it are not turned back.
  std::string previous_pass;
  std::int64_t previous_expires_at_s = 0;
};

// Where an entrant of a drawing stands (docs/admission.md, "Drawings"): registered in its
// pre-queue, then, once drawn, a winner or on the waitlist (with a number that never goes up).
enum class DrawStanding : std::uint8_t { none, registered, won, waitlist };
std::string_view to_string(DrawStanding standing);

struct TicketState {
  std::uint64_t position = 0;
  TicketStatus status = TicketStatus::waiting;
  // In the ticket's own lane: visitors in other lanes are never ahead of it. None in random
  // queueing: nobody is ahead in a lottery.
  std::optional<std::uint64_t> ahead;
  std::uint8_t lane = kDefaultLane;
  std::string lane_name;         // empty for the default lane
  std::uint64_t party_size = 1;  // the seats it stands for
  std::uint64_t serving = 0;
  std::uint64_t queue_length = 0;
  std::int64_t entry_time_s = 0;
  std::int64_t last_seen_s = 0;
  std::optional<std::int64_t> admitted_at_s;
  std::optional<Eta> eta;
  bool has_pass = false;
  DrawStanding drawing = DrawStanding::none;
  std::uint64_t waitlist_position = 0;  // waitlist: 1 is next when a winner's turn comes free
  // Waiting in a room whose inventory is sold out: no turn comes unless items come back.
  bool sold_out = false;
  // The visitor's notice (leave and come back), if they asked for one; its contact is not
  // copied. `away_until_s`: while waiting, how long the place is kept without the visitor.
  std::optional<Notice> notice;
  std::int64_t away_until_s = 0;
};

struct RoomCounters {
  std::uint64_t queue_counter = 0;  // tickets handed out since the last reset (the tail)
  std::uint64_t serving = 0;
  std::uint64_t waiting = 0;            // tickets neither admitted nor found gone
  std::uint64_t eligible = 0;           // admitted, pass not claimed yet
  std::uint64_t admitted = 0;           // admissions this epoch
  std::uint64_t tickets_expired = 0;    // left the line or did not claim in time: the next two
  std::uint64_t tickets_left = 0;       // left the line (found idle)
  std::uint64_t tickets_unclaimed = 0;  // admitted, pass not claimed in time
  std::uint64_t active_sessions = 0;
  std::uint64_t passes_issued = 0;
  std::uint64_t completed = 0;
  std::uint64_t abandoned = 0;
  std::uint64_t revoked = 0;
  std::uint64_t expired = 0;  // sessions that ran out
  // Over the room's whole life, across resets (Prometheus counters must not go down).
  std::uint64_t tickets_issued_total = 0;
  std::uint64_t passes_issued_total = 0;
};

// The outcome of one admission step (driver tick, operator advance): what the log records so that
// replay reaches the same state without the clock, presence or random draws that decided it.
// serving_from/serving_to are the serving counter; they keep their old names because the stores'
// log records (src/store/) are written from them.
struct Admissions {
  std::int64_t at_s = 0;
  std::uint64_t serving_to = 0;              // the serving counter afterwards
  std::vector<std::uint64_t> left;           // waiting tickets found gone and skipped
  std::vector<std::uint64_t> unclaimed;      // eligible tickets whose claim time ran out
  std::vector<std::uint64_t> drawn;          // admitted out of line order (random draws)
  std::vector<std::uint64_t> admitted;       // every admission, in order (not logged: derived)
  std::uint64_t serving_from = 0;            // the serving counter before (not logged)
  std::uint64_t recycled = 0;                // admissions owed to unclaimed turns (not logged)
  bool changed = false;                      // false: nothing to log
  std::vector<EventTransition> transitions;  // logged before the admissions, in their own records
  // Adaptive mode's controller moved its limit at this step (logged in its own record, before
  // the admissions it governs).
  std::optional<AdmissionAdjustment> adjusted;
};

class Room {
 public:
  Room(std::string name, RoomSettings settings);

  // A snapshot's room (core/room_image.hpp): the state its log had built, caches left empty.
  static Room restore(std::string name, RoomSettings settings, RoomImage image);
  RoomImage image() const;

  const std::string& name() const { return name_; }
  const RoomSettings& settings() const { return settings_; }
  void set_settings(RoomSettings settings);
  const std::string& audience() const {
    return settings_.audience.empty() ? name_ : settings_.audience;
  }

  std::uint32_t epoch() const { return epoch_; }
  std::uint64_t queue_counter() const { return tickets_.size(); }
  std::uint64_t serving() const { return serving_; }
  bool paused() const { return settings_.state == RoomState::paused; }
  // The operators' message to the line (core/room_message.hpp); null: none. A reset keeps it.
  const RoomMessagePtr& message() const { return message_; }
  void set_message(RoomMessagePtr message) { message_ = std::move(message); }
  // The operators' access codes (core/room_codes.hpp). A reset keeps them.
  const RoomCodes& codes() const { return codes_; }
  RoomCodes& codes() { return codes_; }
  // The invitations it took and the places their identities hold (core/room_invitations.hpp). A
  // reset keeps the used invitations and forgets the places (the line is new).
  const RoomInvitations& invitations() const { return invitations_; }
  RoomInvitations& invitations() { return invitations_; }
  // The policy and queueing in force now: the room's, or the running event's overrides.
  const AdmissionPolicy& admission() const { return admission_; }
  Queueing queueing() const { return queueing_; }
  // The event the room is in, or else the next one scheduled after `now_s`.
  std::optional<EventStatus> event_status(std::int64_t now_s) const;
  std::vector<DrawInfo> draws() const;
  // The drawing that runs now (its registration closed, its winners being let in), or nullptr.
  // An event whose queueing is no longer "draw" has called its drawing off.
  const DrawInfo* running_drawing() const {
    return queueing_ == Queueing::draw ? schedule_.running_drawing() : nullptr;
  }
  std::uint64_t waiting_count() const {
    return tickets_.size() - admitted_order_.size() - left_count_;
  }
  // Waiting in one lane (kDefaultLane: the default one).
  std::uint64_t waiting_in_lane(std::uint8_t lane) const;

  // Whether a visitor arriving now is let in at once (passthrough, or capacity below both
  // thresholds with nobody waiting), or is refused a place (reject: an error).
  // `seats`: the arriving ticket's party.
  Result<bool> admits_on_arrival(std::int64_t now_s, std::uint64_t seats = 1);
  // Appends `count` tickets at the tail and returns the first new position, or an error when
  // the room's position space is exhausted. `flags`: kTracksPresence, kAdmittedOnArrival.
  // `lane`: the lane they wait in (a number from lane_number()); `party`: the seats each stands
  // for (1 to kMaxPartySize).
  Result<std::uint64_t> enqueue(std::int64_t now_s, std::uint64_t count = 1, std::uint8_t flags = 0,
                                std::uint8_t lane = kDefaultLane, std::uint8_t party = 1);
  // The seats the ticket at `position` stands for.
  std::uint64_t seats(std::uint64_t position) const { return tickets_[position - 1].party; }
  bool has_ticket(std::uint64_t position) const {
    return position >= 1 && position <= tickets_.size();
  }
  // Records that the visitor is still there, unless they were already counted as gone.
  void mark_seen(std::uint64_t position, std::int64_t now_s);
  // Requires has_ticket(position).
  TicketState ticket(std::uint64_t position, std::int64_t now_s);
  // The estimate for someone joining the line (or `lane`) now.
  std::optional<Eta> eta_for_newcomer(std::int64_t now_ms, std::uint8_t lane = kDefaultLane) const;

  // Operator moves (admin advance, AWS increment_serving_counter). In fifo the serving counter
  // moves exactly that many positions (gone visitors included, as AWS did); in random `by` draws
  // that many waiting tickets and `to` is refused. With lanes, `by` admits that many visitors
  // shared by the lanes as a policy step is, and `to` moves the default lane's counter only.
  Result<Admissions> advance_by(std::uint64_t by, std::int64_t now_s);
  Result<Admissions> advance_to(std::uint64_t serving, std::int64_t now_s);
  // One step of the room's admission policy at `now_ms` (the store's driver calls it often).
  // `health`: the site's signals now, which adaptive mode's controller steers by (null: none).
  Admissions tick(std::int64_t now_ms, const HealthReading* health = nullptr);
  // Whether tick() at `now_s` is sure to change nothing that is logged: nobody waits (nobody to
  // admit or find gone), no admitted turn can run out unclaimed, no scheduled transition is due.
  // Most steps of a room between sales are these.
  bool quiet_at(std::int64_t now_s) const;
  // What a copy of the room that does not drive it does each step (a Redis node that is not the
  // room's driver): sessions run out by time and the line's pace is sampled for estimates, but
  // nothing is admitted or expired; the driver's records bring those.
  void observe(std::int64_t now_ms);
  // Replays a logged step.
  void apply(const Admissions& step);
  // Applies a scheduled event's moment (live from tick(), and at replay).
  void apply(const EventTransition& transition);
  // Adaptive mode's limit on places held, as its controller last set it (none: not found yet, or
  // the policy in force is not adaptive). Replay sets it from the logged decisions.
  std::optional<std::uint64_t> active_limit() const { return controller_.limit; }
  void set_active_limit(std::optional<std::uint64_t> limit) { controller_.limit = limit; }
  // The share of this epoch's admitted visitors whose turn ran out unclaimed, once at least
  // kNoShowSample turns are decided (claimed or run out); 0 before.
  double no_show_share() const;
  // Places counted against a cap, in seats: active sessions plus eligible tickets whose pass is
  // unclaimed (sessions that ran out by `now_s` are expired first).
  std::uint64_t held(std::int64_t now_s);

  // Inventory (docs/admission.md, "Inventory"): the items left to sell; none: the room keeps no
  // count. At 0 the room is sold out: nobody is let in or given a place until items come back.
  // With reserve_per_session, each place held keeps that many reserved, and admission stops
  // while every item left is reserved. Not of any epoch: a reset keeps it.
  std::optional<std::uint64_t> inventory() const { return inventory_; }
  void set_inventory(std::optional<std::uint64_t> left) { inventory_ = left; }
  bool sold_out() const { return inventory_ && *inventory_ == 0; }
  // Items the places held keep reserved now (at most the items left).
  std::uint64_t reserved(std::int64_t now_s);

  // Leave and come back (core/room_notices.hpp): who asked to be notified. A waiting ticket with
  // a notice is kept while its visitor is away, up to away_max_s. Its turn's message becomes due
  // when it is admitted; a ticket that ends (claimed, left, unclaimed) drops its notice.
  const RoomNotices& notices() const { return notices_; }
  // Sets or replaces the notice of a waiting ticket (conflict when it is not waiting).
  Result<void> set_notice(std::uint64_t position, Notice notice, std::int64_t now_s);
  // Replay: the notice as it was set (the ticket was waiting then).
  void replay_notice(std::uint64_t position, Notice notice) {
    if (has_ticket(position)) notices_.set(position, std::move(notice));
  }
  bool cancel_notice(std::uint64_t position) { return notices_.erase(position); }
  // The near messages due at `now_ms`: waiting tickets with a notice whose estimate's p90 is at
  // most notify_before_s or with at most notify_ahead visitors ahead. Marks them due (their
  // NoticeRecord replays that). At most once a second.
  std::vector<std::uint64_t> notices_due(std::int64_t now_ms);
  void mark_notice_due(std::uint64_t position, NoticeKind kind) {
    notices_.mark_due(position, kind);
  }
  void mark_notice_done(std::uint64_t position, NoticeKind kind, bool sent) {
    notices_.mark_done(position, kind, sent);
  }

  // After a log repair dropped records (store::CounterFloorRecord): positions up to
  // `queue_counter` are taken (the missing ones as tickets that left, so they are never handed
  // out again nor admitted), and the serving counter is at least `serving`.
  void raise_floor(std::uint64_t queue_counter, std::uint64_t serving, std::int64_t now_s);
  // Starts a new epoch: an empty line, serving 0, no sessions. Lifetime totals are kept.
  void reset(std::uint32_t new_epoch);
  // After replay: presence was not logged, so every visitor gets a fresh idle window from now.
  void refresh_presence(std::int64_t now_s);

  // Whether `position` may get its pass now: ok (also when it already has a live one), conflict
  // (not yet or paused, with Retry-After) or gone (its session ended or the ticket expired).
  Result<void> check_pass_allowed(std::uint64_t position, std::int64_t now_s);
  // The session of `position`, with time-based expiry applied; nullptr when none was issued.
  const Session* session(std::uint64_t position, std::int64_t now_s);
  // Records a newly issued pass. If one exists already (a concurrent request won), keeps that one.
  const Session& add_session(std::uint64_t position, Session session);
  // Ends an active session (completed, abandoned, revoked). Ending it again with the same status
  // is a no-op; any other change of an ended session is a conflict.
  Result<bool> end_session(std::uint64_t position, TicketStatus status, std::int64_t now_s);
  // Renewal (renew_on_activity): the active session's pass becomes `pass`, valid until
  // `expires_at_s`; the old one becomes previous_pass. `revive` (replay only): a session that
  // the restart's clock expired before this record is brought back, as it was active then.
  Result<void> renew_session(std::uint64_t position, std::string pass, std::int64_t expires_at_s,
                             std::uint64_t lsn, bool revive = false);

  RoomCounters counters(std::int64_t now_s);
  // Positions whose session expired by time, in position order. O(sessions): an operator call.
  std::vector<std::uint64_t> expired_positions(std::int64_t now_s);
  // Positions in the order they were admitted this epoch.
  const std::vector<std::uint64_t>& admission_order() const { return admitted_order_; }
  std::int64_t admitted_at(std::uint64_t position) const {
    return tickets_[position - 1].admitted_at_s;
  }
  // How long the recent admissions waited, by when they happened (join → admission). Kept across
  // resets: it is about time, not the epoch.
  const WaitLog& waits() const { return waits_; }
  // Whether the line moves now, and if not, why: tick() read as an answer, for the operator.
  LineStatus line_status(std::int64_t now_s);

 private:
  // The room as its admission policy sees it (core/admission/admitter.hpp).
  class Facts;

  // Ticket times are kept in 32 bits (TicketSlot), clamped.
  static std::uint32_t to_u32_seconds(std::int64_t s);

  bool idle(const TicketSlot& slot, std::int64_t now_s) const;
  bool claim_expired(const TicketSlot& slot, std::int64_t now_s) const;
  bool policy_window_open(std::int64_t now_s) const;
  // Admissions counted back from the latest until one at or before `since_s`.
  std::uint64_t admissions_since(std::int64_t since_s) const;
  // Lets the policy in force decide how many may go in at this step, and admits them.
  void admit_by_policy(std::int64_t now_ms, Admissions& step);
  // Admits waiting tickets in the room's queueing order, skipping gone ones, while their seats fit
  // in `n`: a party that does not fit ends the step, and nobody passes it (it goes in once a step
  // has room for all of it). Returns the seats admitted.
  std::uint64_t admit_next(std::uint64_t n, std::int64_t now_s, Admissions& step);
  // One ticket's turn: the seats it took (0: none), or blocked when the next one waiting is a
  // party bigger than the seats left.
  struct Turn {
    std::uint64_t seats = 0;
    bool blocked = false;
  };
  // Fifo: admits the next waiting ticket of the default lane (moving the serving counter past
  // the gone ones and other lanes' tickets), or of `lane`.
  Turn admit_next_in_line(std::int64_t now_s, std::uint64_t seats_left, Admissions& step);
  Turn admit_next_in_lane(std::uint8_t lane, std::int64_t now_s, std::uint64_t seats_left,
                          Admissions& step);
  // Whether the waiting ticket at `position` is a party bigger than `seats_left` whose visitor is
  // still there: it waits, and holds up those behind it.
  bool too_big(std::uint64_t position, std::uint64_t seats_left, std::int64_t now_s) const;
  // The seats of a held place beyond the first (held() counts places, parties count seats).
  std::uint64_t extra_seats(std::uint64_t position) const { return seats(position) - 1; }
  // Admits the waiting ticket at `position`, or records that its visitor left (false).
  // `out_of_order`: a draw or another lane's turn, which the log lists as drawn.
  bool admit_unless_gone(std::uint64_t position, std::int64_t now_s, bool out_of_order,
                         Admissions& step);
  // Lanes (core/lanes.hpp). Who waits in which lane, and the lane lines built on demand.
  LaneFlags lanes_busy() const;
  bool has_lane_waiting() const;
  void build_lane_lines();
  // Where `position` is in its lane's line: the index into its positions.
  std::size_t lane_index_of(std::uint64_t position);
  // Moves the lane's `next` past tickets that stopped waiting.
  void skip_stopped_in_lane(std::uint8_t lane);
  void sweep_idle_lanes(std::int64_t now_s, std::uint64_t budget, Admissions& step);
  // Recounts lane_waiting_ and lane_tickets_ from the slots (after a restore).
  void recount_lanes();
  // A running drawing's turns not yet taken: its winners less the drawn tickets admitted (a turn
  // that ran out unclaimed comes back, for the next on the waitlist). nullopt: no drawing runs.
  std::optional<std::uint64_t> drawing_turns_left();
  // Whether the waiting ticket at `position` is a drawn one whose visitor is still there while
  // every winner's turn is taken: it waits on the waitlist, and holds up those behind it.
  bool waitlisted(std::uint64_t position, std::int64_t now_s);
  void count_drawing_turn(std::uint64_t position, int change);
  // A ticket let in on arrival (an access code that admits) took no winner's turn.
  bool takes_drawing_turn(std::uint64_t position) const {
    return !(tickets_[position - 1].flags & kAdmittedOnArrival);
  }
  // The share of admissions `lane` gets while its visitor waits there, for estimates.
  double share_of(std::uint8_t lane) const;
  // Tickets of other lanes than the default among the ranks first..last.
  std::uint64_t lane_tickets_between(std::uint64_t first, std::uint64_t last);
  void admit_position(std::uint64_t position, std::int64_t at_s);
  void move_serving(std::uint64_t to, std::int64_t at_s);
  void mark_left(std::uint64_t position);
  void mark_unclaimed(std::uint64_t position);
  void expire_unclaimed(std::int64_t now_s, Admissions& step);
  // Marks waiting tickets whose visitors left, a slice of the line per step.
  void sweep_idle(std::int64_t now_s, Admissions& step);
  void build_pool();
  void record_pace(std::int64_t now_ms);
  // Waiting tickets of the default lane among the ranks first..last (line order), for estimates.
  std::uint64_t waiting_between(std::uint64_t first, std::uint64_t last);
  // How many ranks in first..last `tally` counts, blocks from it and the ends from `counted`.
  template <typename Counted>
  std::uint64_t tallied_between(std::uint64_t first, std::uint64_t last, const LineTally& tally,
                                Counted counted) const;
  void build_tally();
  // A ticket of another lane is in the tally from the start: it never waits in the default line.
  void note_stopped_waiting(std::uint64_t position) {
    const std::uint8_t lane = tickets_[position - 1].lane;
    waiting_extra_seats_ -= extra_seats(position);
    if (lane != kDefaultLane) --lane_waiting_[lane];
    if (tally_built_ && lane == kDefaultLane) tally_.add(schedule_.rank_of(position));
  }
  // What the policy tells estimates now; nullopt when there is to be none (not open, a
  // pre-queue, outside the policy's window).
  std::optional<PaceHint> pace_hint(std::int64_t now_ms) const;
  std::optional<Eta> eta(std::uint64_t ahead, std::int64_t now_ms) const;
  // Sessions (room_sessions.cpp).
  void expire_sessions(std::int64_t now_s);
  void unindex_active(std::uint64_t position, std::int64_t expires_at_s);
  void count_end(TicketStatus status);
  // Applies, logs and records the scheduled events' moments due at `now_s`.
  void step_events(std::int64_t now_s, Admissions& step);
  void refresh_effective();
  // The first position that entered at or after `s`, and the last that entered before it.
  std::uint64_t first_entered_at_or_after(std::int64_t s) const;

  std::string name_;
  RoomSettings settings_;
  std::uint32_t epoch_ = 1;
  // The serving counter: positions 1..serving_ were passed in line order. (Admissions keeps the
  // older names serving_from/serving_to: the stores' log records use them.)
  std::uint64_t serving_ = 0;
  std::vector<TicketSlot> tickets_;            // tickets_[position - 1]
  std::vector<std::uint64_t> admitted_order_;  // positions in the order they were admitted
  std::uint64_t left_count_ = 0;
  std::uint64_t unclaimed_expired_ = 0;
  // Admitted tickets in admission order; the front ones are checked for claim expiry.
  std::deque<std::uint64_t> claim_queue_;
  std::uint64_t unclaimed_count_ = 0;  // admitted, no pass yet, not expired
  std::uint64_t recycle_debt_ = 0;     // admissions owed for unclaimed expiries (recycle_unclaimed)
  std::uint64_t sweep_next_ = 0;       // the next rank (place in line) sweep_idle() looks at
  // Random queueing: positions that may still be waiting (gone and admitted ones are dropped
  // when drawn). Built on demand; it is a cache, not state.
  std::vector<std::uint64_t> pool_;
  bool pool_built_ = false;
  // A party drawn when the step had no room for all of it: it goes in first at a later step, so
  // the draws that follow cannot pass it for ever. Not kept by snapshots (a restart draws again).
  std::optional<std::uint64_t> drawn_party_;
  std::mt19937_64 rng_{std::random_device{}()};
  RateBucket bucket_;  // a paced policy's admissions available now (emptied on a policy change)
  LinePace pace_;      // the observed pace, for estimates
  // Fifo: the places given up (admitted, left) by rank, for estimates, and the places of other
  // lanes' tickets (lane_tally_ alone, and in tally_ too: they are never waiting in the default
  // line). Built on demand and dropped when ranks change (a draw) or slots change behind its
  // back; a cache, not state.
  LineTally tally_;
  LineTally lane_tally_;
  bool tally_built_ = false;
  // Lanes: waiting per lane number (the default lane's is waiting_count() less the others), and
  // the tickets ever put in a lane this epoch (none: the room runs as if it had no lanes).
  std::array<std::uint64_t, kMaxLanes + 1> lane_waiting_{};
  std::uint64_t lane_tickets_ = 0;
  // Each lane's positions in line order, and the first that may still wait (earlier ones have all
  // been admitted or left); `swept`: where sweeping for idle visitors goes on. A cache.
  struct LaneLine {
    std::vector<std::uint64_t> positions;
    std::size_t next = 0;
    std::size_t swept = 0;
  };
  std::array<LaneLine, kMaxLanes> lane_lines_;
  bool lane_lines_built_ = false;
  LanePicker lane_picker_;
  std::unordered_map<std::uint64_t, Session> sessions_;
  std::multimap<std::int64_t, std::uint64_t> active_by_expiry_;  // expires_at_s -> position
  AdmissionPolicy admission_;                                    // in force now (see admission())
  Queueing queueing_ = Queueing::fifo;
  AdmitterPtr admitter_;  // the behaviour of admission_ under queueing_
  EventSchedule schedule_;
  // passes_issued, completed, abandoned, revoked, expired, tickets_issued_total
  RoomCounters totals_;
  WaitLog waits_;  // a cache like the tally: admissions replayed from the log fill it again
  RoomMessagePtr message_;
  RoomCodes codes_;
  // Seats beyond one of the places held (active sessions, unclaimed turns): party tickets.
  std::uint64_t held_extra_seats_ = 0;
  // And of the tickets waiting: estimates turn a pace in seats into one in tickets.
  std::uint64_t waiting_extra_seats_ = 0;
  RoomInvitations invitations_;
  // Adaptive mode's controller: its limit is state (logged, kept by snapshots and resets), its
  // times are not.
  ControllerState controller_;
  std::optional<std::uint64_t> inventory_;  // items left (see inventory())
  RoomNotices notices_;
  std::int64_t notices_checked_s_ = 0;  // when notices_due() last looked (a cache)
  // The places the inventory still lets be taken at `now_s`: each place held keeps
  // reserve_per_session items (none: no cap).
  std::optional<std::uint64_t> inventory_places_left(std::int64_t now_s);
  // The running drawing's tickets admitted and not run out unclaimed. Built on demand and dropped
  // at each event moment: a cache, not state.
  std::uint64_t drawing_turns_used_ = 0;
  bool drawing_turns_built_ = false;
};

}  // namespace waitroom::core
