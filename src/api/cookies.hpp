#pragma once
// The two cookies a visitor's browser carries for a room: the ticket (one place per browser) and
// the pass (what gates check). One place builds them so the API, the page and the gates agree.
#include <string>
#include <string_view>

namespace waitroom::api {

// waitroom_{room}: the visitor's ticket id.
std::string ticket_cookie_name(std::string_view room);
// waitroom_pass_{room}: the visitor's pass (a JWT), read by /gate/v1/check.
std::string pass_cookie_name(std::string_view room);
// A Set-Cookie value: Path=/, HttpOnly, SameSite=Lax, Secure when asked; a session cookie
// unless max_age_s > 0.
std::string set_cookie(std::string_view name, std::string_view value, bool secure, long long max_age_s = 0);

}  // namespace waitroom::api
