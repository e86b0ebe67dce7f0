#include "ops/event_feed.hpp"

#include <algorithm>

#include "core/hex.hpp"

namespace waitroom::ops {

std::string reader_id(const std::string& key) { return core::sha256_hex(key).substr(0, 32); }

std::size_t EventFeed::add_reader(std::string key) {
  std::lock_guard lock(mu_);
  readers_.push_back(Reader{std::move(key), false, {}, {}});
  return readers_.size() - 1;
}

void EventFeed::set_durable(std::function<bool(std::uint64_t)> durable) {
  durable_ = std::move(durable);
}

std::uint64_t EventFeed::at(const FeedPositions& positions, const std::string& room) {
  auto it = positions.find(room);
  return it == positions.end() ? 0 : it->second;
}

void EventFeed::add(const std::string& room, std::uint64_t first_seq,
                    std::vector<StoredEvent> events, std::uint64_t lsn) {
  if (events.empty()) return;
  {
    std::lock_guard lock(mu_);
    RoomFeed& feed = rooms_[room];
    for (std::size_t i = 0; i < events.size(); ++i) {
      const std::uint64_t seq = first_seq + i;
      if (seq <= feed.newest) continue;  // had it already
      feed.bytes += events[i].bytes();
      feed.events.push_back(Kept{seq, lsn, std::move(events[i])});
      feed.newest = seq;
    }
    trim(room, feed);
  }
  if (lsn == 0) arrived_.notify_all();
}

std::deque<EventFeed::Kept>::const_iterator EventFeed::first_after(const RoomFeed& feed,
                                                                   std::uint64_t seq) {
  return std::upper_bound(feed.events.begin(), feed.events.end(), seq,
                          [](std::uint64_t s, const Kept& k) { return s < k.seq; });
}

void EventFeed::wake() { arrived_.notify_all(); }

void EventFeed::trim(const std::string& room, RoomFeed& feed) {
  if (!readers_.empty()) {
    std::uint64_t all_saved = feed.newest;
    for (const Reader& r : readers_)
      all_saved = r.positioned ? std::min(all_saved, at(r.saved, room)) : 0;
    while (!feed.events.empty() && feed.events.front().seq <= all_saved) {
      feed.bytes -= feed.events.front().event.bytes();
      feed.events.pop_front();
    }
  }
  while (feed.bytes > max_room_bytes_ && !feed.events.empty()) {
    feed.bytes -= feed.events.front().event.bytes();
    feed.events.pop_front();
  }
}

std::vector<StoredEvent> EventFeed::kept(const std::string& room, std::uint64_t& first_seq) const {
  std::lock_guard lock(mu_);
  std::vector<StoredEvent> out;
  first_seq = 0;
  auto it = rooms_.find(room);
  if (it == rooms_.end() || it->second.events.empty()) return out;
  first_seq = it->second.events.front().seq;
  out.reserve(it->second.events.size());
  for (const Kept& k : it->second.events) out.push_back(k.event);
  return out;
}

void EventFeed::set_positions(std::size_t reader, const FeedPositions& positions, bool fresh) {
  std::lock_guard lock(mu_);
  Reader& r = readers_.at(reader);
  r.delivered = positions;
  if (fresh)
    for (const auto& [room, feed] : rooms_) r.delivered[room] = feed.newest;
  r.saved = r.delivered;
  r.positioned = true;
  for (auto& [room, feed] : rooms_) trim(room, feed);
}

FeedPositions EventFeed::positions(std::size_t reader) const {
  std::lock_guard lock(mu_);
  return readers_.at(reader).delivered;
}

EventFeed::Pull EventFeed::next(std::size_t reader, std::size_t max,
                                std::chrono::milliseconds wait) {
  Pull pull;
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (stopped_) return pull;
    Reader& r = readers_.at(reader);
    if (r.positioned && !rooms_.empty()) {
      // Each room in turn from where the last pull began, so that a busy room does not hold up
      // the others; within a room, in order.
      auto start = rooms_.begin();
      std::advance(start, static_cast<std::ptrdiff_t>(turn_++ % rooms_.size()));
      auto it = start;
      do {
        const std::string& room = it->first;
        RoomFeed& feed = it->second;
        std::uint64_t& got = r.delivered[room];
        if (!feed.events.empty() && feed.events.front().seq > got + 1) {
          pull.missed += feed.events.front().seq - got - 1;  // let go before this reader had them
          got = feed.events.front().seq - 1;
        }
        for (auto k = first_after(feed, got);
             k != feed.events.end() && pull.events.size() < max && durable(k->lsn); ++k)
          pull.events.push_back(FedEvent{room, k->seq, k->event});
        if (++it == rooms_.end()) it = rooms_.begin();
      } while (it != start && pull.events.size() < max);
    }
    if (!pull.events.empty() || pull.missed > 0) return pull;
    if (arrived_.wait_until(lock, deadline) == std::cv_status::timeout) return pull;
  }
}

void EventFeed::acknowledge(std::size_t reader, const std::vector<FedEvent>& delivered) {
  std::lock_guard lock(mu_);
  Reader& r = readers_.at(reader);
  for (const FedEvent& e : delivered) {
    std::uint64_t& got = r.delivered[e.room];
    got = std::max(got, e.seq);
  }
}

void EventFeed::saved(std::size_t reader, const FeedPositions& positions) {
  std::lock_guard lock(mu_);
  Reader& r = readers_.at(reader);
  for (const auto& [room, seq] : positions) {
    std::uint64_t& s = r.saved[room];
    s = std::max(s, seq);
    std::uint64_t& got = r.delivered[room];  // delivered by another process
    got = std::max(got, seq);
    if (auto it = rooms_.find(room); it != rooms_.end()) trim(room, it->second);
  }
}

std::uint64_t EventFeed::backlog(std::size_t reader) const {
  std::lock_guard lock(mu_);
  const Reader& r = readers_.at(reader);
  std::uint64_t n = 0;
  for (const auto& [room, feed] : rooms_) {
    if (feed.events.empty()) continue;
    const std::uint64_t got = std::max(at(r.delivered, room), feed.events.front().seq - 1);
    if (feed.events.back().seq > got) n += feed.events.back().seq - got;
  }
  return n;
}

void EventFeed::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  arrived_.notify_all();
}

EventFeed::Page EventFeed::read(const std::string& room, std::uint64_t after,
                                std::size_t limit) const {
  Page page;
  std::lock_guard lock(mu_);
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return page;
  const RoomFeed& feed = it->second;
  page.known = true;
  page.newest = feed.newest;
  if (feed.events.empty()) return page;
  page.oldest = feed.events.front().seq;
  for (auto k = first_after(feed, after);
       k != feed.events.end() && page.events.size() < limit && durable(k->lsn); ++k)
    page.events.push_back(FedEvent{room, k->seq, k->event});
  return page;
}

}  // namespace waitroom::ops
