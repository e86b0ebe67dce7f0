// waitroom: subcommands and wiring only (DESIGN.md section 2).
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/admin_client.hpp"
#include "app/serve.hpp"
#include "app/tokens_cli.hpp"
#include "app/verify_shuffle.hpp"
#include "core/clock.hpp"
#include "core/room_settings.hpp"
#include "store/embedded/log_tools.hpp"
#include "token/key_ring.hpp"
#include "token/web_push.hpp"

namespace {

// `vapid`: Web Push's VAPID keys (data_dir/vapid) instead of the passes' signing keys. A retired
// VAPID key stays kVapidKeyRetentionS (7 days, the longest away_max_s): browsers subscribed with
// it before the rotation are still sent to.
int keys_command(const std::string& action, const std::filesystem::path& data_dir, bool vapid) {
  waitroom::core::SystemClock clock;
  auto ring = vapid ? waitroom::token::KeyRing::open(data_dir / "vapid", clock,
                                                     waitroom::token::kVapidAlgorithms)
                    : waitroom::token::KeyRing::open(data_dir / "keys", clock);
  if (!ring) {
    std::cerr << "waitroom keys: " << ring.error().detail << "\n";
    return 1;
  }
  if (action == "rotate") {
    const std::int64_t retain_s =
        vapid ? waitroom::token::kVapidKeyRetentionS : waitroom::core::kMaxPassLifetimeS;
    if (auto r = (*ring)->rotate(retain_s); !r) {
      std::cerr << "waitroom keys rotate: " << r.error().detail << "\n";
      return 1;
    }
    std::cerr << (vapid ? "rotated; send SIGHUP to a running server: pages subscribe with the new "
                          "key from then on\n"
                        : "rotated; send SIGHUP to a running server (or use POST "
                          "/admin/v1/keys/rotate)\n");
  }
  for (const auto& k : (*ring)->list())
    std::cout << k.kid << " " << waitroom::token::algorithm_name(k.alg)
              << " created_at=" << k.created_at_s << (k.active ? " active" : " retired") << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Waitroom: a self-hostable virtual waiting room"};
  app.require_subcommand(1);

  waitroom::app::ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "run the server");
  serve_cmd->add_option("--config", serve.config_file, "waitroom.toml");
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT (default 127.0.0.1:8080)");
  serve_cmd->add_option("--data-dir", serve.data_dir, "where state and keys live (default ./data)");
  serve_cmd->add_option("--threads", serve.threads, "I/O threads (default: one per core)");
  serve_cmd->add_option("--durability", serve.durability, "fsync (default) or relaxed");

  app.add_subcommand("routes", "print every route the server answers");

  std::filesystem::path fill_dir, fill_config;
  std::string fill_room = "bench";
  std::uint64_t fill_tickets = 0;
  auto* fill_cmd =
      app.add_subcommand("bench-fill", "append queued tickets to a data dir (benchmarks)");
  fill_cmd->add_option("--data-dir", fill_dir)->required();
  fill_cmd->add_option("--room", fill_room);
  fill_cmd->add_option("--tickets", fill_tickets)->required();
  fill_cmd->add_option("--config", fill_config);

  std::string keys_action;
  std::filesystem::path keys_dir = "data";
  auto* keys_cmd = app.add_subcommand("keys", "list or rotate the pass-signing keys in a data dir");
  keys_cmd->add_option("action", keys_action, "rotate | list")
      ->required()
      ->check(CLI::IsMember({"rotate", "list"}));
  keys_cmd->add_option("--data-dir", keys_dir);
  bool keys_vapid = false;
  keys_cmd->add_flag("--vapid", keys_vapid, "Web Push's VAPID keys instead of the pass keys");

  // The embedded store's log (docs/operations.md, "A damaged log").
  std::filesystem::path log_dir = "data";
  std::uint64_t truncate_at = 0;
  auto* log_cmd =
      app.add_subcommand("log", "check or repair the embedded store's log in a data dir");
  log_cmd->require_subcommand(1);
  auto* log_check_cmd = log_cmd->add_subcommand(
      "check", "verify the log; exit 1 if it is damaged (a torn last write is not damage)");
  log_check_cmd->add_option("--data-dir", log_dir, "the server's data dir (default ./data)");
  auto* log_repair_cmd = log_cmd->add_subcommand(
      "repair", "cut a damaged log at OFFSET, keeping a backup copy and the rooms' counters");
  log_repair_cmd->add_option("--data-dir", log_dir, "the server's data dir (default ./data)");
  log_repair_cmd
      ->add_option("--truncate-at", truncate_at, "the offset `waitroom log check` reports")
      ->required();

  waitroom::app::AdminCommand admin;
  waitroom::app::add_admin_command(app, admin);
  waitroom::app::TokensCommand tokens;
  waitroom::app::add_tokens_command(app, tokens);

  waitroom::app::VerifyShuffleOptions shuffle;
  auto* shuffle_cmd = app.add_subcommand(
      "verify-shuffle", "recompute a pre-queue's order from its published seed (docs/fairness.md)");
  shuffle_cmd->add_option("--seed", shuffle.seed, "the published seed (hex)")->required();
  shuffle_cmd->add_option("--commitment", shuffle.commitment,
                          "the commitment published at pre-queue open");
  shuffle_cmd->add_option("--first", shuffle.first, "the draw's shuffled_first position")
      ->required();
  shuffle_cmd->add_option("--last", shuffle.last, "the draw's last_position")->required();
  shuffle_cmd->add_option("--served", shuffle.served,
                          "file of admitted positions in served order, one per line, to check");
  shuffle_cmd->add_option("--winners", shuffle.winners,
                          "a drawing's winners (published in /draws): label the order won or "
                          "waitlist n, and check the served ones against them");
  shuffle_cmd->add_option("--unclaimed", shuffle.unclaimed,
                          "with --winners and --served: file of positions whose turn ran out "
                          "unclaimed (their turns passed to the waitlist)");

  CLI11_PARSE(app, argc, argv);
  if (*shuffle_cmd) return waitroom::app::verify_shuffle(shuffle);

  if (*serve_cmd) return waitroom::app::serve(serve);
  if (app.got_subcommand("routes")) return waitroom::app::print_routes();
  if (*fill_cmd) return waitroom::app::bench_fill(fill_dir, fill_room, fill_tickets, fill_config);
  if (*keys_cmd) return keys_command(keys_action, keys_dir, keys_vapid);
  if (*log_check_cmd) return waitroom::store::check_log(log_dir, std::cout, std::cerr);
  if (*log_repair_cmd)
    return waitroom::store::repair_log(log_dir, truncate_at, std::cout, std::cerr);

  if (*tokens.command) return waitroom::app::run_tokens_command(tokens);
  return waitroom::app::run_admin_command(admin, std::cin);
}
