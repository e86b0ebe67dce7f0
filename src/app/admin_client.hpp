#pragma once
// `waitroom admin ACTION …`: a small client of the admin API, for scripts and operators. Each
// action is its own subcommand, so `waitroom admin ACTION --help` describes it.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace waitroom::app {

struct AdminCall {
  std::string url = "http://127.0.0.1:8080";  // the server's base URL
  std::string method;
  std::string path;
  std::string body;
};

// What the command line said; filled by CLI11 while parsing.
struct AdminCommand {
  CLI::App* command = nullptr;  // `admin`
  AdminCall call;
  std::string room;
  std::uint64_t by = 0;
  std::uint64_t to = 0;
  CLI::Option* by_option = nullptr;
  CLI::Option* to_option = nullptr;
  bool yes = false;    // reset: no question asked
  std::string text;    // message: what the line is told
  bool clear = false;  // message: take it down
  // codes: the action (list, create, revoke) and a new code's settings, or the code to revoke
  std::string codes_action = "list";
  std::string lane;
  bool admit = false;
  std::uint64_t uses = 1;
  std::int64_t expires_in_s = 0;
  std::string code;  // create: the operator's own text; revoke: the code's id
  // inventory: set to N or add K items (neither: show it)
  CLI::Option* set_option = nullptr;
  CLI::Option* add_option = nullptr;
  std::uint64_t set = 0;
  std::int64_t add = 0;
  // signals: post the site's p95/p50 latency and error ratio (none given: show what is seen)
  CLI::Option* p95_option = nullptr;
  CLI::Option* p50_option = nullptr;
  CLI::Option* errors_option = nullptr;
  double p95_ms = 0;
  double p50_ms = 0;
  double error_ratio = 0;
  std::int64_t max_age_s = 0;
};

// Adds `admin` and its actions to `app`.
void add_admin_command(CLI::App& app, AdminCommand& admin);

// Runs the action parsed into `admin`. A reset first asks for the room's name on `in` (unless
// --yes), as the dashboard does; anything else changes nothing. Exit code 0 on 2xx.
int run_admin_command(const AdminCommand& admin, std::istream& in);

// Sends the call with the key from WAITROOM_ADMIN_KEY, prints the JSON answer; exit code 0 on 2xx.
int admin_call(const AdminCall& call);

}  // namespace waitroom::app
