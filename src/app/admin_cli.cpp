#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include "app/admin_client.hpp"

namespace waitroom::app {

namespace {

constexpr const char* kUrlHelp = "the server's base URL (default http://127.0.0.1:8080)";

CLI::App* action(CLI::App& admin, AdminCommand& a, const std::string& name,
                 const std::string& description, bool needs_room = true) {
  CLI::App* c = admin.add_subcommand(name, description);
  if (needs_room) c->add_option("room", a.room, "the room's name")->required();
  c->add_option("--url", a.call.url, kUrlHelp);
  return c;
}

// The dashboard's question, on the terminal: the room's name typed back, or nothing happens.
bool confirmed_reset(const std::string& room, std::istream& in) {
  std::cerr << "Reset room " << room
            << "? Everyone in line loses their place, the serving counter goes back to 0 and "
               "every pass of this room stops working. This cannot be undone.\n"
            << "Type " << room << " to confirm: " << std::flush;
  std::string typed;
  if (!std::getline(in, typed) || typed != room) {
    std::cerr << "\nwaitroom admin reset: not confirmed; nothing changed\n";
    return false;
  }
  return true;
}

}  // namespace

void add_admin_command(CLI::App& app, AdminCommand& a) {
  a.command = app.add_subcommand(
      "admin", "call the admin API (key from WAITROOM_ADMIN_KEY); `admin ACTION --help` for one");
  a.command->require_subcommand(1);
  action(*a.command, a, "rooms", "list every room with its status and counters", false);
  CLI::App* advance =
      action(*a.command, a, "advance",
             "let visitors in by hand: move the room's serving counter by N, or to N (never back)");
  a.by_option = advance->add_option("--by", a.by, "move the serving counter by N");
  a.to_option = advance->add_option("--to", a.to, "set the serving counter to N");
  action(*a.command, a, "pause",
         "stop admitting: the line keeps forming, nobody is let in and no passes are issued");
  action(*a.command, a, "resume", "admit again after a pause");
  CLI::App* reset = action(
      *a.command, a, "reset",
      "start the room over: everyone in line loses their place, the serving counter goes back "
      "to 0 and every pass of the room stops working. Asks for the room's name to be typed "
      "(reads it from standard input) unless --yes");
  reset->add_flag("--yes,-y", a.yes, "reset without asking (for scripts)");
  action(*a.command, a, "stats", "the room's counters, admissions and estimate");
  CLI::App* message = action(
      *a.command, a, "message",
      "tell everyone in the room's line something (\"The sale starts 10 minutes late\"): the "
      "waiting page shows it in a banner at once; setting it again replaces it");
  message->add_option("text", a.text, "plain text, up to 500 characters");
  message->add_flag("--clear", a.clear, "take the message down");
  CLI::App* codes = action(
      *a.command, a, "codes",
      "the room's access codes: `list` them (never their text), `create` one that puts its "
      "holder in a lane (--lane) or lets them in at once (--admit), or `revoke` one by its id");
  codes->add_option("action", a.codes_action, "list (default), create or revoke")
      ->check(CLI::IsMember({"list", "create", "revoke"}));
  codes->add_option("id", a.code, "revoke: the code's id");
  codes->add_option("--lane", a.lane, "create: the lane its holder joins");
  codes->add_flag("--admit", a.admit, "create: its holder is let in at once");
  codes->add_option("--uses", a.uses, "create: how many joins it is good for (default 1)");
  codes->add_option("--expires-in", a.expires_in_s, "create: seconds until it expires");
  codes->add_option("--code", a.code, "create: your own text instead of a generated code");
  CLI::App* inventory = action(
      *a.command, a, "inventory",
      "the items the room has left to sell: show them, --set N, or --add K (below 0: fewer); "
      "at 0 the room is sold out");
  a.set_option = inventory->add_option("--set", a.set, "the items left");
  a.add_option = inventory->add_option("--add", a.add, "items more (or fewer, below 0)");
  CLI::App* signals =
      action(*a.command, a, "signals",
             "the room's site health as adaptive admission reads it: show it, or post what your "
             "proxy's logs or Prometheus say (--p95-ms, --error-ratio; for a feeder run every few "
             "seconds)");
  a.p95_option = signals->add_option("--p95-ms", a.p95_ms, "the site's p95 latency, ms");
  a.p50_option = signals->add_option("--p50-ms", a.p50_ms, "the site's median latency, ms");
  a.errors_option =
      signals->add_option("--error-ratio", a.error_ratio, "the share of failed requests, 0 to 1");
  signals->add_option("--max-age", a.max_age_s,
                      "seconds the posted figures count (default 10: post more often than that)");
}

namespace {
// `admin codes ACTION`: the call, or exit code 2 for a command line that names no code to revoke.
int codes_call(const AdminCommand& a, AdminCall& call) {
  call.path = "/admin/v1/rooms/" + a.room + "/codes";
  if (a.codes_action == "list") {
    call.method = "GET";
  } else if (a.codes_action == "revoke") {
    if (a.code.empty()) {
      std::cerr << "waitroom admin codes revoke: give the code's id (from `codes ROOM list`)\n";
      return 2;
    }
    call.method = "DELETE";
    call.path += "/" + a.code;
  } else {
    boost::json::object body{{"uses", a.uses}};
    if (!a.lane.empty()) body["lane"] = a.lane;
    if (a.admit) body["admit"] = true;
    if (a.expires_in_s > 0) body["expires_in_s"] = a.expires_in_s;
    if (!a.code.empty()) body["code"] = a.code;
    call.method = "POST";
    call.body = boost::json::serialize(body);
  }
  return admin_call(call);
}
// `admin inventory`: shown, or set or adjusted (exit code 2 for both at once).
int inventory_call(const AdminCommand& a, AdminCall& call) {
  call.path = "/admin/v1/rooms/" + a.room + "/inventory";
  call.method = "GET";
  if (a.set_option->count() && a.add_option->count()) {
    std::cerr << "waitroom admin inventory: give --set or --add, not both\n";
    return 2;
  }
  if (a.set_option->count() || a.add_option->count()) {
    call.method = "POST";
    call.body = a.set_option->count() ? "{\"set\":" + std::to_string(a.set) + "}"
                                      : "{\"add\":" + std::to_string(a.add) + "}";
  }
  return admin_call(call);
}

// `admin signals`: shown, or posted when any figure is given.
int signals_call(const AdminCommand& a, AdminCall& call) {
  call.path = "/admin/v1/rooms/" + a.room + "/signals";
  call.method = "GET";
  boost::json::object body;
  if (a.p95_option->count()) body["p95_ms"] = a.p95_ms;
  if (a.p50_option->count()) body["p50_ms"] = a.p50_ms;
  if (a.errors_option->count()) body["error_ratio"] = a.error_ratio;
  if (!body.empty()) {
    if (a.max_age_s > 0) body["max_age_s"] = a.max_age_s;
    call.method = "POST";
    call.body = boost::json::serialize(body);
  }
  return admin_call(call);
}
}  // namespace

int run_admin_command(const AdminCommand& a, std::istream& in) {
  AdminCall call = a.call;
  const std::string name = a.command->get_subcommands().front()->get_name();
  if (name == "rooms") {
    call.method = "GET";
    call.path = "/admin/v1/rooms";
    return admin_call(call);
  }
  if (name == "codes") return codes_call(a, call);
  if (name == "inventory") return inventory_call(a, call);
  if (name == "signals") return signals_call(a, call);
  call.method = name == "stats" ? "GET" : "POST";
  call.path = "/admin/v1/rooms/" + a.room + "/" + name;
  if (name == "message") {
    if (a.clear == !a.text.empty()) {
      std::cerr << "waitroom admin message: give the text, or --clear\n";
      return 2;
    }
    call.method = a.clear ? "DELETE" : "PUT";
    if (!a.clear) call.body = boost::json::serialize(boost::json::object{{"text", a.text}});
  }
  if (name == "advance") {
    if (a.by_option->count() == a.to_option->count()) {
      std::cerr << "waitroom admin advance: give exactly one of --by or --to\n";
      return 2;
    }
    call.body = a.by_option->count() ? "{\"by\":" + std::to_string(a.by) + "}"
                                     : "{\"to\":" + std::to_string(a.to) + "}";
  }
  // Without a key admin_call says so; asking first would only waste the typing.
  const char* key = std::getenv("WAITROOM_ADMIN_KEY");
  if (name == "reset" && !a.yes && key && *key && !confirmed_reset(a.room, in)) return 1;
  return admin_call(call);
}

}  // namespace waitroom::app
