#include "store/feed_cursor_files.hpp"

#include <charconv>
#include <system_error>

#include "token/atomic_file.hpp"

namespace waitroom::store {

namespace {
constexpr std::size_t kMaxFileBytes = 64 << 20;
constexpr std::string_view kHeader = "# waitroom webhook positions for ";
}  // namespace

std::filesystem::path FeedCursorFiles::file_of(const std::string& reader) const {
  return dir_ / (ops::reader_id(reader) + ".positions");
}

core::Result<std::optional<ops::FeedPositions>> FeedCursorFiles::load(const std::string& reader) {
  const std::filesystem::path file = file_of(reader);
  auto text = token::read_small_file(file, kMaxFileBytes);
  if (!text) {
    if (text.error().code == core::ErrorCode::not_found) return std::nullopt;
    return std::unexpected(text.error());
  }
  ops::FeedPositions positions;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t tab = line.rfind('\t');
    std::uint64_t seq = 0;
    const auto digits = tab == std::string_view::npos ? std::string_view() : line.substr(tab + 1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size())
      return core::fail(core::ErrorCode::internal,
                        file.string() + ": not a line of positions: " + std::string(line));
    positions[std::string(line.substr(0, tab))] = seq;
  }
  return positions;
}

core::Result<void> FeedCursorFiles::save(const std::string& reader,
                                         const ops::FeedPositions& positions) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return core::fail(core::ErrorCode::internal, "cannot create " + dir_.string());
  std::string text(kHeader);
  text += reader;
  text += '\n';
  for (const auto& [room, seq] : positions) {
    text += room;
    text += '\t';
    text += std::to_string(seq);
    text += '\n';
  }
  return token::write_file_atomically(file_of(reader), text, 0600);
}

}  // namespace waitroom::store
