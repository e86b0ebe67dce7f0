#pragma once
// Where the embedded store's webhook sinks keep their place in the event feed: one small file per
// sink in DATA_DIR/webhooks/, written atomically (write, fsync, rename, fsync the directory), so a
// restart continues after the last event each receiver acknowledged.
//
//   # waitroom webhook positions for https://hooks.example.com/waitroom
//   sale<TAB>1532
//   drop<TAB>17
#include <filesystem>

#include "ops/event_feed.hpp"

namespace waitroom::store {

class FeedCursorFiles final : public ops::FeedCursors {
 public:
  explicit FeedCursorFiles(std::filesystem::path dir) : dir_(std::move(dir)) {}

  core::Result<std::optional<ops::FeedPositions>> load(const std::string& reader) override;
  core::Result<void> save(const std::string& reader, const ops::FeedPositions& positions) override;

  std::filesystem::path file_of(const std::string& reader) const;

 private:
  const std::filesystem::path dir_;
};

}  // namespace waitroom::store
