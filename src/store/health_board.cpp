#include "store/health_board.hpp"

#include <algorithm>
#include <charconv>

namespace waitroom::store {

namespace {

constexpr std::int64_t kForgetNodeMs = 60'000;

// The worse of two values (a missing one is no better or worse than the other).
std::optional<double> worse(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

void add_worse(core::HealthReading& into, const core::HealthReading& posted) {
  into.p50_ms = worse(into.p50_ms, posted.p50_ms);
  into.p95_ms = worse(into.p95_ms, posted.p95_ms);
  into.error_ratio = worse(into.error_ratio, posted.error_ratio);
}

std::string number_text(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
  return ec == std::errc{} ? std::string(buf, end) : "-";
}

bool parse_number(std::string_view text, std::optional<double>& out) {
  if (text == "-") return true;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || !(v >= 0)) return false;
  out = v;
  return true;
}

std::string posted_text(const std::optional<PostedSignals>& p, std::int64_t now_ms) {
  if (!p || p->expires_ms() <= now_ms) return "-";
  const core::HealthReading& r = p->reading;
  return number_text(r.p50_ms) + "," + number_text(r.p95_ms) + "," + number_text(r.error_ratio) +
         "," + std::to_string(p->expires_ms() - now_ms);
}

// "P50,P95,ERROR_RATIO,MS_LEFT" heard at `now_ms`; nullopt when malformed.
std::optional<std::optional<PostedSignals>> parse_posted(std::string_view text,
                                                         std::int64_t now_ms) {
  if (text == "-") return std::optional<PostedSignals>{};
  std::string_view parts[4];
  for (std::size_t i = 0; i < 4; ++i) {
    const std::size_t comma = i < 3 ? text.find(',') : text.size();
    if (comma == std::string_view::npos) return std::nullopt;
    parts[i] = text.substr(0, comma);
    text = i < 3 ? text.substr(comma + 1) : std::string_view{};
  }
  PostedSignals p;
  std::int64_t left_ms = 0;
  auto [end, ec] = std::from_chars(parts[3].data(), parts[3].data() + parts[3].size(), left_ms);
  if (!parse_number(parts[0], p.reading.p50_ms) || !parse_number(parts[1], p.reading.p95_ms) ||
      !parse_number(parts[2], p.reading.error_ratio) || ec != std::errc{} ||
      end != parts[3].data() + parts[3].size() || left_ms <= 0 ||
      left_ms > kMaxSignalMaxAgeS * 1000)
    return std::nullopt;
  // Kept as a post that lives as long as it had left here (its time is that of the whole seconds).
  p.max_age_s = (left_ms + 999) / 1000;
  p.at_ms = now_ms + left_ms - p.max_age_s * 1000;
  return std::optional<PostedSignals>(p);
}

}  // namespace

HealthBoard::Entry& HealthBoard::entry(std::string_view room) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) it = rooms_.emplace(std::string(room), Entry{}).first;
  return it->second;
}

void HealthBoard::observe(std::string_view room, std::int64_t latency_ms, bool failed) {
  const std::int64_t now_s = clock_.now_s();
  std::lock_guard lock(mu_);
  entry(room).proxy.add(now_s, latency_ms, failed);
}

void HealthBoard::post(std::string_view room, const core::HealthReading& reading,
                       std::int64_t max_age_s) {
  PostedSignals posted{reading, clock_.now_ms(), max_age_s};
  posted.reading.samples = 0;
  std::lock_guard lock(mu_);
  entry(room).posted = posted;
}

HealthReport HealthBoard::report(std::string_view room) const {
  const std::int64_t now_ms = clock_.now_ms();
  HealthReport out;
  core::HealthWindow::Summary requests;
  std::vector<PostedSignals> posts;
  {
    std::lock_guard lock(mu_);
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return out;
    const Entry& e = it->second;
    requests = e.proxy.summary(now_ms / 1000);
    if (e.posted) posts.push_back(*e.posted);
    for (const auto& [node, shared] : e.others) {
      if (now_ms - shared.heard_ms > kSharedFreshMs) continue;
      ++out.nodes;
      requests.merge(shared.requests);
      if (shared.posted) posts.push_back(*shared.posted);
    }
  }
  out.proxy = core::HealthWindow::read(requests);
  out.combined = out.proxy;
  for (const PostedSignals& p : posts) {
    const bool fresh = p.expires_ms() > now_ms;
    if (fresh) add_worse(out.combined, p.reading);
    // The one to show: a fresh one before a stale one, then the latest.
    if (!out.posted || (fresh && !out.posted_fresh) ||
        (fresh == out.posted_fresh && p.at_ms > out.posted->at_ms)) {
      out.posted = p;
      out.posted_fresh = fresh;
    }
  }
  return out;
}

std::vector<SharedHealth> HealthBoard::shareable() const {
  const std::int64_t now_ms = clock_.now_ms();
  std::vector<SharedHealth> out;
  std::lock_guard lock(mu_);
  for (const auto& [room, e] : rooms_) {
    const core::HealthWindow::Summary requests = e.proxy.summary(now_ms / 1000);
    std::string posted = posted_text(e.posted, now_ms);
    if (requests.latency_ms.empty() && posted == "-") continue;
    out.push_back(SharedHealth{room, requests.encode() + " " + posted});
  }
  return out;
}

void HealthBoard::heard(std::string_view node, std::string_view room, std::string_view text) {
  const std::size_t last = text.rfind(' ');
  if (last == std::string_view::npos) return;
  auto requests = core::HealthWindow::Summary::decode(text.substr(0, last));
  const std::int64_t now_ms = clock_.now_ms();
  auto posted = parse_posted(text.substr(last + 1), now_ms);
  if (!requests || !posted) return;
  std::lock_guard lock(mu_);
  auto& others = entry(room).others;
  // A node heard from no more (stopped, restarted under a new id) is forgotten.
  std::erase_if(others, [&](const auto& o) { return now_ms - o.second.heard_ms > kForgetNodeMs; });
  auto at = others.find(node);
  if (at == others.end()) at = others.emplace(std::string(node), Shared{}).first;
  at->second = Shared{std::move(*requests), std::move(*posted), now_ms};
}

}  // namespace waitroom::store
