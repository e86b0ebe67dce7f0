#include "api/history_range.hpp"

#include <charconv>
#include <optional>
#include <string>

#include "core/rfc3339.hpp"
#include "http/query.hpp"

namespace waitroom::api {

using core::ErrorCode;

namespace {

constexpr std::int64_t kMsPerSecond = 1000;
constexpr std::int64_t kSecondsPerMinute = 60;
constexpr std::int64_t kDefaultRangeMs = 3'600'000;  // an hour, as the samples cover
constexpr std::int64_t kMaxStepS = 366LL * 86'400;
// Times beyond year 9999 in ms, so that sums of them cannot overflow.
constexpr std::int64_t kMaxTimeMs = 253'402'300'800'000;

core::Result<HistoryRange> bad(std::string detail) {
  return core::fail(ErrorCode::bad_request, std::move(detail));
}

std::optional<std::int64_t> read_int(std::string_view text) {
  std::int64_t n = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// Milliseconds since 1970, or an RFC 3339 time.
std::optional<std::int64_t> read_time(std::string_view text) {
  std::optional<std::int64_t> ms = read_int(text);
  if (!ms) {
    auto s = core::parse_rfc3339(text);
    if (s && *s >= 0 && *s <= kMaxTimeMs / kMsPerSecond) ms = *s * kMsPerSecond;
  }
  if (!ms || *ms < 0 || *ms > kMaxTimeMs) return std::nullopt;
  return ms;
}

}  // namespace

core::Result<HistoryRange> parse_history_range(std::string_view query, std::int64_t now_ms,
                                               std::int64_t samples_window_ms) {
  HistoryRange r;
  const auto step = http::query_param(query, "step");
  const auto from = http::query_param(query, "from");
  const auto to = http::query_param(query, "to");
  r.asked = step || from || to;
  if (step) {
    auto s = read_int(*step);
    if (!s || *s <= 0 || *s > kMaxStepS || (*s != kSampleStepS && *s % kSecondsPerMinute != 0))
      return bad(
          "step must be 10 (the 10-second samples of the last hour) or a multiple of 60 "
          "seconds (the minutes), up to " +
          std::to_string(kMaxStepS));
    r.step_s = *s;
  }
  r.to_ms = now_ms;
  if (to) {
    auto t = read_time(*to);
    if (!t) return bad("to must be milliseconds since 1970-01-01T00:00Z or an RFC 3339 time");
    r.to_ms = *t;
  }
  r.from_ms = r.to_ms - (r.samples() ? samples_window_ms : kDefaultRangeMs);
  if (from) {
    auto f = read_time(*from);
    if (!f) return bad("from must be milliseconds since 1970-01-01T00:00Z or an RFC 3339 time");
    r.from_ms = *f;
  }
  if (r.from_ms >= r.to_ms) return bad("from must be before to");
  if (r.samples()) {
    if (r.from_ms < now_ms - samples_window_ms)
      return bad("the 10-second samples reach back " +
                 std::to_string(samples_window_ms / kMsPerSecond) +
                 " s: ask for step=60 or more for older times");
    return r;
  }
  const std::int64_t step_ms = r.step_s * kMsPerSecond;
  if ((r.to_ms - r.from_ms + step_ms - 1) / step_ms > kMaxHistoryPoints)
    return bad("from..to holds more than " + std::to_string(kMaxHistoryPoints) +
               " steps: ask for a shorter range or a longer step");
  return r;
}

}  // namespace waitroom::api
