#include "api/admin_signals.hpp"

#include <cmath>

#include "api/json_io.hpp"
#include "core/rfc3339.hpp"
#include "http/problem.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::RequestContext;
using http::Response;

namespace {

// A latency beyond this is a feeder's mistake (ten minutes is longer than any site is waited on).
constexpr double kMaxSignalMs = 600'000;

struct Posted {
  core::HealthReading reading;
  std::int64_t max_age_s = store::kDefaultSignalMaxAgeS;
};

core::Result<Posted> read_posted(const json::object& body) {
  using core::ErrorCode;
  using core::fail;
  Posted out;
  for (const auto& [key, value] : body) {
    if (key == "p95_ms" || key == "p50_ms" || key == "error_ratio") {
      const bool ratio = key == "error_ratio";
      const double max = ratio ? 1.0 : kMaxSignalMs;
      if (!value.is_number() || !std::isfinite(value.to_number<double>()) ||
          value.to_number<double>() < 0 || value.to_number<double>() > max)
        return fail(
            ErrorCode::bad_request,
            std::string(key) + (ratio ? " must be a number from 0 to 1"
                                      : " must be a number of milliseconds from 0 to " +
                                            std::to_string(static_cast<int>(kMaxSignalMs))));
      const double v = value.to_number<double>();
      if (key == "p95_ms")
        out.reading.p95_ms = v;
      else if (key == "p50_ms")
        out.reading.p50_ms = v;
      else
        out.reading.error_ratio = v;
    } else if (key == "max_age_s") {
      if (!value.is_int64() || value.get_int64() < 1 ||
          value.get_int64() > store::kMaxSignalMaxAgeS)
        return fail(ErrorCode::bad_request,
                    "max_age_s must be a whole number of seconds from 1 to " +
                        std::to_string(store::kMaxSignalMaxAgeS));
      out.max_age_s = value.get_int64();
    } else {
      return fail(ErrorCode::bad_request, "unknown field \"" + std::string(key) + "\"");
    }
  }
  if (!out.reading.known())
    return fail(ErrorCode::bad_request, "give p95_ms or error_ratio (or both)");
  return out;
}

json::value number(const std::optional<double>& v) { return v ? json::value(*v) : nullptr; }

json::object reading_json(const core::HealthReading& r) {
  return json::object{{"p50_ms", number(r.p50_ms)},
                      {"p95_ms", number(r.p95_ms)},
                      {"error_ratio", number(r.error_ratio)}};
}

// The room must exist: signals for a name that is no room would only take memory.
asio::awaitable<core::Result<void>> known_room(const AdminDeps& s, const std::string& room) {
  auto view = co_await s.store.room(room);
  if (!view) co_return std::unexpected(view.error());
  co_return core::Result<void>{};
}

}  // namespace

json::object signals_json(const store::HealthReport& report) {
  json::object proxy = reading_json(report.proxy);
  proxy["samples"] = report.proxy.samples;
  proxy["window_s"] = core::HealthWindow::kSpanS;
  json::value posted = nullptr;
  if (report.posted) {
    json::object p = reading_json(report.posted->reading);
    p["at"] = core::format_rfc3339(report.posted->at_ms / 1000);
    p["max_age_s"] = report.posted->max_age_s;
    p["fresh"] = report.posted_fresh;
    posted = std::move(p);
  }
  json::object combined = reading_json(report.combined);
  combined["known"] = report.combined.known();
  return json::object{{"proxy", std::move(proxy)},
                      {"posted", std::move(posted)},
                      {"combined", std::move(combined)},
                      {"nodes", report.nodes}};
}

asio::awaitable<Response> post_signals(const AdminDeps& s, RequestContext& ctx,
                                       const AdminCaller&) {
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  auto posted = read_posted(*body);
  if (!posted) co_return http::problem(ctx.request, posted.error());
  const std::string room(ctx.param("room"));
  if (auto known = co_await known_room(s, room); !known)
    co_return http::problem(ctx.request, known.error());
  s.store.health().post(room, posted->reading, posted->max_age_s);
  json::object out = signals_json(s.store.health().report(room));
  out["room"] = room;
  co_return json_ok(ctx.request, out);
}

asio::awaitable<Response> get_signals(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
  const std::string room(ctx.param("room"));
  if (auto known = co_await known_room(s, room); !known)
    co_return http::problem(ctx.request, known.error());
  json::object out = signals_json(s.store.health().report(room));
  out["room"] = room;
  co_return json_ok(ctx.request, out);
}

}  // namespace waitroom::api
