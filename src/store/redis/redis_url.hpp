#pragma once
// Where Redis is and how to log in, from the usual URL form:
//   redis://[[user]:password@]host[:port][/db]      rediss:// is the same over TLS
//   redis://[[user]:password@]host:port,host:port,...[/db]    a Redis Cluster's seed nodes
// The host may be a name, an IPv4 address or an IPv6 address in brackets ([::1]). The user and
// password are percent-decoded, so a password may hold any byte (%40 for '@', %3A for ':').
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace waitroom::store::redis {

struct RedisEndpoint {
  std::string host;
  std::uint16_t port = 6379;
  bool operator==(const RedisEndpoint&) const = default;
};

struct RedisUrl {
  std::string host = "127.0.0.1";  // the first (or only) node
  std::uint16_t port = 6379;
  std::vector<RedisEndpoint> seeds;  // every node the URL names, the first one included
  std::string username;              // empty: the default user (AUTH <password>)
  std::string password;              // empty: no AUTH
  int db = 0;
  bool tls = false;
};

// Fails with bad_request naming what is wrong (scheme, port, database, percent-encoding...).
core::Result<RedisUrl> parse_redis_url(std::string_view url);

// "host:port" ("[::1]:port" for IPv6), as logs and Redis's MOVED replies write it.
std::string endpoint_text(const RedisEndpoint& endpoint);

// The URL for logs and errors, with the password (if any) replaced by ***.
std::string redacted(const RedisUrl& url);

}  // namespace waitroom::store::redis
