#include "gate/deny.hpp"

#include "http/problem.hpp"
#include "visitor/visitor_pass.hpp"

namespace waitroom::gate {

bool wants_html(const http::beast_http::fields& headers) {
  return http::header_value(headers, "Accept").find("text/html") != std::string_view::npos;
}

http::Response deny(const visitor::VisitorDeps& deps, const http::Request& req,
                    const Refusal& refusal) {
  const std::string room_url = visitor::room_page_url(deps, refusal.room, refusal.return_url);
  if (refusal.on_fail == OnFail::redirect ||
      (refusal.on_fail == OnFail::automatic && wants_html(req)))
    return http::redirect(req, http::Status::found, room_url);
  http::Response res = http::problem(req, http::Status::unauthorized, refusal.why);
  res.set(http::beast_http::field::www_authenticate,
          "Bearer realm=\"waitroom\", error=\"invalid_token\"");
  res.set("X-Waitroom-Room-Url", room_url);
  return res;
}

}  // namespace waitroom::gate
