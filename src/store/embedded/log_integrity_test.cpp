// Fault injection over a real log (issue 25): a log written by the real store, with several
// thousand records of every kind, is damaged in three ways at many random places, and each copy is
// opened as start-up opens it. Every time, either start-up refuses with the damage report, or the
// damage was confined to the last record (which the durable-end mark here treats as never
// acknowledged) and the state is exactly the state of the records before it. Never a silent loss,
// never a position handed out twice.
//
// WAITROOM_FAULT_ITERATIONS sets how many random places per kind (default 300, which keeps `make
// test` short; the issue asks for 1,000: WAITROOM_FAULT_ITERATIONS=1000), WAITROOM_FAULT_SEED the
// random seed (default fixed, so a failure can be reproduced).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "store/embedded/embedded_store.hpp"
#include "store/embedded/log_format.hpp"
#include "store/embedded/log_tools.hpp"
#include "testing/store_ops.hpp"
#include "testing/temp_dir.hpp"

namespace waitroom::store {
namespace {

using waitroom::testing::TempDir;

using waitroom::testing::CountingMinter;
using waitroom::testing::run;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

// What replay rebuilt, room by room: the counters a lost record would change.
std::string fingerprint(EmbeddedStore& s) {
  std::ostringstream out;
  const std::vector<RoomView> views = run(s.rooms()).value();
  for (const RoomView& r : views) {
    const core::RoomCounters& c = r.counters;
    out << r.name << " epoch=" << r.epoch << " paused=" << r.paused << " queue=" << c.queue_counter
        << " serving=" << c.serving << " passes=" << c.passes_issued
        << " active=" << c.active_sessions << " completed=" << c.completed
        << " revoked=" << c.revoked << " issued_total=" << c.tickets_issued_total << "\n";
  }
  return out.str();
}

std::uint64_t number_before(const std::string& text, const std::string& after) {
  auto at = text.find(after);
  if (at == std::string::npos || at < 2) return ~std::uint64_t{0};
  std::size_t begin = at - 1;  // the space before `after`
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(text[begin - 1]))) --begin;
  return std::strtoull(text.c_str() + begin, nullptr, 10);
}

std::uint64_t number_after(const std::string& text, const std::string& before) {
  const auto at = text.find(before);
  if (at == std::string::npos) return ~std::uint64_t{0};
  return std::strtoull(text.c_str() + at + before.size(), nullptr, 10);
}

class LogIntegrity : public ::testing::Test {
 protected:
  void put(EmbeddedStore& s, const std::string& room) {
    ASSERT_TRUE(run(s.put_room(
        room, [](const auto&) { return core::Result<core::RoomSettings>(core::RoomSettings{}); })));
  }

  // A busy afternoon of two rooms and some short-lived ones: every record kind the store writes
  // for visitors and operators (room put and delete, pause, enqueue, admission, pass, renewal,
  // session end, reset).
  void write_real_log() {
    auto s = EmbeddedStore::open(source_.path(), /*fsync_each_batch=*/false, clock_, ids_, minter_)
                 .value();
    s->start();
    put(*s, "a");
    put(*s, "b");
    struct Line {
      std::vector<std::string> tickets;
      std::size_t passed = 0;
    };
    std::map<std::string, Line> lines{{"a", {}}, {"b", {}}};
    for (int round = 0; round < kRounds; ++round) {
      clock_.advance_ms(1000);
      for (auto& [room, line] : lines) {
        for (int i = 0; i < 6; ++i)
          line.tickets.push_back(run(s->enqueue(room, std::nullopt, false)).value().ticket.ticket);
        const std::uint64_t by = room == "a" ? 4 : 3;
        ASSERT_TRUE(run(s->advance(room, Advance{.by = by, .to = std::nullopt})));
        for (std::uint64_t i = 0; i < by && line.passed < line.tickets.size(); ++i, ++line.passed)
          ASSERT_TRUE(run(s->issue_pass(
              room, line.tickets[line.passed],
              PassOptions{.issuer = std::nullopt, .lifetime_s = 60, .client_prefix = {}})));
        ASSERT_TRUE(run(s->renew_pass(room, line.tickets[line.passed - 1], "")));
        ASSERT_TRUE(run(
            s->end_session(room, line.tickets[line.passed - 2], core::TicketStatus::completed)));
      }
      if (round % 10 == 5) {  // paused and resumed (a paused room issues no passes)
        ASSERT_TRUE(run(s->set_paused("b", true)));
        ASSERT_TRUE(run(s->set_paused("b", false)));
      }
      if (round % 25 == 24) {
        ASSERT_TRUE(run(s->reset("a")));
        lines["a"] = Line{};
      }
      if (round % 40 == 39) {
        const std::string tmp = "tmp" + std::to_string(round);
        put(*s, tmp);
        ASSERT_TRUE(run(s->enqueue(tmp, std::nullopt, false)));
        ASSERT_TRUE(run(s->delete_room(tmp)));
      }
    }
    s->stop();
  }

  static constexpr int kRounds = 200;
  TempDir source_, work_;
  core::ManualClock clock_;
  token::TicketIdCodec ids_{std::string(32, 's')};
  CountingMinter minter_;
};

TEST_F(LogIntegrity, DamageIsRefusedOrConfinedToTheLastRecordNeverSilentlyLost) {
  write_real_log();
  std::string original = read_whole_file(source_.path() / kLogFileName).value();
  std::vector<std::uint64_t> starts;
  const LogScan whole = scan_log(original, read_mark(mark_path(source_.path() / kLogFileName)),
                                 [&](std::string_view, std::uint64_t offset) -> core::Result<void> {
                                   starts.push_back(offset);
                                   return {};
                                 })
                            .value();
  ASSERT_EQ(whole.outcome, LogScan::Outcome::clean);
  ASSERT_EQ(whole.mark.end, whole.intact_end) << "a clean stop records the whole log as durable";
  const std::uint64_t records = whole.records;
  const std::uint64_t end = whole.intact_end;
  ASSERT_GE(records, 4000u);
  original.resize(end + 4096);  // keep some of the zero-filled space ahead, as on disk
  // The last record stands for one that was written but never acknowledged: the mark stops before
  // it.
  DurableMark mark{starts.back(), records - 1, 7};
  const std::string mark_bytes = encode_mark_slot(mark) + encode_mark_slot(mark);

  const std::filesystem::path log_file = work_.path() / kLogFileName;
  auto open_copy = [&](std::string_view bytes) {
    std::ofstream(log_file, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::ofstream(mark_path(log_file), std::ios::binary | std::ios::trunc) << mark_bytes;
    return EmbeddedStore::open(work_.path(), true, clock_, ids_, minter_);
  };
  std::string all_state, all_but_last_state;
  {
    auto s = open_copy(original).value();
    ASSERT_EQ(s->replayed_records(), records);
    all_state = fingerprint(*s);
  }
  {
    auto s = open_copy(std::string_view(original).substr(0, starts.back())).value();
    ASSERT_EQ(s->replayed_records(), records - 1);
    all_but_last_state = fingerprint(*s);
  }

  const std::uint64_t iterations = env_or("WAITROOM_FAULT_ITERATIONS", 300);
  const std::uint64_t seed = env_or("WAITROOM_FAULT_SEED", 25);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::uint64_t> anywhere(0, end - 1);
  // Random places almost never hit the last record (one in thousands of bytes), so a few more are
  // drawn there, where a cut or a torn write is allowed to be cut off.
  constexpr std::uint64_t kInLastRecord = 20;
  std::uniform_int_distribution<std::uint64_t> in_last(starts.back(), end - 1);
  const auto began = std::chrono::steady_clock::now();

  enum Kind { flip, zero_page, cut };
  const char* names[] = {"flip one byte", "zero a 4 KiB page", "cut the file"};
  struct Counts {
    int refused = 0, started_whole = 0, started_without_last = 0;
  } counts[3];
  for (int kind : {flip, zero_page, cut}) {
    for (std::uint64_t i = 0; i < iterations + kInLastRecord; ++i) {
      std::string bytes = original;
      const std::uint64_t at = i < iterations ? anywhere(rng) : in_last(rng);
      std::uint64_t last_damaged = at;  // the last byte the fault may have changed
      if (kind == flip) {
        bytes[at] = static_cast<char>(bytes[at] ^ static_cast<char>(1 + rng() % 255));
      } else if (kind == zero_page) {
        const std::uint64_t page = at & ~std::uint64_t{4095};
        std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(page),
                  bytes.begin() + static_cast<std::ptrdiff_t>(
                                      std::min<std::uint64_t>(page + 4096, bytes.size())),
                  '\0');
        last_damaged = page + 4095;
        if (bytes == original) continue;  // nothing but zeros there already
      } else {
        bytes.resize(at);
      }
      const std::uint64_t first_damaged =
          kind == zero_page
              ? static_cast<std::uint64_t>(
                    std::mismatch(original.begin(), original.end(), bytes.begin()).first -
                    original.begin())
              : at;
      auto s = open_copy(bytes);
      SCOPED_TRACE(std::string(names[kind]) + " at offset " + std::to_string(at));
      if (!s) {
        const std::string& why = s.error().detail;
        ++counts[kind].refused;
        const std::uint64_t reported = number_after(why, "is damaged at offset ");
        ASSERT_LE(reported, std::min(first_damaged, last_damaged)) << why;
        const std::uint64_t before = number_before(why, "records were read before it");
        ASSERT_EQ(before,
                  static_cast<std::uint64_t>(
                      std::lower_bound(starts.begin(), starts.end(), reported) - starts.begin()))
            << why;
        ASSERT_NE(why.find("intact records follow it"), std::string::npos) << why;
        ASSERT_NE(why.find("waitroom log repair --data-dir " + work_.path().string() +
                           " --truncate-at " + std::to_string(reported)),
                  std::string::npos)
            << why;
        ASSERT_NE(why.find("waitroom log check"), std::string::npos) << why;
        continue;
      }
      // It started: only a fault confined to the never-acknowledged last record may be cut off,
      // and everything before the damage is there, exactly.
      ASSERT_GE(first_damaged, starts.back()) << "started on damage before the last record";
      const std::uint64_t replayed = (*s)->replayed_records();
      if (replayed == records) {
        ++counts[kind].started_whole;  // e.g. a byte flipped in the zero-filled space
        ASSERT_EQ(fingerprint(**s), all_state);
      } else {
        ++counts[kind].started_without_last;
        ASSERT_EQ(replayed, records - 1);
        ASSERT_EQ(fingerprint(**s), all_but_last_state);
      }
      // No position is handed out twice: the next ticket follows every replayed one.
      (*s)->start();
      const auto rooms = run((*s)->rooms()).value();
      for (const RoomView& r : rooms) {
        auto t = run((*s)->enqueue(r.name, std::nullopt, true));
        ASSERT_TRUE(t);
        ASSERT_EQ(t->ticket.state.position, r.counters.queue_counter + 1);
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::cout << "[ fault injection ] log of " << records << " records, " << end << " bytes; "
            << iterations << " random places per kind and " << kInLastRecord
            << " in the last record, seed " << seed << ", " << seconds << " s\n";
  for (int kind : {flip, zero_page, cut})
    std::cout << "[ fault injection ] " << names[kind] << ": refused " << counts[kind].refused
              << ", started with every record " << counts[kind].started_whole
              << ", started without the never-acknowledged last record "
              << counts[kind].started_without_last << "\n";
}

// `waitroom log repair` over a real log: the records before the cut are kept, and the counters
// stay above the dropped part, even when the dropped part reset the room.
TEST_F(LogIntegrity, RepairKeepsTheRoomsCountersAboveTheDroppedPart) {
  std::vector<std::string> kept_tickets;
  std::uint64_t cut = 0;
  {
    auto s = EmbeddedStore::open(source_.path(), true, clock_, ids_, minter_).value();
    s->start();
    put(*s, "a");
    put(*s, "b");
    for (int i = 0; i < 10; ++i)
      kept_tickets.push_back(run(s->enqueue("a", std::nullopt, true))->ticket.ticket);
    ASSERT_TRUE(run(s->enqueue("b", std::nullopt, true)));
    s->stop();
    const auto data = read_whole_file(source_.path() / kLogFileName).value();
    cut = scan_log(data, {}, {}).value().intact_end;  // where the next session's records begin
  }
  {
    auto s = EmbeddedStore::open(source_.path(), true, clock_, ids_, minter_).value();
    s->start();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(run(s->enqueue("a", std::nullopt, true)));
    ASSERT_TRUE(run(s->advance("a", Advance{.by = std::nullopt, .to = 15})));
    ASSERT_TRUE(run(s->reset("a")));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(run(s->enqueue("a", std::nullopt, true)));
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(run(s->enqueue("b", std::nullopt, true)));
    ASSERT_TRUE(run(s->advance("b", Advance{.by = std::nullopt, .to = 2})));
    s->stop();
  }
  const auto file = source_.path() / kLogFileName;
  auto data = read_whole_file(file).value();
  auto before = scan_log(data, read_mark(mark_path(file)), {}).value();
  ASSERT_EQ(before.outcome, LogScan::Outcome::clean);
  // Damage right after the cut point.
  data[cut + 20] = static_cast<char>(data[cut + 20] ^ 0x10);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << data;
  ASSERT_FALSE(EmbeddedStore::open(source_.path(), true, clock_, ids_, minter_));

  std::ostringstream out, err;
  ASSERT_EQ(check_log(source_.path(), out, err), kLogToolDamaged) << out.str() << err.str();
  ASSERT_EQ(repair_log(source_.path(), cut, out, err), kLogToolOk) << out.str() << err.str();
  // 14 intact records of room a were dropped (the damaged one is not intact), 5 of room b.
  EXPECT_NE(out.str().find("room a: 14 dropped records; they reached epoch 2, highest position 3, "
                           "serving counter 0"),
            std::string::npos)
      << out.str();
  EXPECT_NE(
      out.str().find(
          "room b: 5 dropped records; they reached epoch 1, highest position 5, serving counter 2"),
      std::string::npos)
      << out.str();
  // The damaged record itself could not be read: it may have been a join of either room, so both
  // rooms' queue counters go that many positions further.
  const std::uint64_t margin = number_after(out.str(), "queue counter is raised by ");
  ASSERT_GE(margin, 1u) << out.str();
  ASSERT_LE(margin, 2u) << out.str();  // one damaged frame of about 50 bytes
  std::ostringstream again;
  EXPECT_EQ(check_log(source_.path(), again, err), kLogToolOk) << again.str();

  auto s = EmbeddedStore::open(source_.path(), true, clock_, ids_, minter_).value();
  s->start();
  // Room a moved to the dropped part's epoch: its old tickets are gone, it continues after 3.
  EXPECT_EQ(run(s->room("a"))->epoch, 2u);
  EXPECT_EQ(run(s->ticket("a", kept_tickets[0])).error().code, core::ErrorCode::gone);
  EXPECT_EQ(run(s->enqueue("a", std::nullopt, true))->ticket.state.position, 3 + margin + 1);
  // Room b continues after position 5, serving at least 2.
  EXPECT_EQ(run(s->room("b"))->counters.serving, 2u);
  EXPECT_EQ(run(s->enqueue("b", std::nullopt, true))->ticket.state.position, 5 + margin + 1);
  s->stop();
  s.reset();
  // A room re-created after the repair starts past every epoch the dropped part used.
  auto s2 = EmbeddedStore::open(source_.path(), true, clock_, ids_, minter_).value();
  s2->start();
  ASSERT_TRUE(run(s2->delete_room("a")));
  put(*s2, "a");
  EXPECT_EQ(run(s2->room("a"))->epoch, 3u);
}

}  // namespace
// The dropped part may have numbered events a webhook already delivered: after the repair the
// room's feed numbers on after them, so a sink's saved place never hides a new event.
TEST_F(LogIntegrity, RepairKeepsTheRoomsEventNumbersAboveTheDroppedPart) {
  std::uint64_t cut = 0;
  std::uint64_t newest = 0;
  {
    ops::EventFeed feed(1 << 20);
    auto s = EmbeddedStore::open(source_.path(), true, clock_, ids_, minter_, &feed).value();
    s->start();
    put(*s, "a");
    s->stop();
    cut =
        scan_log(read_whole_file(source_.path() / kLogFileName).value(), {}, {}).value().intact_end;
  }
  {
    ops::EventFeed feed(1 << 20);
    auto s = EmbeddedStore::open(source_.path(), true, clock_, ids_, minter_, &feed).value();
    s->start();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(run(s->enqueue("a", std::nullopt, true)));
    newest = feed.read("a", 0, 100).newest;
    s->stop();
  }
  ASSERT_GE(newest, 11u);
  const auto file = source_.path() / kLogFileName;
  auto data = read_whole_file(file).value();
  data[cut + 20] = static_cast<char>(data[cut + 20] ^ 0x10);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << data;
  std::ostringstream out, err;
  ASSERT_EQ(repair_log(source_.path(), cut, out, err), kLogToolOk) << out.str() << err.str();

  ops::EventFeed feed(1 << 20);
  auto s = EmbeddedStore::open(source_.path(), true, clock_, ids_, minter_, &feed).value();
  s->start();
  ASSERT_TRUE(run(s->enqueue("a", std::nullopt, true)));
  const auto page = feed.read("a", 0, 100);
  ASSERT_FALSE(page.events.empty());
  EXPECT_GT(page.events.back().seq, newest);
  s->stop();
}

}  // namespace waitroom::store
