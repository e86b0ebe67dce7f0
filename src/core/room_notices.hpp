#pragma once
// Leave and come back (docs/notifications.md): the visitors of a room who asked to be told when
// their turn nears and when it comes, and how far each notice has gone. A visitor with a notice
// keeps their place while away, up to the room's away_max_s, instead of ticket_idle_timeout_s.
//
// The contact (an e-mail address, a push subscription) is opaque here: the store layer seals it
// before it reaches the room, and it is erased as soon as nothing more is to be sent to it (the
// turn's notice went out or failed, the ticket ended, the visitor cancelled). Replayed from
// NoticeRecords, and from admissions (a turn is due when its ticket is admitted).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace waitroom::core {

// How the visitor is told. A webhook notice is told by its events alone (ticket.turn_near,
// ticket.turn), for an operator who sends SMS through a provider of their own.
enum class NoticeChannel : std::uint8_t { webhook = 1, push = 2, email = 3 };
std::string_view to_string(NoticeChannel channel);
std::optional<NoticeChannel> parse_notice_channel(std::string_view text);

enum class NoticeKind : std::uint8_t { turn_near = 1, turn = 2 };
std::string_view to_string(NoticeKind kind);

// One message's way: not due yet, due (to be sent), sent, given up (failed), or skipped (the
// near message, when the turn came first).
enum class NoticeProgress : std::uint8_t { none, due, sent, failed, skipped };
std::string_view to_string(NoticeProgress progress);

struct Notice {
  NoticeChannel channel = NoticeChannel::webhook;
  std::string contact;  // sealed by the store layer; empty once erased (and for webhook)
  std::string lang;     // the language the visitor reads
  std::int64_t since_s = 0;
  NoticeProgress near = NoticeProgress::none;
  NoticeProgress turn = NoticeProgress::none;

  bool operator==(const Notice&) const = default;
};

// A notice to send: its ticket's position and which of its two messages.
using NoticeDue = std::pair<std::uint64_t, NoticeKind>;

class RoomNotices {
 public:
  const Notice* find(std::uint64_t position) const;
  bool empty() const { return notices_.empty(); }
  std::size_t size() const { return notices_.size(); }
  // Sets the visitor's notice, or replaces one they had, keeping how far its messages have gone
  // (restore() and replay set whole notices, progress included, on empty positions).
  void set(std::uint64_t position, Notice notice);
  // The visitor cancelled, or the ticket ended (claimed, left, unclaimed): its notice and contact
  // are forgotten. False when there was none.
  bool erase(std::uint64_t position);
  // A message became due. A webhook notice is sent by the event that says so.
  void mark_due(std::uint64_t position, NoticeKind kind);
  // A message went out (`sent`) or was given up. The turn's message is the last: once it is done
  // the contact is erased (a failed near message keeps it, the turn's may still get through).
  void mark_done(std::uint64_t position, NoticeKind kind, bool sent);
  // A new epoch: a new line, nobody's notice.
  void clear();

  // Waiting for their turn to near, in position order (line order in fifo).
  const std::set<std::uint64_t>& awaiting_near() const { return awaiting_near_; }
  // Due and not sent (push and e-mail), in position order.
  const std::set<NoticeDue>& outbox() const { return outbox_; }

  // For snapshots (core/room_image.hpp), in position order.
  std::vector<std::pair<std::uint64_t, Notice>> list() const;
  void restore(std::vector<std::pair<std::uint64_t, Notice>> notices);

 private:
  NoticeProgress& progress(Notice& n, NoticeKind kind) {
    return kind == NoticeKind::turn ? n.turn : n.near;
  }
  void index(std::uint64_t position, const Notice& n);
  void unindex(std::uint64_t position);

  std::map<std::uint64_t, Notice> notices_;
  std::set<std::uint64_t> awaiting_near_;
  std::set<NoticeDue> outbox_;
};

}  // namespace waitroom::core
