#include "ops/audit_event.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <chrono>
#include <random>

#include "ops/stored_event.hpp"

namespace waitroom::ops {

namespace {

constexpr std::size_t kIdBytes = 16;
constexpr std::int64_t kMsPerDay = 86'400'000;
constexpr std::int64_t kMsPerHour = 3'600'000;
constexpr std::int64_t kMsPerMinute = 60'000;
constexpr std::int64_t kMsPerSecond = 1'000;

void random_bytes(std::array<unsigned char, kIdBytes>& bytes) {
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) == 1) return;
  // RAND_bytes only fails when OpenSSL cannot seed itself; the kernel's generator behind
  // random_device still gives unique ids, and an audit event should not fail for want of an id.
  std::random_device device;
  for (auto& b : bytes) b = static_cast<unsigned char>(device());
}

}  // namespace

std::string new_event_id() {
  std::array<unsigned char, kIdBytes> b{};
  random_bytes(b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4 (RFC 9562 section 5.4)
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10xx
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

std::string format_rfc3339_ms(std::int64_t time_ms) {
  // Floor division so times before 1970 still get a non-negative time of day.
  std::int64_t days = time_ms / kMsPerDay;
  std::int64_t ms_of_day = time_ms % kMsPerDay;
  if (ms_of_day < 0) {
    ms_of_day += kMsPerDay;
    --days;
  }
  const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{days}}};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     ms_of_day / kMsPerHour, ms_of_day % kMsPerHour / kMsPerMinute,
                     ms_of_day % kMsPerMinute / kMsPerSecond, ms_of_day % kMsPerSecond);
}

boost::json::object event_json(const Event& event) {
  boost::json::object out;
  out.reserve(7);
  out["id"] = event.id;
  if (event.seq != 0) out["seq"] = event.seq;
  out["type"] = event.type;
  out["room"] = event.room;
  out["time"] = format_rfc3339_ms(event.time_ms);
  out["time_ms"] = event.time_ms;
  out["data"] = event.data;
  return out;
}

void append_event_json(std::string& out, std::string_view room, std::uint64_t seq,
                       const StoredEvent& event) {
  const auto quoted = [](std::string_view text) {
    return boost::json::serialize(boost::json::string(text));
  };
  out += fmt::format(R"({{"id":{},"seq":{},"type":{},"room":{},"time":"{}","time_ms":{},"data":)",
                     quoted(event.id), seq, quoted(event.type), quoted(room),
                     format_rfc3339_ms(event.time_ms), event.time_ms);
  out += event.data_json.empty() ? "{}" : event.data_json;
  out += '}';
}

}  // namespace waitroom::ops
