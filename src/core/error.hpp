#pragma once
// Expected failures travel as values (std::expected), never as exceptions; the HTTP edge turns
// each ErrorCode into one problem+json status in one place (http/problem.cpp).
#include <cstdint>
#include <expected>
#include <string>

namespace waitroom::core {

enum class ErrorCode : std::uint8_t {
  bad_request,        // 400: malformed or invalid input
  unauthorized,       // 401
  forbidden,          // 403
  not_found,          // 404: unknown room, ticket or route
  conflict,           // 409: "not yet" (carries retry_after_s) or a state that forbids the change
  gone,               // 410: ticket or pass of an older epoch, expired
  payload_too_large,  // 413
  too_many_requests,  // 429: a client over its rate limit (carries retry_after_s)
  full,               // 503: the room has as many waiting visitors as it takes (max_waiting)
  unavailable,        // 503: store cannot accept writes right now
  internal,           // 500
};

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string detail;
  std::int64_t retry_after_s = 0;  // > 0 adds a Retry-After header
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorCode code, std::string detail,
                                   std::int64_t retry_after_s = 0) {
  return std::unexpected<Error>(Error{code, std::move(detail), retry_after_s});
}

}  // namespace waitroom::core
