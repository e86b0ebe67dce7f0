#pragma once
// The visitor's waiting-room page at /r/{room}, rendered on the server so that it works with
// JavaScript off: join the line, see your place and estimate, ask again, and go in with a pass
// cookie for the gates once admitted. `Accept: application/json` gives the same state as JSON.
#include <string>
#include <string_view>

#include "api/services.hpp"
#include "http/router.hpp"

namespace waitroom::api {

void add_room_page_routes(http::Router& router, Services& services);

// The page's frame (title, stylesheet, one card) around `body`, which must already be escaped;
// other server-rendered pages (the demo shop) use it too.
std::string html_page(std::string_view room, std::string_view title, const std::string& body);
// Text made safe for HTML element content and attribute values.
std::string html_escape(std::string_view text);
http::Response html_response(const http::Request& req, http::Status status, std::string body);

}  // namespace waitroom::api
