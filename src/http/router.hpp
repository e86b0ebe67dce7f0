#pragma once
// Maps (method, path) to a handler. Patterns are literal segments and `{name}` captures, e.g.
// /v1/rooms/{room}/tickets/{ticket}. The route table is also what `waitroom routes` prints and
// what the OpenAPI test checks, so documentation and code cannot drift apart.
#include <optional>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace waitroom::http {

class StreamHandler;  // http/stream_handler.hpp

struct Route {
  Method method;
  std::string pattern;
  Handler handler;
  std::vector<std::string> segments;  // pattern split on '/'
  // Set: the request is handed with its connection to this handler right after its head (once
  // the guards let it through), e.g. a Server-Sent Events stream; `handler` is not used.
  StreamHandler* stream = nullptr;
  std::size_t stream_route = 0;  // passed to stream->serve()
};

struct Match {
  const Route* route = nullptr;  // null: no route
  std::size_t index = 0;         // the route's position in routes(), for metrics
  RouteParams params;
  std::string allow;  // when the path matched but not the method: the methods that would
};

// Runs before routing for every path under a prefix; an answer stops the request there. Guards
// see unknown paths and wrong methods too, so e.g. the admin API reveals nothing without its key.
// `remote` is the TCP peer, for guards that log who they refused.
using Guard =
    std::function<std::optional<Response>(const Request&, const boost::asio::ip::address& remote)>;

class Router {
 public:
  void add(Method method, std::string pattern, Handler handler);
  // A route whose answer `handler` writes itself, for as long as it likes (StreamHandler::serve
  // with `stream_route`). It is listed, guarded and matched like any other route.
  void add_stream(Method method, std::string pattern, StreamHandler& handler,
                  std::size_t stream_route);
  void guard(std::string prefix, Guard guard);
  // The first guard whose prefix `path` starts with that answers, if any.
  std::optional<Response> check_guards(const Request& req, std::string_view path,
                                       const boost::asio::ip::address& remote) const;
  // Whether a guard covers `path` (whatever it would answer).
  bool guarded(std::string_view path) const;
  // Matches a path (no query string). `params` views point into `path`.
  Match match(Method method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::pair<std::string, Guard>> guards_;
};

}  // namespace waitroom::http
