#pragma once
// The visitor's waiting-room page (docs/page.md):
//   GET  /                          to the default room's page (default_room)
//   GET  /r/{room}                  the page, rendered for the visitor's ticket (or JSON for apps)
//   POST /r/{room}/join             take a place (or keep the one this browser has)
//   POST /r/{room}/enter            claim the pass, set the pass cookie, go to the target
//   GET  /r/{room}/resume/{token}   carry a place to another device (sets the ticket cookie)
//   POST /r/{room}/notify           "Notify me" without JavaScript: an e-mail address, or cancel=1
//   GET  /waitroom-sw.js            the service worker that shows push notices (scope "/")
//   GET  /r/_assets/{file}          the built-in CSS and script (hashed names, cached for ever)
//   GET  /r/{room}/theme/{file}     the room's theme CSS and logo (hashed names)
//   GET  /r/{room}/login[/callback] sign in at the room's identity provider (web/sign_in.hpp)
// Every state is rendered on the server, so the page works with JavaScript off and never
// refreshes itself; room.js makes it live.
#include "core/clock.hpp"
#include "http/router.hpp"
#include "visitor/visitor_deps.hpp"
#include "web/site.hpp"

namespace waitroom::store {
class SignInProviders;
}

namespace waitroom::web {

// What the page uses: the visitor layer's (it hands out tickets and passes, and guards visitors),
// the clock its estimates are shown against, and the rooms' identity providers (sign-in; null:
// none). Built in app/; it outlives the router.
struct RoomPageDeps : visitor::VisitorDeps {
  const core::Clock& clock;
  store::SignInProviders* sign_in = nullptr;
};

void add_room_page_routes(http::Router& router, const RoomPageDeps& deps, const Site& site);

// The room's page for this browser's ticket, if any, with the page's translation of `notice_key`
// as its notice, answered with `status` (a sign-in that came back without a place).
boost::asio::awaitable<http::Response> page_with_notice(const RoomPageDeps& deps, const Site& site,
                                                        http::RequestContext& ctx, std::string room,
                                                        std::string notice_key, http::Status status,
                                                        std::string return_url, std::string lang);

// Where this server is reached, for links that leave the browser (the resume link, the sign-in's
// redirect_uri): public_url, else the request's Host over http (as the OIDC issuer does); empty
// when the Host is not a plain host name.
std::string public_base(const RoomPageDeps& deps, const http::Request& req);

}  // namespace waitroom::web
