#include "api/admin_history.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "api/history_range.hpp"
#include "api/json_io.hpp"
#include "core/rfc3339.hpp"
#include "http/problem.hpp"
#include "store/history_steps.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

constexpr std::int64_t kMsPerSecond = 1000;
constexpr double kHundredths = 100.0;  // plenty for a chart

bool wants_csv(const http::Request& req) {
  return http::header_value(req, "Accept").find("text/csv") != std::string_view::npos;
}

Response csv_ok(const http::Request& req, std::string body) {
  Response res{Status::ok, req.version()};
  res.set(http::beast_http::field::content_type, "text/csv; charset=utf-8");
  res.set(http::beast_http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

json::value rate_json(const std::optional<double>& v) {
  if (!v) return nullptr;
  return std::round(*v * kHundredths) / kHundredths;
}

template <class Eta>
json::value eta_json(const std::optional<Eta>& eta) {
  if (!eta) return nullptr;
  return json::object{{"p50_s", eta->p50_s}, {"p90_s", eta->p90_s}};
}

// A CSV cell for a value that may be missing: empty then.
template <class T>
std::string cell(const std::optional<T>& v) {
  return v ? fmt::format("{}", *v) : std::string();
}

json::value seconds_json(const std::optional<std::int64_t>& s) {
  if (!s) return nullptr;
  return *s;
}

std::optional<double> hundredths(const std::optional<double>& v) {
  if (!v) return std::nullopt;
  return std::round(*v * kHundredths) / kHundredths;
}

std::string time_cell(std::int64_t at_ms) { return core::format_rfc3339(at_ms / kMsPerSecond); }

Response samples_answer(const AdminDeps& s, RequestContext& ctx, const std::string& room,
                        const HistoryRange& range) {
  std::vector<store::HistorySample> samples = s.history.samples(room);
  if (range.asked)
    std::erase_if(samples, [&](const store::HistorySample& h) {
      return h.at_ms < range.from_ms || h.at_ms >= range.to_ms;
    });
  if (wants_csv(ctx.request)) {
    std::string out =
        "time,at_ms,epoch,paused,queue_length,waiting,serving,admitted,admissions_per_minute,"
        "active_sessions,eta_p50_s,eta_p90_s,arrivals_per_minute,waited_p50_s,waited_p95_s,"
        "limit,held,site_p95_ms,site_error_ratio\n";
    for (const store::HistorySample& h : samples)
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                         time_cell(h.at_ms), h.at_ms, h.epoch, h.paused, h.queue_length, h.waiting,
                         h.serving, h.admitted, cell(hundredths(h.admissions_per_minute)),
                         h.active_sessions, h.eta ? std::to_string(h.eta->p50_s) : "",
                         h.eta ? std::to_string(h.eta->p90_s) : "",
                         cell(hundredths(h.arrivals_per_minute)), cell(h.waited_p50_s),
                         cell(h.waited_p95_s), cell(h.active_limit), cell(h.held),
                         cell(hundredths(h.site_p95_ms)), cell(h.site_error_ratio));
    return csv_ok(ctx.request, std::move(out));
  }
  json::array out;
  for (const store::HistorySample& h : samples)
    out.push_back(json::object{
        {"at_ms", h.at_ms},
        {"epoch", h.epoch},
        {"paused", h.paused},
        {"queue_length", h.queue_length},
        {"waiting", h.waiting},
        {"serving", h.serving},
        {"admitted", h.admitted},
        {"admissions_per_minute", rate_json(h.admissions_per_minute)},
        {"active_sessions", h.active_sessions},
        {"eta", eta_json(h.eta)},
        {"arrivals_per_minute", rate_json(h.arrivals_per_minute)},
        {"waited_p50_s", seconds_json(h.waited_p50_s)},
        {"waited_p95_s", seconds_json(h.waited_p95_s)},
        {"limit", h.active_limit ? json::value(*h.active_limit) : nullptr},
        {"held", h.held ? json::value(*h.held) : nullptr},
        {"site_p95_ms", rate_json(h.site_p95_ms)},
        {"site_error_ratio", h.site_error_ratio ? json::value(*h.site_error_ratio) : nullptr}});
  const std::int64_t interval_ms = s.history.interval_ms();
  const std::int64_t window_ms = interval_ms * static_cast<std::int64_t>(s.history.capacity());
  json::object body{{"room", room},
                    {"interval_ms", interval_ms},
                    {"window_ms", window_ms},
                    {"now_ms", s.clock.now_ms()},
                    {"samples", std::move(out)}};
  if (range.asked) {
    body["from_ms"] = range.from_ms;
    body["to_ms"] = range.to_ms;
  }
  return json_ok(ctx.request, body);
}

Response points_answer(const AdminDeps& s, RequestContext& ctx, const std::string& room,
                       const HistoryRange& range, const std::vector<store::HistoryPoint>& points,
                       std::int64_t kept_from_ms) {
  if (wants_csv(ctx.request)) {
    std::string out =
        "time,at_ms,minutes,epoch,arrivals,admissions,expiries,waiting,active_sessions,"
        "eta_p50_s,eta_p90_s,paused,left_line,unclaimed,sessions_expired,waited_p50_s,"
        "waited_p95_s,waited_count\n";
    for (const store::HistoryPoint& p : points)
      out +=
          fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", time_cell(p.at_ms),
                      p.at_ms, p.minutes, p.epoch, p.arrivals, p.admissions, p.expiries, p.waiting,
                      p.active_sessions, p.eta ? std::to_string(p.eta->p50_s) : "",
                      p.eta ? std::to_string(p.eta->p90_s) : "", p.paused, p.left_line, p.unclaimed,
                      p.sessions_expired, cell(p.waits.percentile(store::kWaitedP50)),
                      cell(p.waits.percentile(store::kWaitedP95)), p.waits.count());
    return csv_ok(ctx.request, std::move(out));
  }
  json::array out;
  for (const store::HistoryPoint& p : points)
    out.push_back(
        json::object{{"at_ms", p.at_ms},
                     {"minutes", p.minutes},
                     {"epoch", p.epoch},
                     {"arrivals", p.arrivals},
                     {"admissions", p.admissions},
                     {"expiries", p.expiries},
                     {"waiting", p.waiting},
                     {"active_sessions", p.active_sessions},
                     {"eta", eta_json(p.eta)},
                     {"paused", p.paused},
                     {"left_line", p.left_line},
                     {"unclaimed", p.unclaimed},
                     {"sessions_expired", p.sessions_expired},
                     {"waited_p50_s", seconds_json(p.waits.percentile(store::kWaitedP50))},
                     {"waited_p95_s", seconds_json(p.waits.percentile(store::kWaitedP95))},
                     {"waited_count", p.waits.count()}});
  return json_ok(ctx.request, json::object{{"room", room},
                                           {"step_s", range.step_s},
                                           {"from_ms", range.from_ms},
                                           {"to_ms", range.to_ms},
                                           {"now_ms", s.clock.now_ms()},
                                           {"kept_from_ms", kept_from_ms},
                                           {"points", std::move(out)}});
}

}  // namespace

asio::awaitable<Response> room_history(const AdminDeps& s, RequestContext& ctx,
                                       const AdminCaller&) {
  const std::string room(ctx.param("room"));
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  const std::int64_t now_ms = s.clock.now_ms();
  const std::int64_t window_ms =
      s.history.interval_ms() * static_cast<std::int64_t>(s.history.capacity());
  auto range = parse_history_range(ctx.query, now_ms, window_ms);
  if (!range) co_return http::problem(ctx.request, range.error());
  if (range->samples()) co_return samples_answer(s, ctx, room, *range);

  std::vector<store::MinuteAggregate> minutes;
  std::int64_t kept_from_ms = now_ms;
  if (s.history_archive) {
    // Days before the retention may linger until the sampler prunes them: never shown.
    kept_from_ms = s.history_archive->kept_from_ms(now_ms);
    const std::int64_t from_ms = std::max(range->from_ms, kept_from_ms);
    if (from_ms < range->to_ms) {
      // A file read or one Redis round trip on this thread: an operator's request, not a visitor's.
      auto kept = s.history_archive->read(room, from_ms, range->to_ms);
      if (!kept) co_return http::problem(ctx.request, kept.error());
      minutes = std::move(*kept);
    }
  }
  const auto points = store::sum_by_step(minutes, range->step_s * kMsPerSecond);
  co_return points_answer(s, ctx, room, *range, points, kept_from_ms);
}

}  // namespace waitroom::api
