#include "visitor/html_page.hpp"

#include <fmt/format.h>

#include "core/html_text.hpp"

namespace waitroom::visitor {

using http::Response;
using http::Status;

std::string html_page(std::string_view room, std::string_view title, const std::string& body) {
  return fmt::format(R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{0} · {1}</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1b1f24}}
main{{max-width:34rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12)}}
h1{{font-size:1.5rem;margin-top:0}} .big{{font-size:2.5rem;font-weight:700;margin:.25rem 0}}
button,.button{{font:inherit;padding:.7rem 1.4rem;border:0;border-radius:8px;background:#0b57d0;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}}
button:focus-visible,.button:focus-visible{{outline:3px solid #1b1f24;outline-offset:2px}}
.muted{{color:#4a5361}}
</style></head>
<body><main><h1>{1}</h1>{2}</main></body></html>
)",
                     core::html_escape(room), core::html_escape(title), body);
}

Response html_response(const http::Request& req, Status status, std::string body) {
  Response res{status, req.version()};
  res.set(http::beast_http::field::content_type, "text/html; charset=utf-8");
  res.set(http::beast_http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

}  // namespace waitroom::visitor
