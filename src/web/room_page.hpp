#pragma once
// The visitor's waiting-room page (docs/page.md):
//   GET  /                          to the default room's page (default_room)
//   GET  /r/{room}                  the page, rendered for the visitor's ticket (or JSON for apps)
//   POST /r/{room}/join             take a place (or keep the one this browser has)
//   POST /r/{room}/enter            claim the pass, set the pass cookie, go to the target
//   GET  /r/{room}/resume/{token}   carry a place to another device (sets the ticket cookie)
//   GET  /r/_assets/{file}          the built-in CSS and script (hashed names, cached for ever)
//   GET  /r/{room}/theme/{file}     the room's theme CSS and logo (hashed names)
// Every state is rendered on the server, so the page works with JavaScript off and never
// refreshes itself; room.js makes it live.
#include "core/clock.hpp"
#include "http/router.hpp"
#include "visitor/visitor_deps.hpp"
#include "web/site.hpp"

namespace waitroom::web {

// What the page uses: the visitor layer's (it hands out tickets and passes, and guards visitors)
// and the clock its estimates are shown against. Built in app/; it outlives the router.
struct RoomPageDeps : visitor::VisitorDeps {
  const core::Clock& clock;
};

void add_room_page_routes(http::Router& router, const RoomPageDeps& deps, const Site& site);

}  // namespace waitroom::web
