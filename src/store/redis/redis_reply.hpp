#pragma once
// One Redis reply (RESP2), owned: what a command or pipeline completes with. A Redis error reply
// ("-ERR ...", "-WRONGTYPE ...", a script's error) is a value of type `error`, not a failure:
// failures (no connection, no reply in time) travel as core::Error beside it.
#include <string>
#include <vector>

namespace waitroom::store::redis {

struct Reply {
  enum class Type { nil, integer, status, error, string, array };
  Type type = Type::nil;
  long long integer = 0;
  std::string str;              // status, error, string
  std::vector<Reply> elements;  // array
  bool is_error() const { return type == Type::error; }
};

}  // namespace waitroom::store::redis
