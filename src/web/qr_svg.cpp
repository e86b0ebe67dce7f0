#include "web/qr_svg.hpp"

#include <qrencode.h>

#include <memory>

#include "web/template.hpp"

namespace waitroom::web {

namespace {

constexpr int kQuietZoneModules = 4;  // what the QR standard asks around the code
constexpr std::size_t kMaxTextBytes = 1024;

struct QrFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

std::optional<std::string> qr_svg(std::string_view text, std::string_view label) {
  if (text.empty() || text.size() > kMaxTextBytes) return std::nullopt;
  const std::string data(text);
  std::unique_ptr<QRcode, QrFree> code(QRcode_encodeString8bit(data.c_str(), 0, QR_ECLEVEL_M));
  if (!code) return std::nullopt;
  const int width = code->width;
  const int size = width + 2 * kQuietZoneModules;
  std::string path;
  // One horizontal run of dark modules per "M x y h n v1 h -n z".
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width;) {
      if (!(code->data[y * width + x] & 1)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < width && (code->data[y * width + x + run] & 1)) ++run;
      path += "M" + std::to_string(x + kQuietZoneModules) + " " +
              std::to_string(y + kQuietZoneModules) + "h" + std::to_string(run) + "v1h-" +
              std::to_string(run) + "z";
      x += run;
    }
  }
  std::string svg = "<svg class=\"wr-qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    std::to_string(size) + " " + std::to_string(size) +
                    "\" role=\"img\" aria-label=\"";
  append_escaped(svg, label);
  svg += "\" shape-rendering=\"crispEdges\"><rect width=\"" + std::to_string(size) +
         "\" height=\"" + std::to_string(size) + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" +
         path + "\"/></svg>";
  return svg;
}

}  // namespace waitroom::web
