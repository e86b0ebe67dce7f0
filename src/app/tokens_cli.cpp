#include "app/tokens_cli.hpp"

#include <boost/json.hpp>

namespace waitroom::app {

namespace json = boost::json;

void add_tokens_command(CLI::App& app, TokensCommand& t) {
  t.command = app.add_subcommand(
      "tokens", "create, list or revoke operator tokens (admin key from WAITROOM_ADMIN_KEY)");
  t.command->require_subcommand(1);
  CLI::App* create = t.command->add_subcommand(
      "create", "a new token with a role; prints it once (only its hash is kept)");
  create->add_option("--name", t.name, "who holds it")->required();
  create->add_option("--role", t.role, "viewer, operator or admin")->required();
  create->add_option("--rooms", t.rooms, "only these rooms, comma-separated (default every room)");
  create->add_option("--expires-in", t.expires_in_s, "seconds until it stops working");
  CLI::App* list = t.command->add_subcommand("list", "every token, without its secret");
  CLI::App* revoke = t.command->add_subcommand("revoke", "refused by every node from now on");
  revoke->add_option("id", t.id, "the token's id (16 hex digits)")->required();
  for (CLI::App* c : {create, list, revoke})
    c->add_option("--url", t.call.url, "the server's base URL (default http://127.0.0.1:8080)");
}

int run_tokens_command(const TokensCommand& t) {
  AdminCall call = t.call;
  const std::string action = t.command->get_subcommands().front()->get_name();
  if (action == "list") {
    call.method = "GET";
    call.path = "/admin/v1/tokens";
  } else if (action == "revoke") {
    call.method = "DELETE";
    call.path = "/admin/v1/tokens/" + t.id;
  } else {
    json::object body{{"name", t.name}, {"role", t.role}};
    if (!t.rooms.empty()) {
      json::array rooms;
      std::string_view rest = t.rooms;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        if (std::string_view room = rest.substr(0, comma); !room.empty()) rooms.emplace_back(room);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      body["rooms"] = std::move(rooms);
    }
    if (t.expires_in_s > 0) body["expires_in_s"] = t.expires_in_s;
    call.method = "POST";
    call.path = "/admin/v1/tokens";
    call.body = json::serialize(body);
  }
  return admin_call(call);
}

}  // namespace waitroom::app
