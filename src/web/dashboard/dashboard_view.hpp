#pragma once
// The dashboard's server-rendered pages — the sign-in form and the dashboard's frame — in the
// operator's language. They use the waiting-room page's machinery: its template language
// (web/template.hpp) and its catalogs (src/web/assets/i18n/*.json, the keys "dashboard.*"; a key
// a language lacks falls back to English). The strings the dashboard's script builds travel with
// the frame as JSON, so the script needs no catalog of its own.
#include <cstdint>
#include <string>
#include <string_view>

#include "api/admin_session.hpp"
#include "core/error.hpp"
#include "web/i18n.hpp"
#include "web/template.hpp"

namespace waitroom::web::dashboard {

// The catalogs' prefix for the dashboard's strings.
inline constexpr std::string_view kKeyPrefix = "dashboard.";

struct SignInView {
  std::string_view lang_param;  // the language asked for with ?lang= (kept by the form), or ""
  std::string error;            // shown as an alert above the form; "" for none
  bool key_invalid = false;     // the key field is marked aria-invalid (a wrong or missing key)
};

struct DashboardView {
  std::string_view lang_param;  // as above: kept by the language links, sign-out and sign-in link
  std::string csrf;
  std::int64_t refresh_ms = 0;
  api::SessionCaller caller;  // who is signed in: what the page shows and offers
};

class DashboardPages {
 public:
  // Parses the embedded templates against the English catalog; an error names the file and line
  // (a build defect: the unit tests load them).
  static core::Result<DashboardPages> create(const Languages& languages);

  std::string sign_in(const Catalog& catalog, const SignInView& view) const;
  std::string dashboard(const Catalog& catalog, const DashboardView& view) const;
  const Languages& languages() const { return *languages_; }

 private:
  DashboardPages(const Languages& languages, Template sign_in, Template dashboard)
      : languages_(&languages), sign_in_(std::move(sign_in)), dashboard_(std::move(dashboard)) {}

  const Languages* languages_;
  Template sign_in_;
  Template dashboard_;
};

// Every "dashboard.*" string in the catalog's language (English where it has none), keyed
// without the prefix, as one JSON object: what dashboard.js formats its text from.
std::string script_strings(const Languages& languages, const Catalog& catalog);

// The signed-in caller for the page's script, as JSON: {"role", "name", "rooms", "token_id"}
// ("admin key" and no token id for the key). Data, not script: it goes in <body data-caller>.
std::string caller_json(const api::SessionCaller& caller);
// "Signed in as alice (operator; rooms: sale)" in the catalog's language.
std::string signed_in_as(const Catalog& catalog, const api::SessionCaller& caller);

// "/admin", or "/admin?lang=de" when a language was asked for explicitly.
std::string admin_url(std::string_view lang_param);

}  // namespace waitroom::web::dashboard
