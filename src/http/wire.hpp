#pragma once
// Serialises a response into one contiguous buffer: status line, fields, blank line, body.
// One buffer means one send() and none of the buffer-sequence machinery of Beast's serializer,
// which cost about a tenth of the server's CPU in a profile of the ticket status route.
#include <string>

#include "http/message.hpp"

namespace waitroom::http {

void serialize_response(const Response& res, std::string& out);

}  // namespace waitroom::http
