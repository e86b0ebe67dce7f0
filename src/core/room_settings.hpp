#pragma once
// A room's operator-chosen settings. Later features add fields here; the JSON/TOML codec in
// config/room_settings_codec.* is the one place that reads and writes them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/invitation_settings.hpp"
#include "core/ip_network.hpp"
#include "core/lanes.hpp"
#include "core/login_settings.hpp"
#include "core/oidc_settings.hpp"

namespace waitroom::core {

inline constexpr std::int64_t kDefaultPassLifetimeS = 900;
inline constexpr std::int64_t kMinPassLifetimeS = 60;
inline constexpr std::int64_t kMaxPassLifetimeS = 7 * 24 * 3600;
inline constexpr std::size_t kMaxRoomNameLength = 64;
inline constexpr std::int64_t kDefaultTicketIdleTimeoutS = 300;
// AWS's QueuePositionExpiryPeriod default: an eligible visitor has 15 minutes to claim the pass.
inline constexpr std::int64_t kDefaultClaimTimeoutS = 900;
// How many live places one identity (an invitation's sub) may hold in a room's line.
inline constexpr std::int64_t kDefaultMaxPlacesPerIdentity = 1;
inline constexpr std::int64_t kMaxPlacesPerIdentity = 100;
// Seats one ticket may stand for (a party: a family, a group buying together).
inline constexpr std::int64_t kMaxPartySize = 20;
inline constexpr std::int64_t kMaxReservePerSession = 1000;
// Items a room's inventory counts at most.
inline constexpr std::uint64_t kMaxInventory = 1'000'000'000'000;
inline constexpr std::int64_t kMaxTimeoutS = 7 * 24 * 3600;
// Leave and come back: "almost your turn" five minutes ahead by default.
inline constexpr std::int64_t kDefaultNotifyBeforeS = 300;
inline constexpr std::int64_t kMaxNotifyAhead = 1'000'000;
inline constexpr std::int64_t kMaxRatePerMinute = 6'000'000;
inline constexpr std::int64_t kMaxActiveCap = 1'000'000'000;
inline constexpr std::int64_t kMaxTargetP95Ms = 600'000;
// Adaptive admission's default error ratio that counts as a breach (CrowdHandler's 2%).
inline constexpr double kDefaultMaxErrorRatio = 0.02;

// How the admission driver lets visitors in (docs/admission.md).
enum class AdmissionMode : std::uint8_t { manual, rate, max_active, capacity, adaptive };
// Who of the waiting visitors is let in next, or whether anyone waits at all. `draw` is for a
// scheduled event with a pre-queue: its registrants are drawn at the start, `winners` of them win
// and the others wait on a waitlist in drawn order (docs/admission.md, "Drawings").
enum class Queueing : std::uint8_t { fifo, random, passthrough, reject, draw };
enum class RoomState : std::uint8_t { open, paused, queue_all };

std::string_view to_string(AdmissionMode mode);
std::string_view to_string(Queueing queueing);
std::string_view to_string(RoomState state);
std::optional<AdmissionMode> parse_admission_mode(std::string_view text);
std::optional<Queueing> parse_queueing(std::string_view text);
std::optional<RoomState> parse_room_state(std::string_view text);

struct AdmissionPolicy {
  AdmissionMode mode = AdmissionMode::manual;
  std::optional<std::int64_t> rate_per_minute;  // rate (required); may be combined with max_active
  std::optional<std::int64_t> max_active;       // max_active (required), or a ceiling in rate mode
  std::optional<std::int64_t> total_active;     // capacity
  std::optional<std::int64_t> new_per_minute;   // capacity
  std::optional<std::int64_t> start_s;          // the policy admits only in [start, end)
  std::optional<std::int64_t> end_s;
  // adaptive (docs/admission.md, "adaptive"): the site's p95 latency to hold (required), the share
  // of failed requests that counts as a breach, and the pace between its floor (admitted while
  // visitors wait whatever the signals say; 0: none) and its ceiling (required).
  std::optional<std::int64_t> target_p95_ms;
  std::optional<double> max_error_ratio;
  std::optional<std::int64_t> min_per_minute;
  std::optional<std::int64_t> max_per_minute;
  // rate, adaptive: the pace is raised by the share of admitted visitors who never claimed their
  // pass, so that the site's real load meets the setting (never above max_active).
  bool compensate_no_shows = false;

  double error_ratio_limit() const { return max_error_ratio.value_or(kDefaultMaxErrorRatio); }
  bool operator==(const AdmissionPolicy&) const = default;
};

inline constexpr std::size_t kMaxScheduledEvents = 100;
// A drawing's winners at most (positions are 40 bits; a count beyond the line is as good as all).
inline constexpr std::uint64_t kMaxDrawWinners = 1'000'000'000;

// A sale, drop or registration: an optional pre-queue (visitors get a ticket and a countdown;
// at `start` the pre-queue is shuffled, docs/fairness.md), then [start, end) with overrides.
struct ScheduledEvent {
  std::optional<std::int64_t> prequeue_start_s;
  std::int64_t start_s = 0;
  std::optional<std::int64_t> end_s;
  // Applied while the event runs; the admission override is complete (merged onto the room's
  // policy when it was set).
  std::optional<AdmissionPolicy> admission;
  std::optional<Queueing> queueing;
  // A drawing (queueing draw): how many of the pre-queue's entries win a turn.
  std::optional<std::int64_t> winners;

  std::int64_t opens_s() const { return prequeue_start_s.value_or(start_s); }
  bool operator==(const ScheduledEvent&) const = default;
};

// The pass cookie the room page sets for the protected site and the gates read. A shop on
// www.example.com behind a room on queue.example.com needs domain = "example.com".
enum class SameSite : std::uint8_t { lax, strict, none };
std::string_view to_string(SameSite same_site);
std::optional<SameSite> parse_same_site(std::string_view text);

struct PassCookie {
  std::string name;    // empty: waitroom_pass_{room}
  std::string domain;  // empty: host-only (the host that served the room page)
  std::string path = "/";
  std::optional<bool> secure;  // unset: the server's cookie_secure
  SameSite same_site = SameSite::lax;

  bool operator==(const PassCookie&) const = default;
};

// Against bots and shared passes (docs/security.md). The defaults let a household or an office
// behind one address in, and stop one machine from taking hundreds of places.
enum class PassBinding : std::uint8_t { none, ip_prefix, cookie };
std::string_view to_string(PassBinding binding);
std::optional<PassBinding> parse_pass_binding(std::string_view text);

inline constexpr std::int64_t kMaxPowDifficultyBits = 32;

struct AbuseSettings {
  // Per client address (an IPv6 client's /64); 0: no limit. Answered 429 with Retry-After.
  std::int64_t tickets_per_ip_per_minute = 60;
  std::int64_t polls_per_ip_per_second = 5;
  // Leading zero bits of SHA-256 a browser must find before it gets a ticket; 0: off.
  std::int64_t pow_difficulty_bits = 0;
  // A pass works only from the client it was issued to: the same /24 (IPv4) or /64 (IPv6), or the
  // browser holding the room's binding cookie.
  PassBinding bind_pass = PassBinding::none;
  // Waiting visitors at most; then new visitors see the room's "full" page (503).
  std::optional<std::int64_t> max_waiting;
  // Peers whose X-Forwarded-For is believed (the proxy in front).
  std::vector<IpNetwork> trusted_proxies = default_trusted_proxies();

  static std::vector<IpNetwork> default_trusted_proxies();
  bool operator==(const AbuseSettings&) const = default;
};

struct RoomSettings {
  std::int64_t pass_lifetime_s = kDefaultPassLifetimeS;
  std::string algorithm = "ES256";  // "ES256" or "RS256"
  std::string issuer = "waitroom";
  std::string audience;  // empty: the room's name
  std::string target_url;
  // AWS compatibility: /aws/serving_num sends serving_counter as a JSON string, as AWS's Redis
  // read did, for old clients that expect one. Off: a number.
  bool aws_serving_counter_as_string = false;

  AdmissionPolicy admission;
  Queueing queueing = Queueing::fifo;
  // Priority lanes beside the default one (core/lanes.hpp); they serve in line order, so they
  // do not go with random queueing.
  Lanes lanes;
  RoomState state = RoomState::open;
  // A ticket whose visitor has not been seen for this long leaves the line (0: never).
  std::int64_t ticket_idle_timeout_s = kDefaultTicketIdleTimeoutS;
  // An eligible ticket that has not claimed its pass this long after becoming eligible expires
  // (0: never). AWS's queue-position expiry.
  std::int64_t claim_timeout_s = kDefaultClaimTimeoutS;
  // Each unclaimed expiry lets one more visitor in (AWS's IncrSvcOnQueuePositionExpiry).
  bool recycle_unclaimed = false;
  std::vector<ScheduledEvent> events;  // in time order, never overlapping
  PassCookie pass_cookie;
  // A gate that sees a pass with less than half its lifetime left renews it (a new pass, the
  // same session), so an active visitor keeps their session and an idle one's ends on time.
  bool renew_on_activity = false;
  // The OpenID Connect relying parties allowed to send visitors through this room.
  OidcSettings oidc;
  // The keys the protected site signs invitations with, and whether a join needs one.
  InvitationSettings invitations;
  // Sign-in at the site's identity provider (OpenID Connect); none: no sign-in.
  std::optional<LoginSettings> login;
  // A join by an identity holding this many live places returns the latest of them instead.
  std::int64_t max_places_per_identity = kDefaultMaxPlacesPerIdentity;
  // A join may ask for up to this many seats (party_size), each counted against the policy's
  // pace and caps; 1: no parties.
  std::int64_t max_party_size = 1;
  // Inventory (docs/admission.md, "Inventory"): items each place held keeps reserved while the
  // room counts items left, so that admission stops while every unsold item is spoken for (0:
  // none reserved; admission stops only when none is left).
  std::int64_t reserve_per_session = 0;
  // Leave and come back (docs/notifications.md): a visitor who asked to be notified keeps their
  // place while away for up to this long instead of ticket_idle_timeout_s (0: no notifications,
  // no away mode).
  std::int64_t away_max_s = 0;
  // "Almost your turn" goes out when the estimate's p90 falls to notify_before_s, or when at most
  // notify_ahead visitors are ahead (0: that one does not decide; both 0: only the turn is told).
  std::int64_t notify_before_s = kDefaultNotifyBeforeS;
  std::int64_t notify_ahead = 0;
  // The e-mails' sender for this room ("Name <addr>" or "addr"); empty: [smtp] from.
  std::string notify_email_from;
  AbuseSettings abuse;

  bool operator==(const RoomSettings&) const = default;
};

// Room names appear in URLs, cookie names and metrics labels: [A-Za-z0-9][A-Za-z0-9_-]{0,63}.
bool is_valid_room_name(std::string_view name);

// A sender as notify_email_from takes it: "addr" or "Name <addr>", one ASCII address, one line.
bool is_mailbox(std::string_view text);

// Checks ranges and formats; the message names the offending field.
Result<void> validate(const RoomSettings& settings);
Result<void> validate(const AdmissionPolicy& admission);

}  // namespace waitroom::core
