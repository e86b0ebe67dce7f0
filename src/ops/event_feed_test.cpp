#include "ops/event_feed.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace waitroom::ops {
namespace {

using namespace std::chrono_literals;

std::vector<StoredEvent> events(std::initializer_list<const char*> ids) {
  std::vector<StoredEvent> out;
  for (const char* id : ids) out.push_back(StoredEvent{id, "t", 0, "{}"});
  return out;
}

std::vector<std::string> ids_of(const std::vector<FedEvent>& fed) {
  std::vector<std::string> out;
  for (const FedEvent& e : fed) out.push_back(e.room + ":" + e.event.id);
  return out;
}

TEST(EventFeed, KeepsEachRoomInOrderAndSkipsWhatItHasAlready) {
  EventFeed feed(1 << 20);
  feed.add("a", 1, events({"a1", "a2"}));
  feed.add("a", 2, events({"a2", "a3"}));  // a copy reloading: a2 again
  feed.add("b", 1, events({"b1"}));
  EXPECT_EQ(ids_of(feed.read("a", 0, 10).events),
            (std::vector<std::string>{"a:a1", "a:a2", "a:a3"}));
  EXPECT_EQ(ids_of(feed.read("a", 1, 1).events), (std::vector<std::string>{"a:a2"}));
  const auto page = feed.read("a", 3, 10);
  EXPECT_TRUE(page.events.empty());
  EXPECT_EQ(page.oldest, 1u);
  EXPECT_EQ(page.newest, 3u);
  EXPECT_FALSE(feed.read("c", 0, 10).known);
}

TEST(EventFeed, HandsOutOnlyWhatIsDurable) {
  EventFeed feed(1 << 20);
  std::atomic<std::uint64_t> durable{5};
  feed.set_durable([&](std::uint64_t lsn) { return lsn <= durable; });
  feed.add("a", 1, events({"a1"}), 5);
  feed.add("a", 2, events({"a2"}), 9);
  EXPECT_EQ(feed.read("a", 0, 10).events.size(), 1u);
  const std::size_t r = feed.add_reader("hook");
  feed.set_positions(r, {}, false);
  EXPECT_EQ(ids_of(feed.next(r, 10, 0ms).events), (std::vector<std::string>{"a:a1"}));
  durable = 9;
  EXPECT_EQ(ids_of(feed.next(r, 10, 0ms).events), (std::vector<std::string>{"a:a1", "a:a2"}));
}

TEST(EventFeed, LetsGoOnlyOfWhatEveryReaderSaved) {
  EventFeed feed(1 << 20);
  const std::size_t one = feed.add_reader("one");
  const std::size_t two = feed.add_reader("two");
  feed.add("a", 1, events({"a1", "a2", "a3"}));
  feed.set_positions(one, {}, false);
  std::uint64_t first = 0;
  feed.saved(one, {{"a", 3}});
  EXPECT_EQ(feed.kept("a", first).size(), 3u) << "the second reader's place is not known yet";
  feed.set_positions(two, {{"a", 1}}, false);
  EXPECT_EQ(feed.kept("a", first).size(), 2u);
  EXPECT_EQ(first, 2u);
  // Delivered but not saved: still kept, since a crash now would send it again.
  const auto pull = feed.next(two, 10, 0ms);
  ASSERT_EQ(pull.events.size(), 2u);
  feed.acknowledge(two, pull.events);
  EXPECT_EQ(feed.backlog(two), 0u);
  EXPECT_EQ(feed.kept("a", first).size(), 2u);
  feed.saved(two, feed.positions(two));
  EXPECT_TRUE(feed.kept("a", first).empty());
  EXPECT_EQ(feed.read("a", 0, 10).newest, 3u);
}

TEST(EventFeed, ANewReaderStartsAtTheNewestAndOthersAtTheFirstKept) {
  EventFeed feed(1 << 20);
  feed.add("a", 1, events({"a1", "a2"}));
  const std::size_t fresh = feed.add_reader("fresh");
  const std::size_t known = feed.add_reader("known");
  feed.set_positions(fresh, {}, true);
  feed.set_positions(known, {{"b", 9}}, false);
  EXPECT_EQ(feed.backlog(fresh), 0u);
  EXPECT_EQ(feed.backlog(known), 2u);
  feed.add("a", 3, events({"a3"}));
  EXPECT_EQ(ids_of(feed.next(fresh, 10, 0ms).events), (std::vector<std::string>{"a:a3"}));
}

TEST(EventFeed, PastTheBoundTheOldestGoAndAReaderIsToldWhatItMissed) {
  const std::uint64_t each = StoredEvent{"x1", "t", 0, "{}"}.bytes();
  EventFeed feed(3 * each);
  const std::size_t r = feed.add_reader("hook");
  feed.set_positions(r, {}, false);
  feed.add("a", 1, events({"x1", "x2", "x3", "x4", "x5"}));
  const auto pull = feed.next(r, 10, 0ms);
  EXPECT_EQ(pull.missed, 2u);
  EXPECT_EQ(ids_of(pull.events), (std::vector<std::string>{"a:x3", "a:x4", "a:x5"}));
}

TEST(EventFeed, TakesTheRoomsInTurn) {
  EventFeed feed(1 << 20);
  const std::size_t r = feed.add_reader("hook");
  feed.set_positions(r, {}, false);
  feed.add("a", 1, events({"a1", "a2", "a3", "a4"}));
  feed.add("b", 1, events({"b1", "b2", "b3", "b4"}));
  std::vector<std::string> got;
  for (int i = 0; i < 4; ++i) {
    const auto pull = feed.next(r, 2, 0ms);
    feed.acknowledge(r, pull.events);
    for (const auto& id : ids_of(pull.events)) got.push_back(id);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"a:a1", "a:a2", "b:b1", "b:b2", "a:a3", "a:a4", "b:b3",
                                           "b:b4"}));
}

TEST(EventFeed, NextWaitsForEventsAndStopEndsTheWait) {
  EventFeed feed(1 << 20);
  const std::size_t r = feed.add_reader("hook");
  feed.set_positions(r, {}, false);
  std::thread later([&] {
    std::this_thread::sleep_for(50ms);
    feed.add("a", 1, events({"a1"}));
  });
  const auto pull = feed.next(r, 10, 5s);
  EXPECT_EQ(pull.events.size(), 1u);
  feed.acknowledge(r, pull.events);
  later.join();
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    feed.stop();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(feed.next(r, 10, 5s).events.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  stopper.join();
}

}  // namespace
}  // namespace waitroom::ops
