#include "http/wire.hpp"

#include <boost/beast/http/status.hpp>
#include <charconv>

namespace waitroom::http {

void serialize_response(const Response& res, std::string& out) {
  out.clear();
  out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  char code[8];
  auto [end, ec] = std::to_chars(code, code + sizeof code, res.result_int());
  (void)ec;
  out.append(code, end);
  out += ' ';
  const auto reason = res.reason();
  if (reason.empty()) {
    const auto standard = beast_http::obsolete_reason(res.result());
    out.append(standard.data(), standard.size());
  } else {
    out.append(reason.data(), reason.size());
  }
  out += "\r\n";
  for (const auto& field : res) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size());
    out += ": ";
    out.append(value.data(), value.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += res.body();
}

}  // namespace waitroom::http
