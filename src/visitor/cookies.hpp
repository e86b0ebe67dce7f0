#pragma once
// The two cookies a visitor's browser carries for a room: the ticket (one place per browser) and
// the pass (what gates check). One place builds them so the API, the page and the gates agree.
#include <string>
#include <string_view>

#include "core/room_settings.hpp"

namespace waitroom::visitor {

// waitroom_{room}: the visitor's ticket id.
std::string ticket_cookie_name(std::string_view room);
// The room's pass cookie (a JWT, read by the gates): its configured name, else
// waitroom_pass_{room}.
std::string pass_cookie_name(std::string_view room, const core::PassCookie& cookie);
// A Set-Cookie value: Path=/, HttpOnly, SameSite=Lax, Secure when asked; a session cookie
// unless max_age_s > 0.
std::string set_cookie(std::string_view name, std::string_view value, bool secure,
                       long long max_age_s = 0);
// The pass cookie's Set-Cookie value with the room's attributes; `server_secure` is the server's
// cookie_secure, used unless the room decides.
std::string set_pass_cookie(std::string_view room, const core::PassCookie& cookie,
                            std::string_view pass, bool server_secure, long long max_age_s);

}  // namespace waitroom::visitor
