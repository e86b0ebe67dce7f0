#pragma once
// A room's scheduled events (a sale, a drop): which one the room is in, its pre-queue, and the
// auditable shuffle of each pre-queue (docs/fairness.md). The room owns one EventSchedule and
// the settings that list the events; every moment is logged as an EventTransition and applied
// the same way live and at replay.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/draw.hpp"
#include "core/room_settings.hpp"

namespace waitroom::core {

struct ScheduleImage;

// A scheduled event's moments, as the log records them (the seed is drawn live, once).
struct EventTransition {
  enum class Kind : std::uint8_t { prequeue_opened = 1, started = 2, ended = 3 };
  Kind kind = Kind::started;
  std::int64_t event_start_s = 0;  // which event (events never overlap, so starts are unique)
  std::int64_t at_s = 0;
  Seed seed{};              // prequeue_opened
  std::uint64_t first = 0;  // prequeue_opened: the pre-queue's first position
  std::uint64_t last = 0;   // started: its last position (0: empty)
  // prequeue_opened, or started if the opening had none: a drawing's winners (0: no drawing).
  std::uint64_t winners = 0;
};

// The published record of one pre-queue shuffle (docs/fairness.md).
struct DrawInfo {
  std::int64_t event_start_s = 0;
  std::int64_t opened_at_s = 0;
  std::string commitment;           // SHA-256 of the seed, hex, published when the pre-queue opens
  std::optional<std::string> seed;  // hex, published when the event starts
  std::optional<std::int64_t> started_at_s;
  std::uint64_t first_position = 0;
  std::uint64_t last_position = 0;  // 0 until the start
  // The part that was shuffled: [first, last] minus positions the serving counter had passed.
  std::uint64_t shuffled_first = 0;
  // A drawing: how many of the drawn order win a turn; the rest are its waitlist, in order.
  std::optional<std::uint64_t> winners;

  bool drawn(std::uint64_t position) const {
    return started_at_s && position >= shuffled_first && position <= last_position;
  }
};

struct EventStatus {
  std::string phase;  // "scheduled", "prequeue" or "running"
  ScheduledEvent event;
  // Once the pre-queue opened: the first position its shuffle covers. Tickets before it keep
  // their first-come place, also those that joined after prequeue_start but before the driver's
  // step opened the pre-queue and published the commitment (docs/admission.md).
  std::optional<std::uint64_t> shuffled_from;
};

using ScheduledEvents = std::vector<ScheduledEvent>;

class EventSchedule {
 public:
  // The moments due at `now_s`, in the order they are to be applied: where the room is compared
  // with where `events` say it should be (a room that was down through a pre-queue opens and
  // starts it at once). The caller fills in at_s, and seed and first (prequeue_opened) or last
  // (started), then applies each in turn.
  std::vector<EventTransition> due(const ScheduledEvents& events, std::int64_t now_s) const;
  // Applies a moment, live and at replay. `serving`: the serving counter now (positions it has
  // passed keep their turn when a pre-queue is shuffled).
  void apply(const EventTransition& transition, std::uint64_t serving);

  // The event whose overrides are in force (it is running), or nullptr.
  const ScheduledEvent* running(const ScheduledEvents& events) const;
  // The event the room is in, in its pre-queue or running, or nullptr.
  const ScheduledEvent* current(const ScheduledEvents& events) const;
  // The event the room is in, or else the next one scheduled after `now_s`.
  std::optional<EventStatus> status(const ScheduledEvents& events, std::int64_t now_s) const;
  bool prequeue_open() const { return prequeue_first_.has_value(); }
  bool in_prequeue(std::uint64_t position) const {
    return prequeue_first_ && position >= *prequeue_first_;
  }
  std::vector<DrawInfo> draws() const;
  // The drawing of the event that runs now (started, with winners), or nullptr: its order is the
  // head of the line, and only its winners' turns are let in while it runs.
  const DrawInfo* running_drawing() const;
  // Whether the open pre-queue is a drawing's registration.
  bool registering() const {
    return prequeue_first_ && !draws_.empty() && draws_.back().info.winners.has_value();
  }
  // For snapshots (core/room_image.hpp).
  ScheduleImage image() const;
  static EventSchedule restore(const ScheduleImage& image);

  // Line order: the rank-th admission of a fifo line is position_at(rank); they differ only
  // inside shuffled pre-queues.
  std::uint64_t position_at(std::uint64_t rank) const;
  std::uint64_t rank_of(std::uint64_t position) const;

 private:
  struct Draw {
    DrawInfo info;
    Seed seed{};
    std::vector<std::uint64_t> order;  // positions shuffled_first..last_position in admission order
    std::vector<std::uint64_t> rank;   // rank[position - shuffled_first]
  };

  void start_draw(const EventTransition& transition, std::uint64_t serving);
  // The started draw's line order, from its seed and bounds.
  static void shuffle(Draw& draw);
  std::optional<std::uint64_t> shuffled_from(std::int64_t event_start_s) const;

  std::optional<std::int64_t> event_start_;      // the event the room is in
  bool event_running_ = false;                   // false: in its pre-queue
  std::optional<std::uint64_t> prequeue_first_;  // set while a pre-queue is open
  std::vector<Draw> draws_;                      // this epoch's
};

}  // namespace waitroom::core
