#include "web/dashboard/dashboard_view.hpp"

#include <boost/json.hpp>

#include "web/dashboard/assets.hpp"

namespace waitroom::web::dashboard {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {

const TemplateSchema& sign_in_schema() {
  static const TemplateSchema schema{{
      {"lang", VarKind::text},
      {"lang_param", VarKind::text},
      {"error", VarKind::text},
      {"key_invalid", VarKind::flag},
      {"language_links", VarKind::raw},
  }};
  return schema;
}

const TemplateSchema& dashboard_schema() {
  static const TemplateSchema schema{{
      {"lang", VarKind::text},
      {"lang_param", VarKind::text},
      {"csrf", VarKind::text},
      {"refresh_ms", VarKind::text},
      {"sign_in_url", VarKind::text},
      {"strings", VarKind::text},
      {"language_links", VarKind::raw},
      {"no_rooms", VarKind::raw},
      {"caller", VarKind::text},
      {"signed_in_as", VarKind::text},
      {"is_admin", VarKind::flag},
  }};
  return schema;
}

core::Result<Template> load(std::string_view name, const TemplateSchema& schema,
                            const Catalog& english) {
  const Asset* asset = find_asset(name);
  if (!asset)
    return fail(ErrorCode::internal, "dashboard: " + std::string(name) + " is not compiled in");
  auto t = Template::parse(asset->content, "(built-in) " + std::string(name), schema, english);
  if (!t) return fail(ErrorCode::internal, "dashboard: " + t.error().to_string());
  return std::move(*t);
}

// A link to the same page in each language, the current one marked (as the visitor page does):
// one click switches, and the choice then stays through sign-in and sign-out.
std::string language_links(const Languages& languages, const Catalog& current) {
  std::string out = "<nav class=\"languages\" aria-label=\"";
  append_escaped(out, current.text("language_nav"));
  out += "\"><ul>";
  for (const std::string& code : languages.codes()) {
    out += "<li><a href=\"";
    append_escaped(out, admin_url(code));
    out += "\" hreflang=\"" + code + "\" lang=\"" + code + "\"";
    if (code == current.lang()) out += " aria-current=\"true\"";
    out += ">";
    append_escaped(out, languages.get(code).text("language_name"));
    out += "</a></li>";
  }
  out += "</ul></nav>";
  return out;
}

std::string key(std::string_view name) { return std::string(kKeyPrefix) + std::string(name); }

// `text` with {name} replaced by `value` (once: the catalogs hold each placeholder once).
std::string fill(std::string text, std::string_view name, std::string_view value) {
  const std::string placeholder = "{" + std::string(name) + "}";
  if (auto at = text.find(placeholder); at != std::string::npos)
    text.replace(at, placeholder.size(), value);
  return text;
}

}  // namespace

core::Result<DashboardPages> DashboardPages::create(const Languages& languages) {
  const Catalog& english = languages.english();
  auto sign_in = load("signin.html", sign_in_schema(), english);
  if (!sign_in) return std::unexpected(sign_in.error());
  auto dashboard = load("dashboard.html", dashboard_schema(), english);
  if (!dashboard) return std::unexpected(dashboard.error());
  return DashboardPages(languages, std::move(*sign_in), std::move(*dashboard));
}

std::string DashboardPages::sign_in(const Catalog& catalog, const SignInView& view) const {
  TemplateData data;
  data.set("lang", catalog.lang());
  data.set("lang_param", std::string(view.lang_param));
  data.set("error", view.error);
  data.flag("key_invalid", view.key_invalid);
  data.set("language_links", language_links(*languages_, catalog));
  return sign_in_.render(data, catalog);
}

std::string DashboardPages::dashboard(const Catalog& catalog, const DashboardView& view) const {
  TemplateData data;
  data.set("lang", catalog.lang());
  data.set("lang_param", std::string(view.lang_param));
  data.set("csrf", view.csrf);
  data.set("refresh_ms", std::to_string(view.refresh_ms));
  data.set("sign_in_url", admin_url(view.lang_param));
  data.set("strings", script_strings(*languages_, catalog));
  data.set("language_links", language_links(*languages_, catalog));
  // The one string with markup inside: the API call is set as code, wherever the language puts it.
  std::string no_rooms = html_escape(catalog.text(key("no_rooms")));
  if (auto at = no_rooms.find("{api}"); at != std::string::npos)
    no_rooms.replace(at, 5, "<code>PUT /admin/v1/rooms/{room}</code>");
  data.set("no_rooms", std::move(no_rooms));
  data.set("caller", caller_json(view.caller));
  data.set("signed_in_as", signed_in_as(catalog, view.caller));
  data.flag("is_admin",
            view.caller.role == store::OperatorRole::admin && view.caller.rooms.empty());
  return dashboard_.render(data, catalog);
}

std::string script_strings(const Languages& languages, const Catalog& catalog) {
  json::object out;
  // English has every key (the unit tests hold the other files to it); text() falls back to it.
  const auto& english = languages.english().strings();
  for (auto it = english.lower_bound(kKeyPrefix);
       it != english.end() && std::string_view(it->first).starts_with(kKeyPrefix); ++it)
    out[std::string_view(it->first).substr(kKeyPrefix.size())] = catalog.text(it->first);
  return json::serialize(out);
}

std::string caller_json(const api::SessionCaller& caller) {
  json::array rooms;
  for (const auto& r : caller.rooms) rooms.emplace_back(r);
  return json::serialize(json::object{{"role", store::role_name(caller.role)},
                                      {"name", caller.name},
                                      {"rooms", std::move(rooms)},
                                      {"token_id", caller.token_id}});
}

std::string signed_in_as(const Catalog& catalog, const api::SessionCaller& caller) {
  const std::string role(
      catalog.text(key("access.role_" + std::string(store::role_name(caller.role)))));
  if (caller.token_id.empty())
    return fill(std::string(catalog.text(key("access.signed_in_key"))), "role", role);
  std::string rooms;
  for (const auto& r : caller.rooms) {
    if (!rooms.empty()) rooms += catalog.text(key("list_separator"));
    rooms += r;
  }
  std::string text(
      catalog.text(key(rooms.empty() ? "access.signed_in_as" : "access.signed_in_as_rooms")));
  // The name last: a token's name is anyone's text, and no placeholder in it is filled.
  return fill(fill(fill(std::move(text), "role", role), "rooms", rooms), "name", caller.name);
}

std::string admin_url(std::string_view lang_param) {
  return lang_param.empty() ? std::string("/admin") : "/admin?lang=" + std::string(lang_param);
}

}  // namespace waitroom::web::dashboard
