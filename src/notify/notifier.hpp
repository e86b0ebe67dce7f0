#pragma once
// Leave and come back: sends the messages the rooms have due (engine/notice_ops.hpp) by Web Push
// or e-mail, and reports each one sent or given up, which the room logs. Every message becomes
// due from committed state and stays due until its report is committed, so a message due while
// the process was down goes out after it starts; one sent just before a crash, whose report was
// not committed yet, goes out again (at least once, docs/notifications.md).
//
// Only the node that drives a room sends its messages (Store::pending_notices). A failed attempt
// is tried again after a back-off that doubles from retry_min to retry_max, while the message is
// still worth sending: a near message until the turn comes, the turn's until its claim window
// ends. A permanent refusal (an expired push subscription, a mailbox that does not exist) gives
// it up at once.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/clock.hpp"
#include "engine/notice_ops.hpp"
#include "store/store.hpp"
#include "token/sealed_box.hpp"

namespace waitroom::notify {

// What one message says, in the visitor's language, and the link back to their place (the
// resume link, which restores the place in any browser). Made by the server from the page's
// translations (app/).
struct NoticeText {
  std::string title;       // a push notification's title, an e-mail's subject
  std::string body;        // one or two sentences
  std::string link;        // absolute when the server knows its public_url
  std::string link_label;  // "Back to my place"
  std::string footer;      // an e-mail's last lines: why it came, that the address is erased
};
using Wording = std::function<NoticeText(const engine::PendingNotice&)>;

struct SendError {
  std::string reason;      // for logs and the ticket.notice_failed event: never the contact
  bool permanent = false;  // trying again cannot help
};

// One channel's delivery: push or e-mail. Called from the notifier's workers, one call at a time
// per worker.
class Sender {
 public:
  virtual ~Sender() = default;
  // `contact`: the notice's contact, opened.
  virtual std::expected<void, SendError> send(const engine::PendingNotice& notice,
                                              const std::string& contact,
                                              const NoticeText& text) = 0;
};

struct NotifierOptions {
  std::chrono::milliseconds poll{200};
  std::chrono::milliseconds retry_min{1000};
  std::chrono::milliseconds retry_max{60000};
  // A turn's message in a room without a claim window is given up after this long.
  std::chrono::seconds turn_give_up{3600};
  unsigned workers = 4;  // messages sent at once (an SMTP exchange takes a while)
};

class Notifier {
 public:
  // `push`, `email`: null when the server has no such channel (its messages are given up).
  Notifier(store::Store& store, const token::SealedBox& contacts, Wording wording,
           std::unique_ptr<Sender> push, std::unique_ptr<Sender> email, NotifierOptions options);
  ~Notifier();  // stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void start();
  // Stops within moments; what is in flight finishes its attempt (its report may be lost: the
  // message is still due at the next start).
  void stop();

  // waitroom_notifications_* lines of /metrics (with their HELP and TYPE).
  void render_metrics(std::string& out) const;

 private:
  using Key = std::tuple<std::string, std::uint32_t, std::uint64_t, core::NoticeKind>;
  struct Attempts {
    unsigned failures = 0;
    std::chrono::steady_clock::time_point next{};
    std::chrono::steady_clock::time_point first{};
  };
  struct Counts {
    std::atomic<std::uint64_t> sent{0}, failed{0}, retried{0};
  };

  void run();   // finds what is due and hands it to the workers
  void work();  // a worker: sends, then reports
  void deliver(const engine::PendingNotice& notice);
  // Whether a message that failed is still worth trying at `now`.
  bool worth_retrying(const engine::PendingNotice& notice, const Attempts& attempts) const;
  // Whether the message is still due, durably (Store::notice_still_due).
  bool still_due(const engine::PendingNotice& notice);
  void report(const engine::PendingNotice& notice, bool sent, const std::string& reason);
  Counts& counts(core::NoticeChannel channel, core::NoticeKind kind);

  store::Store& store_;
  const token::SealedBox& contacts_;
  Wording wording_;
  std::unique_ptr<Sender> push_;
  std::unique_ptr<Sender> email_;
  const NotifierOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<engine::PendingNotice> queue_;
  std::set<Key> in_flight_;
  // Reported, until the rooms' outbox no longer shows them (the next steps).
  std::map<Key, std::chrono::steady_clock::time_point> reported_;
  std::map<Key, Attempts> attempts_;
  bool stopping_ = false;
  std::thread runner_;
  std::vector<std::thread> workers_;
  // [channel: push, email][kind: turn_near, turn]
  Counts counts_[2][2];
  std::atomic<std::uint64_t> pending_{0};
};

}  // namespace waitroom::notify
