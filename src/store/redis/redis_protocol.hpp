#pragma once
// RESP2 both ways. Commands go out as arrays of bulk strings, which we write ourselves (any byte
// is safe inside a bulk string, so arguments need no quoting). Replies come in through hiredis's
// reply reader: a parser tested for years against every server quirk; we use nothing else of
// hiredis (its connections have neither TLS nor timeouts in 0.14, so the I/O is ours).
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "store/redis/redis_reply.hpp"

struct redisReader;

namespace waitroom::store::redis {

// Appends `args` as one command: *<n>\r\n then $<len>\r\n<arg>\r\n for each argument.
void append_command(std::string& out, std::span<const std::string> args);

// Incremental reply parser over the bytes of one connection, in the order they arrived.
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  void feed(std::string_view bytes);
  // True with the next complete reply in `out`, false when more bytes are needed. Fails
  // (internal) on bytes that are not RESP, after which the connection cannot be trusted.
  core::Result<bool> next(Reply& out);

  // Scratch space reads land in before feed(): one per connection, so a read costs no allocation.
  std::span<char> read_buffer() { return read_buffer_; }

 private:
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader_;
  std::vector<char> read_buffer_;
};

}  // namespace waitroom::store::redis
