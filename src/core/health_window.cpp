#include "core/health_window.hpp"

#include <algorithm>
#include <charconv>

namespace waitroom::core {

std::string HealthWindow::Summary::encode() const {
  return latency_ms.encode() + " " + std::to_string(failed);
}

std::optional<HealthWindow::Summary> HealthWindow::Summary::decode(std::string_view text) {
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto histogram = WaitHistogram::decode(text.substr(0, space));
  const std::string_view failed = text.substr(space + 1);
  Summary out;
  auto [end, ec] = std::from_chars(failed.data(), failed.data() + failed.size(), out.failed);
  if (!histogram || ec != std::errc{} || end != failed.data() + failed.size() ||
      out.failed > histogram->count())
    return std::nullopt;
  out.latency_ms = std::move(*histogram);
  return out;
}

void HealthWindow::add(std::int64_t now_s, std::int64_t latency_ms, bool failed) {
  Second& s = seconds_[static_cast<std::size_t>(now_s % kSpanS)];
  if (s.at_s != now_s) s = Second{now_s, {}};
  s.requests.latency_ms.add(std::max<std::int64_t>(0, latency_ms));
  if (failed) ++s.requests.failed;
}

HealthWindow::Summary HealthWindow::summary(std::int64_t now_s) const {
  Summary out;
  for (const Second& s : seconds_)
    if (s.at_s > now_s - kSpanS && s.at_s <= now_s) out.merge(s.requests);
  return out;
}

HealthReading HealthWindow::read(const Summary& summary) {
  HealthReading out;
  out.samples = summary.latency_ms.count();
  if (out.samples < kMinSamples) return out;
  out.p50_ms = static_cast<double>(*summary.latency_ms.percentile(0.5));
  out.p95_ms = static_cast<double>(*summary.latency_ms.percentile(0.95));
  out.error_ratio = static_cast<double>(summary.failed) / static_cast<double>(out.samples);
  return out;
}

}  // namespace waitroom::core
