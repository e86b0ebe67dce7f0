#pragma once
// A plain server-rendered HTML page (title and one card) for the few pages outside the waiting
// room that need one: the demo shop, the OIDC adapter's error page. The waiting-room page itself
// is src/web/ (templates, translations, themes).
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace waitroom::visitor {

// The page's frame (title, stylesheet, one card) around `body`, which must already be escaped.
std::string html_page(std::string_view room, std::string_view title, const std::string& body);
// 200-style HTML answer, never cached.
http::Response html_response(const http::Request& req, http::Status status, std::string body);

}  // namespace waitroom::visitor
