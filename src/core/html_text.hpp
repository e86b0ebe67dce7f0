#pragma once
// Text made safe for HTML: every page the server renders (the room page's templates, the plain
// pages, the dashboard) and the HTML part of the notification mails escape through here.
#include <string>
#include <string_view>

namespace waitroom::core {

// Text made safe for HTML element content and attribute values.
std::string html_escape(std::string_view text);
// The same, appended to `out` (templates build pages in one string).
void append_html_escaped(std::string& out, std::string_view text);

}  // namespace waitroom::core
