#include "notify/notifier.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "ops/log.hpp"

namespace waitroom::notify {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {
// How long a reported message is kept from being sent again while the rooms' outbox (rebuilt at
// each admission step) may still show it.
constexpr auto kReportedHoldoff = std::chrono::seconds(5);
}  // namespace

Notifier::Notifier(store::Store& store, const token::SealedBox& contacts, Wording wording,
                   std::unique_ptr<Sender> push, std::unique_ptr<Sender> email,
                   NotifierOptions options)
    : store_(store),
      contacts_(contacts),
      wording_(std::move(wording)),
      push_(std::move(push)),
      email_(std::move(email)),
      options_(options) {}

Notifier::~Notifier() { stop(); }

void Notifier::start() {
  runner_ = std::thread([this] { run(); });
  for (unsigned i = 0; i < std::max(1u, options_.workers); ++i)
    workers_.emplace_back([this] { work(); });
}

void Notifier::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !runner_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (runner_.joinable()) runner_.join();
  for (std::thread& w : workers_)
    if (w.joinable()) w.join();
  workers_.clear();
}

void Notifier::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    std::vector<engine::PendingNotice> due = store_.pending_notices();
    lock.lock();
    const auto now = Clock::now();
    std::erase_if(reported_, [&](const auto& r) { return now - r.second > kReportedHoldoff; });
    std::set<Key> still_due;
    for (engine::PendingNotice& n : due) {
      Key key{n.room, n.epoch, n.position, n.kind};
      still_due.insert(key);
      if (in_flight_.contains(key) || reported_.contains(key)) continue;
      if (auto a = attempts_.find(key); a != attempts_.end() && now < a->second.next) continue;
      in_flight_.insert(key);
      queue_.push_back(std::move(n));
    }
    // Messages no room shows any more (sent by another node, the ticket ended): forget their
    // attempts.
    std::erase_if(attempts_, [&](const auto& a) {
      return !still_due.contains(a.first) && !in_flight_.contains(a.first);
    });
    pending_.store(still_due.size());
    if (!queue_.empty()) wake_.notify_all();
    wake_.wait_for(lock, options_.poll, [this] { return stopping_; });
  }
}

void Notifier::work() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    engine::PendingNotice notice = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    deliver(notice);
    lock.lock();
    in_flight_.erase(Key{notice.room, notice.epoch, notice.position, notice.kind});
  }
}

void Notifier::deliver(const engine::PendingNotice& n) {
  const Key key{n.room, n.epoch, n.position, n.kind};
  Sender* sender = n.channel == core::NoticeChannel::push    ? push_.get()
                   : n.channel == core::NoticeChannel::email ? email_.get()
                                                             : nullptr;
  // Sent only from committed state: the step that made it due may not be durable yet.
  if (!still_due(n)) return;
  std::expected<void, SendError> sent;
  std::optional<std::string> contact = contacts_.open(n.contact);
  if (!sender)
    sent = std::unexpected(SendError{
        "this server no longer sends " + std::string(core::to_string(n.channel)) + " messages",
        true});
  else if (!contact)
    sent = std::unexpected(
        SendError{"the contact cannot be opened (the server's secret changed)", true});
  else
    sent = sender->send(n, *contact, wording_(n));
  if (sent) {
    counts(n.channel, n.kind).sent.fetch_add(1);
    report(n, true, "");
    return;
  }
  const auto now = Clock::now();
  bool give_up = sent.error().permanent;
  {
    std::lock_guard lock(mu_);
    Attempts& a = attempts_[key];
    if (a.failures == 0) a.first = now;
    ++a.failures;
    if (!give_up && !worth_retrying(n, a)) give_up = true;
    if (!give_up) {
      auto delay = options_.retry_min * (1LL << std::min(a.failures - 1, 16u));
      a.next = now + std::min<std::chrono::milliseconds>(delay, options_.retry_max);
    }
  }
  if (!give_up) {
    counts(n.channel, n.kind).retried.fetch_add(1);
    ops::log_warn("notification failed; retrying with back-off",
                  {{"room", n.room},
                   {"position", n.position},
                   {"channel", core::to_string(n.channel)},
                   {"kind", core::to_string(n.kind)},
                   {"error", sent.error().reason}});
    return;
  }
  counts(n.channel, n.kind).failed.fetch_add(1);
  ops::log_warn("notification given up", {{"room", n.room},
                                          {"position", n.position},
                                          {"channel", core::to_string(n.channel)},
                                          {"kind", core::to_string(n.kind)},
                                          {"error", sent.error().reason}});
  report(n, false, sent.error().reason);
}

bool Notifier::worth_retrying(const engine::PendingNotice& n, const Attempts& a) const {
  // A near message stops being due when the turn comes (the room marks it skipped), so only the
  // turn's message has a limit here: its claim window, or turn_give_up without one.
  if (n.kind != core::NoticeKind::turn) return true;
  if (n.claim_until_s > 0) return store_.clock().now_s() < n.claim_until_s;
  return Clock::now() - a.first < options_.turn_give_up;
}

namespace {
// Runs one store operation to its end on a private io_context (this is a worker's thread).
template <class T>
std::optional<core::Result<T>> run_store_op(asio::awaitable<core::Result<T>> op) {
  asio::io_context ctx;
  std::optional<core::Result<T>> out;
  asio::co_spawn(ctx, std::move(op), [&out](std::exception_ptr e, core::Result<T> r) {
    if (!e) out.emplace(std::move(r));
  });
  ctx.run();
  return out;
}
}  // namespace

bool Notifier::still_due(const engine::PendingNotice& n) {
  auto due = run_store_op(store_.notice_still_due(n.room, n.epoch, n.position, n.kind));
  return due && *due && **due;
}

void Notifier::report(const engine::PendingNotice& n, bool sent, const std::string& reason) {
  std::optional<core::Result<void>> done =
      run_store_op(store_.notice_done(n.room, n.epoch, n.position, n.kind, sent, reason));
  std::lock_guard lock(mu_);
  const Key key{n.room, n.epoch, n.position, n.kind};
  attempts_.erase(key);
  if (done && *done) {
    reported_[key] = Clock::now();
  } else {
    // Not recorded (the store cannot write now): the message stays due and is sent again.
    ops::log_warn("notification's outcome not recorded; it stays due",
                  {{"room", n.room},
                   {"position", n.position},
                   {"error", done && !*done ? done->error().detail : "stopped"}});
  }
}

Notifier::Counts& Notifier::counts(core::NoticeChannel channel, core::NoticeKind kind) {
  return counts_[channel == core::NoticeChannel::email ? 1 : 0]
                [kind == core::NoticeKind::turn ? 1 : 0];
}

void Notifier::render_metrics(std::string& out) const {
  auto it = std::back_inserter(out);
  const char* channels[] = {"push", "email"};
  const char* kinds[] = {"turn_near", "turn"};
  auto family = [&](const char* name, const char* help, auto member) {
    fmt::format_to(it, "# HELP {} {}\n# TYPE {} counter\n", name, help, name);
    for (int c = 0; c < 2; ++c)
      for (int k = 0; k < 2; ++k)
        fmt::format_to(it, "{}{{channel=\"{}\",kind=\"{}\"}} {}\n", name, channels[c], kinds[k],
                       (counts_[c][k].*member).load());
  };
  family("waitroom_notifications_sent_total",
         "Notifications delivered to a push service or SMTP "
         "server.",
         &Counts::sent);
  family("waitroom_notifications_failed_total",
         "Notifications given up (refused for good, or no longer worth sending).", &Counts::failed);
  family("waitroom_notification_retries_total",
         "Failed delivery attempts that were tried again after a back-off.", &Counts::retried);
  fmt::format_to(it,
                 "# HELP waitroom_notifications_pending Notifications due and not yet sent on "
                 "this node.\n# TYPE waitroom_notifications_pending gauge\n"
                 "waitroom_notifications_pending {}\n",
                 pending_.load());
}

}  // namespace waitroom::notify
