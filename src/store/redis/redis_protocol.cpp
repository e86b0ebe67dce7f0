#include "store/redis/redis_protocol.hpp"

#include <hiredis/hiredis.h>

namespace waitroom::store::redis {

namespace {

// Big enough for a burst of pipelined replies in one read, small enough to keep per connection.
constexpr std::size_t kReadBufferBytes = 16 * 1024;

Reply to_reply(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(to_reply(*r.element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      out.type = Reply::Type::nil;
      break;
  }
  return out;
}

}  // namespace

void append_command(std::string& out, std::span<const std::string> args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (const std::string& arg : args) {
    out += '$';
    out += std::to_string(arg.size());
    out += "\r\n";
    out += arg;
    out += "\r\n";
  }
}

ReplyReader::ReplyReader()
    : reader_(::redisReaderCreate(), &::redisReaderFree), read_buffer_(kReadBufferBytes) {}

ReplyReader::~ReplyReader() = default;

void ReplyReader::feed(std::string_view bytes) {
  // Only fails on allocation failure, which hiredis then reports from the next GetReply.
  ::redisReaderFeed(reader_.get(), bytes.data(), bytes.size());
}

core::Result<bool> ReplyReader::next(Reply& out) {
  void* raw = nullptr;
  if (::redisReaderGetReply(reader_.get(), &raw) != REDIS_OK)
    return core::fail(core::ErrorCode::internal,
                      std::string("Redis protocol error: ") + reader_->errstr);
  if (raw == nullptr) return false;
  std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw),
                                                     &::freeReplyObject);
  out = to_reply(*reply);
  return true;
}

}  // namespace waitroom::store::redis
