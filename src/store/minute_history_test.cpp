#include "store/minute_history.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "store/crc32c.hpp"
#include "store/history_steps.hpp"
#include "store/minute_record.hpp"

namespace waitroom::store {
namespace {

constexpr std::int64_t kMinuteStartMs =
    1'700'000'040'000;  // a minute's start (a multiple of 60,000)
constexpr std::int64_t kSecond = 1000;

// A sample at `at_ms` of a room that handed out `tickets` and admitted `admitted` this epoch.
HistorySample sample(std::int64_t at_ms, std::uint64_t tickets, std::uint64_t admitted,
                     std::uint32_t epoch = 1) {
  HistorySample s;
  s.at_ms = at_ms;
  s.epoch = epoch;
  s.queue_length = tickets;
  s.admitted = admitted;
  s.waiting = tickets - admitted;
  return s;
}

// A minute line as the first version wrote it (no expiries apart, no waits), without its CRC.
std::string fmt_v1_body() {
  return "m1 " + std::to_string(kMinuteStartMs) + " 12 10 3 300 42 120 480 0 3 9000 8000 7 6";
}

std::string crc_hex(const std::string& body) {
  char out[9];
  std::snprintf(out, sizeof out, "%08x", crc32c(body));
  return out;
}

TEST(MinuteHistory, MinutesAndDaysStartOnTheirUtcBoundaries) {
  EXPECT_EQ(minute_of(kMinuteStartMs), kMinuteStartMs);
  EXPECT_EQ(minute_of(kMinuteStartMs + 59'999), kMinuteStartMs);
  EXPECT_EQ(minute_of(kMinuteStartMs + 60'000), kMinuteStartMs + 60'000);
  EXPECT_EQ(day_of(1'700'000'040'000), 1'699'920'000'000);  // 2023-11-14T00:00Z
  EXPECT_EQ(minute_of(-1), -60'000);
}

TEST(MinuteHistory, AMinuteClosesWithItsCounterDifferencesAndItsLastState) {
  MinuteAggregator a;
  EXPECT_FALSE(a.add(sample(kMinuteStartMs - 5 * kSecond, 10, 4)));
  // The minute before closes (its only sample was the room's first: nothing counted in it).
  auto before = a.add(sample(kMinuteStartMs + 5 * kSecond, 13, 5));
  ASSERT_TRUE(before);
  EXPECT_EQ(before->minute_ms, kMinuteStartMs - 60'000);
  EXPECT_EQ(before->arrivals, 0u);
  EXPECT_EQ(before->waiting, 6u);
  HistorySample last = sample(kMinuteStartMs + 55 * kSecond, 20, 9);
  last.active_sessions = 7;
  last.tickets_expired = 2;
  last.sessions_expired = 1;
  last.paused = true;
  last.eta = core::Eta{30, 90};
  EXPECT_FALSE(a.add(last));
  auto closed = a.add(sample(kMinuteStartMs + 65 * kSecond, 21, 9));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->minute_ms, kMinuteStartMs);
  EXPECT_EQ(closed->arrivals, 10u);   // 20 - 10
  EXPECT_EQ(closed->admissions, 5u);  // 9 - 4
  EXPECT_EQ(closed->expiries, 3u);
  EXPECT_EQ(closed->waiting, 11u);
  EXPECT_EQ(closed->active_sessions, 7u);
  EXPECT_TRUE(closed->paused);
  ASSERT_TRUE(closed->eta);
  EXPECT_EQ(closed->eta->p90_s, 90);
  EXPECT_EQ(closed->end.tickets, 20u);
  EXPECT_EQ(closed->end.epoch, 1u);
  // The next minute counts from where this one ended.
  auto next = a.add(sample(kMinuteStartMs + 125 * kSecond, 30, 9));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->minute_ms, kMinuteStartMs + 60'000);
  EXPECT_EQ(next->arrivals, 1u);
  EXPECT_FALSE(next->paused);
  EXPECT_FALSE(next->eta);
}

TEST(MinuteHistory, ARoomsFirstMinuteCountsFromItsFirstSample) {
  MinuteAggregator a;
  EXPECT_FALSE(a.add(sample(kMinuteStartMs + 30 * kSecond, 500, 400)));  // long-lived counters
  EXPECT_FALSE(a.add(sample(kMinuteStartMs + 40 * kSecond, 503, 401)));
  auto closed = a.add(sample(kMinuteStartMs + 60 * kSecond, 503, 401));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->arrivals, 3u);
  EXPECT_EQ(closed->admissions, 1u);
}

TEST(MinuteHistory, AResetCountsWhatTheNewEpochShows) {
  MinuteAggregator a;
  a.add(sample(kMinuteStartMs, 100, 90, 1));
  a.add(sample(kMinuteStartMs + 20 * kSecond, 110, 95, 1));  // +10, +5 in epoch 1
  a.add(sample(kMinuteStartMs + 40 * kSecond, 4, 1, 2));     // reset: 4 and 1 since
  auto closed = a.add(sample(kMinuteStartMs + 60 * kSecond, 4, 1, 2));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->arrivals, 14u);
  EXPECT_EQ(closed->admissions, 6u);
  EXPECT_EQ(closed->end.epoch, 2u);
}

TEST(MinuteHistory, ACounterThatGoesBackCountsNothing) {
  MinuteAggregator a;
  HistorySample s = sample(kMinuteStartMs, 10, 5);
  s.sessions_expired = 3;
  a.add(s);
  s.at_ms += 10 * kSecond;
  s.sessions_expired = 2;  // a session revived by a renewal
  a.add(s);
  auto closed = a.add(sample(kMinuteStartMs + 60 * kSecond, 10, 5));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->expiries, 0u);
}

TEST(MinuteHistory, ASeedFromTheArchiveCountsTheFirstSampleSinceIt) {
  MinuteAggregate previous;
  previous.minute_ms = kMinuteStartMs - 60'000;
  previous.end = CumulativeCounts{.epoch = 1,
                                  .tickets = 50,
                                  .admitted = 40,
                                  .tickets_expired = 0,
                                  .sessions_expired = 0,
                                  .tickets_left = {}};
  MinuteAggregator a;
  a.seed(previous);
  a.add(sample(kMinuteStartMs + 10 * kSecond, 58, 41));
  auto closed = a.add(sample(kMinuteStartMs + 70 * kSecond, 58, 41));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->arrivals, 8u);
  EXPECT_EQ(closed->admissions, 1u);

  // A seed of this minute or later (a clock set back) is ignored: no double count.
  MinuteAggregator b;
  previous.minute_ms = kMinuteStartMs;
  b.seed(previous);
  b.add(sample(kMinuteStartMs + 10 * kSecond, 58, 41));
  closed = b.add(sample(kMinuteStartMs + 70 * kSecond, 59, 41));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->arrivals, 0u);
}

TEST(MinuteHistory, AClockSetBackCountsInTheOpenMinute) {
  MinuteAggregator a;
  a.add(sample(kMinuteStartMs + 10 * kSecond, 1, 0));
  EXPECT_FALSE(a.add(sample(kMinuteStartMs - 120 * kSecond, 3, 0)));
  auto closed = a.add(sample(kMinuteStartMs + 60 * kSecond, 3, 0));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->minute_ms, kMinuteStartMs);
  EXPECT_EQ(closed->arrivals, 2u);
}

TEST(MinuteHistory, AMinuteReadsBackFromItsLine) {
  MinuteAggregate m;
  m.minute_ms = kMinuteStartMs;
  m.arrivals = 12;
  m.admissions = 10;
  m.expiries = 1;
  m.waiting = 300;
  m.active_sessions = 42;
  m.eta = EtaRange{120, 480};
  m.paused = true;
  m.end = CumulativeCounts{.epoch = 3,
                           .tickets = 9000,
                           .admitted = 8000,
                           .tickets_expired = 7,
                           .sessions_expired = 6,
                           .tickets_left = {}};
  const std::string line = encode_minute(m);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(decode_minute(line), m);
  m.eta.reset();
  m.paused = false;
  EXPECT_EQ(decode_minute(encode_minute(m)), m);
}

TEST(MinuteHistory, ADamagedOrTornLineDoesNotRead) {
  MinuteAggregate m;
  m.minute_ms = kMinuteStartMs;
  m.arrivals = 12;
  const std::string line = encode_minute(m);
  for (std::size_t cut = 0; cut < line.size(); ++cut)
    EXPECT_FALSE(decode_minute(line.substr(0, cut))) << cut;
  std::string flipped = line;
  flipped[line.find(" 12 ") + 1] = '7';
  EXPECT_FALSE(decode_minute(flipped));
  EXPECT_FALSE(decode_minute(""));
  EXPECT_FALSE(decode_minute(std::string(100, '\0')));
}

TEST(MinuteHistory, StepsSumTheirCountsAndKeepTheirLastState) {
  // Two minutes into a 5-minute step.
  const std::int64_t start = kMinuteStartMs - kMinuteStartMs % 300'000 + 120'000;
  std::vector<MinuteAggregate> minutes;
  for (int i = 0; i < 7; ++i) {
    MinuteAggregate m;
    m.minute_ms = start + i * 60'000;
    m.arrivals = 1;
    m.admissions = static_cast<std::uint64_t>(i);
    m.waiting = 100 + static_cast<std::uint64_t>(i);
    m.end.epoch = 1;
    minutes.push_back(m);
  }
  minutes.erase(minutes.begin() + 4);  // a minute the server was down
  const auto points = sum_by_step(minutes, 300'000);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].at_ms, start - 120'000);
  EXPECT_EQ(points[0].minutes, 3u);
  EXPECT_EQ(points[0].arrivals, 3u);
  EXPECT_EQ(points[0].admissions, 0u + 1 + 2);
  EXPECT_EQ(points[0].waiting, 102u);
  EXPECT_EQ(points[1].at_ms, start + 180'000);
  EXPECT_EQ(points[1].minutes, 3u);
  EXPECT_EQ(points[1].admissions, 3u + 5 + 6);
  EXPECT_EQ(points[1].waiting, 106u);
  EXPECT_EQ(points[1].epoch, 1u);
  EXPECT_EQ(sum_by_step(minutes, 60'000).size(), 6u);
  EXPECT_TRUE(sum_by_step({}, 60'000).empty());
}

TEST(MinuteHistory, ExpiriesAreToldApartAndTheMinuteTakesItsWaits) {
  MinuteAggregator a;
  HistorySample s = sample(kMinuteStartMs + 5 * kSecond, 10, 0);
  s.tickets_expired = 1;
  s.tickets_left = 1;
  a.add(s);
  s = sample(kMinuteStartMs + 55 * kSecond, 20, 5);
  s.tickets_expired = 6;  // 3 more left, 2 unclaimed
  s.tickets_left = 4;
  s.sessions_expired = 4;
  a.add(s);
  core::WaitLog waits;
  const std::int64_t minute_s = kMinuteStartMs / kSecond;
  waits.add(minute_s - 1, 999);  // the minute before: not this one's
  for (int i = 1; i <= 20; ++i) waits.add(minute_s + 3 * i - 3, 10 * i);
  waits.add(minute_s + 60, 999);  // the next minute
  auto closed = a.add(sample(kMinuteStartMs + 65 * kSecond, 20, 5), &waits);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->left_line, 3u);
  EXPECT_EQ(closed->unclaimed, 2u);
  EXPECT_EQ(closed->sessions_expired, 4u);
  EXPECT_EQ(closed->expiries, 9u);
  EXPECT_EQ(closed->waits.count(), 20u);
  EXPECT_NEAR(static_cast<double>(*closed->waits.percentile(0.5)), 100, 100 * 0.032);
  EXPECT_NEAR(static_cast<double>(*closed->waits.percentile(0.95)), 190, 190 * 0.032);
  EXPECT_EQ(decode_minute(encode_minute(*closed)), closed);
}

TEST(MinuteHistory, AFirstVersionLineStillReadsWithoutTheNewFields) {
  const std::string body = fmt_v1_body();
  const std::string line = body + " " + crc_hex(body);
  auto m = decode_minute(line);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->arrivals, 12u);
  EXPECT_EQ(m->expiries, 3u);
  EXPECT_EQ(m->left_line + m->unclaimed + m->sessions_expired, 0u);
  EXPECT_TRUE(m->waits.empty());
  EXPECT_FALSE(m->end.tickets_left);
  EXPECT_EQ(m->end.tickets_expired, 7u);
  // Seeded with it, the next minute counts its ticket expiries in `expiries` only.
  MinuteAggregator a;
  a.seed(*m);
  HistorySample s = sample(kMinuteStartMs + 60 * kSecond, 9001, 8000, 3);
  s.tickets_expired = 9;
  s.tickets_left = 8;
  a.add(s);
  auto closed = a.add(sample(kMinuteStartMs + 125 * kSecond, 9001, 8000, 3));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->expiries, 2u);
  EXPECT_EQ(closed->left_line + closed->unclaimed, 0u);
}

TEST(MinuteHistory, AStepsPercentilesComeFromItsMergedMinutes) {
  std::vector<MinuteAggregate> minutes;
  std::vector<std::int64_t> all;
  for (int i = 0; i < 5; ++i) {
    MinuteAggregate m;
    m.minute_ms = kMinuteStartMs - kMinuteStartMs % 300'000 + i * 60'000;
    m.left_line = 1;
    m.unclaimed = 2;
    m.sessions_expired = 3;
    // One slow minute among quick ones: averaging the minutes' p95 would say ~300 s.
    const std::int64_t wait = i == 2 ? 1500 : 10;
    m.waits.add(wait, 20);
    minutes.push_back(m);
  }
  const auto points = sum_by_step(minutes, 300'000);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].left_line, 5u);
  EXPECT_EQ(points[0].unclaimed, 10u);
  EXPECT_EQ(points[0].sessions_expired, 15u);
  EXPECT_EQ(points[0].waits.count(), 100u);
  EXPECT_EQ(points[0].waits.percentile(0.5), 10);
  EXPECT_NEAR(static_cast<double>(*points[0].waits.percentile(0.95)), 1500, 1500 * 0.032);
}

}  // namespace
}  // namespace waitroom::store
