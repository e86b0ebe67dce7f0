#pragma once
// How every gate answers a visitor without a live pass: a browser is sent to the room page with
// the URL to come back to; an API client gets 401 problem+json saying where the room is. The
// forward-auth endpoint and the built-in proxy both answer through here, so they cannot disagree.
#include <string_view>

#include "http/message.hpp"
#include "visitor/visitor_deps.hpp"

namespace waitroom::gate {

// ?on_fail= of the forward-auth endpoint; the proxy always decides automatically.
enum class OnFail { automatic, redirect, unauthorized };

struct Refusal {
  std::string_view room;
  std::string_view why;         // the problem's detail
  std::string_view return_url;  // where the room page sends the visitor once admitted
  OnFail on_fail = OnFail::automatic;
};

// Whether the request's Accept asks for HTML: a browser navigating, which can follow a redirect.
bool wants_html(const http::beast_http::fields& headers);

// 302 to the room page (on_fail redirect, or automatic for a browser); otherwise 401 with
// WWW-Authenticate and X-Waitroom-Room-Url. `req` gives the HTTP version, keep-alive and Accept.
http::Response deny(const visitor::VisitorDeps& deps, const http::Request& req,
                    const Refusal& refusal);

}  // namespace waitroom::gate
