#pragma once
// Little-endian fixed-width fields and length-prefixed strings for log records.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace waitroom::engine {

class ByteWriter {
 public:
  ByteWriter& u8(std::uint8_t v) { return raw(&v, 1); }
  ByteWriter& u32(std::uint32_t v) { return raw(&v, 4); }
  ByteWriter& u64(std::uint64_t v) { return raw(&v, 8); }
  ByteWriter& i64(std::int64_t v) { return raw(&v, 8); }
  ByteWriter& str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  // x86-64 and aarch64 are little-endian; the log is not meant to move between architectures.
  ByteWriter& raw(const void* p, std::size_t n) {
    out_.append(static_cast<const char*>(p), n);
    return *this;
  }
  std::string out_;
};

// Reads fields in order; any read past the end sets !ok() and returns zeros.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  std::uint8_t u8() { return fixed<std::uint8_t>(); }
  std::uint32_t u32() { return fixed<std::uint32_t>(); }
  std::uint64_t u64() { return fixed<std::uint64_t>(); }
  std::int64_t i64() { return fixed<std::int64_t>(); }
  std::string_view str() {
    const std::uint32_t n = u32();
    if (!ok_ || n > in_.size()) {
      ok_ = false;
      return {};
    }
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return in_.empty(); }
  // A value read whole but out of its range: the record is malformed.
  void fail() { ok_ = false; }

 private:
  template <class T>
  T fixed() {
    T v{};
    if (in_.size() < sizeof(T)) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return v;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace waitroom::engine
