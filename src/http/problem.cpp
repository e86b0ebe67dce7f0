#include "http/problem.hpp"

#include <boost/json.hpp>

namespace waitroom::http {

Status status_of(core::ErrorCode code) {
  using core::ErrorCode;
  switch (code) {
    case ErrorCode::bad_request:
      return Status::bad_request;
    case ErrorCode::unauthorized:
      return Status::unauthorized;
    case ErrorCode::forbidden:
      return Status::forbidden;
    case ErrorCode::not_found:
      return Status::not_found;
    case ErrorCode::conflict:
      return Status::conflict;
    case ErrorCode::gone:
      return Status::gone;
    case ErrorCode::payload_too_large:
      return Status::payload_too_large;
    case ErrorCode::too_many_requests:
      return Status::too_many_requests;
    case ErrorCode::full:
    case ErrorCode::unavailable:
      return Status::service_unavailable;
    case ErrorCode::internal:
      return Status::internal_server_error;
  }
  return Status::internal_server_error;
}

Response problem(const Request& req, Status status, std::string_view detail,
                 std::int64_t retry_after_s) {
  const std::string_view title = beast_http::obsolete_reason(status);
  std::string slug;
  for (char c : title)
    slug += (c == ' ') ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  boost::json::object body{{"type", "urn:waitroom:problem:" + slug},
                           {"title", title},
                           {"status", static_cast<int>(status)},
                           {"detail", detail}};
  Response res = json_response(req, status, boost::json::serialize(body));
  res.set(beast_http::field::content_type, "application/problem+json");
  if (retry_after_s > 0) res.set(beast_http::field::retry_after, std::to_string(retry_after_s));
  if (status == Status::unauthorized) res.set(beast_http::field::www_authenticate, "Bearer");
  return res;
}

Response problem(const Request& req, const core::Error& error) {
  return problem(req, status_of(error.code), error.detail, error.retry_after_s);
}

}  // namespace waitroom::http
