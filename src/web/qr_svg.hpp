#pragma once
// A QR code as inline SVG (libqrencode), so the resume link can be scanned from the page with no
// image request and no script.
#include <optional>
#include <string>
#include <string_view>

namespace waitroom::web {

// An <svg> drawing `text` as a QR code (error correction M, a 4-module quiet zone), with
// role="img" and `label` as its accessible name (escaped here). Dark modules are one <path>,
// so the markup stays small and needs no style attributes (the page's CSP forbids them).
// nullopt when the text does not fit a QR code.
std::optional<std::string> qr_svg(std::string_view text, std::string_view label);

}  // namespace waitroom::web
