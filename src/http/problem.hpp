#pragma once
// RFC 9457 problem details: the one place errors become HTTP answers.
#include "core/error.hpp"
#include "http/message.hpp"

namespace waitroom::http {

Status status_of(core::ErrorCode code);
// application/problem+json with type, title, status, detail; Retry-After when the error has one.
Response problem(const Request& req, Status status, std::string_view detail,
                 std::int64_t retry_after_s = 0);
Response problem(const Request& req, const core::Error& error);

}  // namespace waitroom::http
