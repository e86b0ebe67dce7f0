#include "store/minute_record.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <utility>

#include "store/crc32c.hpp"

namespace waitroom::store {

namespace {

constexpr std::string_view kTag = "m2";
constexpr std::size_t kFields = 21;  // the tag, 19 fields, the checksum
constexpr std::string_view kTagV1 = "m1";
constexpr std::size_t kFieldsV1 = 16;  // the tag, 14 numbers, the checksum
constexpr std::string_view kNone = "-";

template <class T>
bool read_number(std::string_view text, T& out, int base = 10) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

std::string encode_minute(const MinuteAggregate& m) {
  std::string eta = "- -";
  if (m.eta) eta = fmt::format("{} {}", m.eta->p50_s, m.eta->p90_s);
  const std::string left =
      m.end.tickets_left ? std::to_string(*m.end.tickets_left) : std::string(kNone);
  std::string body = fmt::format(
      "{} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}", kTag, m.minute_ms, m.arrivals,
      m.admissions, m.expiries, m.waiting, m.active_sessions, eta, m.paused ? 1 : 0, m.end.epoch,
      m.end.tickets, m.end.admitted, m.end.tickets_expired, m.end.sessions_expired, m.left_line,
      m.unclaimed, m.sessions_expired, left, m.waits.encode());
  const std::uint32_t crc = crc32c(body);
  return fmt::format("{} {:08x}", body, crc);
}

std::optional<MinuteAggregate> decode_minute(std::string_view line) {
  const std::size_t last_space = line.rfind(' ');
  if (last_space == std::string_view::npos) return std::nullopt;
  std::uint32_t crc = 0;
  if (!read_number(line.substr(last_space + 1), crc, 16) ||
      crc != crc32c(line.substr(0, last_space)))
    return std::nullopt;
  std::array<std::string_view, kFields> f;
  std::size_t n = 0;
  for (std::size_t at = 0; at <= line.size();) {
    const std::size_t space = std::min(line.find(' ', at), line.size());
    if (n == kFields) return std::nullopt;
    f[n++] = line.substr(at, space - at);
    at = space + 1;
  }
  const bool v2 = n == kFields && f[0] == kTag;
  if (!v2 && !(n == kFieldsV1 && f[0] == kTagV1)) return std::nullopt;
  MinuteAggregate m;
  unsigned paused = 0;
  const bool ok = read_number(f[1], m.minute_ms) && read_number(f[2], m.arrivals) &&
                  read_number(f[3], m.admissions) && read_number(f[4], m.expiries) &&
                  read_number(f[5], m.waiting) && read_number(f[6], m.active_sessions) &&
                  read_number(f[9], paused) && paused <= 1 && read_number(f[10], m.end.epoch) &&
                  read_number(f[11], m.end.tickets) && read_number(f[12], m.end.admitted) &&
                  read_number(f[13], m.end.tickets_expired) &&
                  read_number(f[14], m.end.sessions_expired);
  if (!ok) return std::nullopt;
  m.paused = paused == 1;
  if (v2) {
    if (!read_number(f[15], m.left_line) || !read_number(f[16], m.unclaimed) ||
        !read_number(f[17], m.sessions_expired))
      return std::nullopt;
    if (f[18] != kNone) {
      std::uint64_t left = 0;
      if (!read_number(f[18], left)) return std::nullopt;
      m.end.tickets_left = left;
    }
    auto waits = core::WaitHistogram::decode(f[19]);
    if (!waits) return std::nullopt;
    m.waits = std::move(*waits);
  }
  if (f[7] != kNone || f[8] != kNone) {
    EtaRange eta;
    if (!read_number(f[7], eta.p50_s) || !read_number(f[8], eta.p90_s)) return std::nullopt;
    m.eta = eta;
  }
  return m;
}

}  // namespace waitroom::store
