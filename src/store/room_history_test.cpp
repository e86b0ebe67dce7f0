#include "store/room_history.hpp"

#include <gtest/gtest.h>

namespace waitroom::store {
namespace {

RoomStats view(std::string name, std::uint64_t admitted, std::uint32_t epoch = 1) {
  RoomStats stats;
  RoomView& r = stats.view;
  r.name = std::move(name);
  r.epoch = epoch;
  r.counters.admitted = admitted;
  r.counters.serving = admitted;
  r.counters.queue_counter = admitted + 5;
  r.counters.waiting = 5;
  r.counters.active_sessions = admitted / 2;
  return stats;
}

HistorySample at(std::int64_t ms) {
  HistorySample s;
  s.at_ms = ms;
  return s;
}

TEST(SampleRing, KeepsTheNewestInOrder) {
  SampleRing ring(3);
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(ring.newest(), nullptr);
  EXPECT_TRUE(ring.snapshot().empty());
  for (int i = 1; i <= 2; ++i) ring.push(at(i));
  ASSERT_EQ(ring.snapshot().size(), 2u);
  EXPECT_EQ(ring.snapshot()[0].at_ms, 1);
  EXPECT_EQ(ring.newest()->at_ms, 2);
  for (int i = 3; i <= 7; ++i) ring.push(at(i));
  const auto s = ring.snapshot();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].at_ms, 5);
  EXPECT_EQ(s[1].at_ms, 6);
  EXPECT_EQ(s[2].at_ms, 7);
  EXPECT_EQ(ring.newest()->at_ms, 7);
  EXPECT_EQ(ring.capacity(), 3u);
}

TEST(SampleRing, CapacityOneAndZero) {
  SampleRing one(1);
  one.push(at(1));
  one.push(at(2));
  ASSERT_EQ(one.snapshot().size(), 1u);
  EXPECT_EQ(one.snapshot()[0].at_ms, 2);
  SampleRing zero(0);  // treated as one slot rather than dividing by zero
  zero.push(at(3));
  EXPECT_EQ(zero.newest()->at_ms, 3);
}

TEST(SampleRing, WrapsManyTimes) {
  SampleRing ring(kHistorySamples);
  for (std::int64_t i = 0; i < 10'000; ++i) ring.push(at(i));
  const auto s = ring.snapshot();
  ASSERT_EQ(s.size(), kHistorySamples);
  for (std::size_t i = 0; i < s.size(); ++i)
    EXPECT_EQ(s[i].at_ms,
              10'000 - static_cast<std::int64_t>(kHistorySamples) + static_cast<std::int64_t>(i));
}

TEST(SampleRing, RateBaseIsTheNewestSampleOfTheWindow) {
  SampleRing ring(100);
  EXPECT_EQ(ring.rate_base(0), nullptr);
  for (std::int64_t t = 0; t <= 20'000; t += 1'000) ring.push(at(t));
  EXPECT_EQ(ring.rate_base(21'000)->at_ms, 21'000 - kRateWindowMs);
  EXPECT_EQ(ring.rate_base(20'500)->at_ms, 10'000);
  EXPECT_EQ(ring.rate_base(5'000)->at_ms, 0);  // nothing old enough: the oldest there is
  SampleRing slow(10);  // samples further apart than the window: the previous one
  for (std::int64_t t = 0; t <= 60'000; t += 30'000) slow.push(at(t));
  EXPECT_EQ(slow.rate_base(90'000)->at_ms, 60'000);
}

TEST(MakeSample, RatePerMinuteFromThePreviousSample) {
  const HistorySample first = make_sample(view("r", 10), 1'000'000, nullptr);
  EXPECT_FALSE(first.admissions_per_minute);
  EXPECT_EQ(first.serving, 10u);
  EXPECT_EQ(first.waiting, 5u);
  EXPECT_EQ(first.queue_length, 15u);
  EXPECT_EQ(first.active_sessions, 5u);
  // 20 more in 10 s: 120 a minute.
  const HistorySample second = make_sample(view("r", 30), 1'010'000, &first);
  ASSERT_TRUE(second.admissions_per_minute);
  EXPECT_DOUBLE_EQ(*second.admissions_per_minute, 120.0);
  // The clock did not move: no rate rather than a division by zero.
  EXPECT_FALSE(make_sample(view("r", 40), 1'010'000, &second).admissions_per_minute);
}

TEST(MakeSample, AfterAResetCountsFromZero) {
  const HistorySample before = make_sample(view("r", 100, 1), 0, nullptr);
  const HistorySample after = make_sample(view("r", 3, 2), 60'000, &before);
  ASSERT_TRUE(after.admissions_per_minute);
  EXPECT_DOUBLE_EQ(*after.admissions_per_minute, 3.0);
  EXPECT_EQ(after.epoch, 2u);
}

TEST(MakeSample, CarriesPausedAndEta) {
  RoomStats r = view("r", 0);
  r.view.settings.state = core::RoomState::paused;
  r.view.eta = core::Eta{30, 90};
  const HistorySample s = make_sample(r, 0, nullptr);
  EXPECT_TRUE(s.paused);
  ASSERT_TRUE(s.eta);
  EXPECT_EQ(s.eta->p50_s, 30);
  EXPECT_EQ(s.eta->p90_s, 90);
}

TEST(MakeSample, ArrivalsPerMinuteAndTheLastMinutesWaits) {
  RoomStats first = view("r", 0);
  first.view.counters.queue_counter = 100;
  const HistorySample a = make_sample(first, 1'000'000, nullptr);
  EXPECT_FALSE(a.arrivals_per_minute);
  EXPECT_FALSE(a.waited_p50_s);
  RoomStats later = view("r", 0);
  later.view.counters.queue_counter = 130;  // 30 more in 10 s: 180 a minute
  // At 1,010 s: admissions at 950 s and later count (the last minute), the one at 900 s not.
  later.waits.add(900, 500);
  for (int i = 1; i <= 20; ++i) later.waits.add(1000, i * 10);
  const HistorySample b = make_sample(later, 1'010'000, &a);
  ASSERT_TRUE(b.arrivals_per_minute);
  EXPECT_DOUBLE_EQ(*b.arrivals_per_minute, 180.0);
  ASSERT_TRUE(b.waited_p50_s && b.waited_p95_s);
  // 10, 20 … 200: the 10th is 100, the 19th is 190 (each to its bucket's middle, within 3.2 %).
  EXPECT_NEAR(static_cast<double>(*b.waited_p50_s), 100, 100 * 0.032);
  EXPECT_NEAR(static_cast<double>(*b.waited_p95_s), 190, 190 * 0.032);
}

TEST(RoomHistory, ShortIntervalsStillGiveASteadyRate) {
  RoomHistory h(50, kHistorySamples);
  // One admission every 500 ms (120 a minute), sampled every 50 ms.
  double last = 0;
  for (std::int64_t t = 0; t <= 30'000; t += 50) {
    h.record({view("r", static_cast<std::uint64_t>(t / 500))}, t);
    last = h.samples("r").back().admissions_per_minute.value_or(0.0);
    if (t >= kRateWindowMs) {
      EXPECT_NEAR(last, 120.0, 6.5) << t;
    }
  }
}

TEST(RoomHistory, OneRingPerRoomAndDeletedRoomsGo) {
  RoomHistory h(1000, 4);
  EXPECT_EQ(h.interval_ms(), 1000);
  EXPECT_EQ(h.capacity(), 4u);
  EXPECT_TRUE(h.samples("a").empty());
  for (int i = 0; i < 6; ++i) h.record({view("a", i), view("b", 2 * i)}, i * 1000);
  ASSERT_EQ(h.samples("a").size(), 4u);
  EXPECT_EQ(h.samples("a").back().admitted, 5u);
  EXPECT_EQ(h.samples("b").back().admitted, 10u);
  EXPECT_DOUBLE_EQ(*h.samples("b").back().admissions_per_minute, 120.0);
  h.record({view("b", 12)}, 6000);  // room a was deleted
  EXPECT_TRUE(h.samples("a").empty());
  EXPECT_EQ(h.samples("b").size(), 4u);
  h.record({view("a", 0), view("b", 12)}, 7000);  // a new room a starts afresh
  ASSERT_EQ(h.samples("a").size(), 1u);
  EXPECT_FALSE(h.samples("a")[0].admissions_per_minute);
}

}  // namespace
}  // namespace waitroom::store
