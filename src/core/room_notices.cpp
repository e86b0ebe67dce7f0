#include "core/room_notices.hpp"

namespace waitroom::core {

std::string_view to_string(NoticeChannel channel) {
  switch (channel) {
    case NoticeChannel::push:
      return "push";
    case NoticeChannel::email:
      return "email";
    case NoticeChannel::webhook:
      break;
  }
  return "webhook";
}

std::optional<NoticeChannel> parse_notice_channel(std::string_view text) {
  if (text == "push") return NoticeChannel::push;
  if (text == "email") return NoticeChannel::email;
  if (text == "webhook") return NoticeChannel::webhook;
  return std::nullopt;
}

std::string_view to_string(NoticeKind kind) {
  return kind == NoticeKind::turn ? "turn" : "turn_near";
}

std::string_view to_string(NoticeProgress progress) {
  switch (progress) {
    case NoticeProgress::due:
      return "due";
    case NoticeProgress::sent:
      return "sent";
    case NoticeProgress::failed:
      return "failed";
    case NoticeProgress::skipped:
      return "skipped";
    case NoticeProgress::none:
      break;
  }
  return "none";
}

const Notice* RoomNotices::find(std::uint64_t position) const {
  auto it = notices_.find(position);
  return it == notices_.end() ? nullptr : &it->second;
}

void RoomNotices::index(std::uint64_t position, const Notice& n) {
  if (n.near == NoticeProgress::none && n.turn == NoticeProgress::none)
    awaiting_near_.insert(position);
  if (n.near == NoticeProgress::due) outbox_.emplace(position, NoticeKind::turn_near);
  if (n.turn == NoticeProgress::due) outbox_.emplace(position, NoticeKind::turn);
}

void RoomNotices::unindex(std::uint64_t position) {
  awaiting_near_.erase(position);
  outbox_.erase({position, NoticeKind::turn_near});
  outbox_.erase({position, NoticeKind::turn});
}

void RoomNotices::set(std::uint64_t position, Notice notice) {
  // A new address or channel keeps how far the messages have gone: each goes out once per
  // ticket, so changing the address again and again sends nothing more.
  if (auto it = notices_.find(position); it != notices_.end()) {
    notice.near = it->second.near;
    notice.turn = it->second.turn;
  }
  unindex(position);
  index(position, notice);
  notices_[position] = std::move(notice);
}

bool RoomNotices::erase(std::uint64_t position) {
  if (notices_.erase(position) == 0) return false;
  unindex(position);
  return true;
}

void RoomNotices::mark_due(std::uint64_t position, NoticeKind kind) {
  auto it = notices_.find(position);
  if (it == notices_.end()) return;
  Notice& n = it->second;
  NoticeProgress& p = progress(n, kind);
  if (p != NoticeProgress::none) return;  // once per ticket and kind
  unindex(position);
  // The turn came before the near message went (or was noticed at all: an operator's advance):
  // only the turn is told.
  if (kind == NoticeKind::turn && n.near != NoticeProgress::sent &&
      n.near != NoticeProgress::failed)
    n.near = NoticeProgress::skipped;
  p = n.channel == NoticeChannel::webhook ? NoticeProgress::sent : NoticeProgress::due;
  if (kind == NoticeKind::turn && p == NoticeProgress::sent) n.contact.clear();
  index(position, n);
}

void RoomNotices::mark_done(std::uint64_t position, NoticeKind kind, bool sent) {
  auto it = notices_.find(position);
  if (it == notices_.end()) return;
  Notice& n = it->second;
  NoticeProgress& p = progress(n, kind);
  if (p != NoticeProgress::due) return;  // done already (a retried report)
  unindex(position);
  p = sent ? NoticeProgress::sent : NoticeProgress::failed;
  if (kind == NoticeKind::turn) n.contact.clear();
  index(position, n);
}

void RoomNotices::clear() {
  notices_.clear();
  awaiting_near_.clear();
  outbox_.clear();
}

std::vector<std::pair<std::uint64_t, Notice>> RoomNotices::list() const {
  return {notices_.begin(), notices_.end()};
}

void RoomNotices::restore(std::vector<std::pair<std::uint64_t, Notice>> notices) {
  clear();
  for (auto& [position, notice] : notices) set(position, std::move(notice));
}

}  // namespace waitroom::core
