#pragma once
// A visitor's pass as every gate sees it, and where a visitor without one is sent: the room page,
// then back to a safe return URL. The forward-auth gate, the built-in proxy, the OIDC adapter, the
// room page and the demo shop all decide through these, so they cannot disagree. The rule itself
// is stated at the top of visitor_pass.cpp.
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "visitor/visitor_deps.hpp"

namespace waitroom::visitor {

// The live pass a request carries for `room` (Authorization: Bearer, or the pass cookie): exactly
// the pass the room issued for its ticket, with the session active. Otherwise nullopt and `why`.
// In a room that renews on activity, a pass due for renewal is renewed here (`renewed`).
// Takes the request's header fields, so a streamed request (the proxy's) is checked the same way.
// A pass bound to its client (claim "bind") counts only from that client: `peer` is the TCP peer
// (behind the room's trusted proxies, the client they name).
boost::asio::awaitable<std::optional<store::PassCheck>> live_pass(
    const VisitorDeps& v, const http::beast_http::fields& headers,
    const boost::asio::ip::address& peer, const std::string& room, std::string& why);
// The Set-Cookie value that hands a renewed pass to the browser (the room's pass cookie), or
// nullopt when live_pass renewed nothing.
boost::asio::awaitable<std::optional<std::string>> renewed_pass_cookie(
    const VisitorDeps& v, const std::string& room, const store::PassCheck& check);

// The Set-Cookie value a pass bound by cookie needs beside it (the room's pass cookie attributes,
// name waitroom-bind-{room}); nullopt for a pass not bound by cookie. Set wherever a pass is handed
// to a browser.
std::optional<std::string> binding_cookie(const VisitorDeps& v, const std::string& room,
                                          const core::PassCookie& cookie, std::string_view pass,
                                          std::string_view ticket);
bool is_cookie_bound(std::string_view pass);

// The room page's URL for a visitor sent back to the line, with where to return once admitted.
std::string room_page_url(const VisitorDeps& v, std::string_view room, std::string_view return_url);
// `candidate` when it is a safe place to send a visitor after the room: a path on this host, or
// a URL on the origin of the room's target_url; nullopt otherwise (no open redirects).
std::optional<std::string> safe_return(std::string_view candidate, std::string_view target_url);

}  // namespace waitroom::visitor
