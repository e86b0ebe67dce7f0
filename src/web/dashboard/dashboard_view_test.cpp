#include "web/dashboard/dashboard_view.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>

#include "testing/embedded_languages.hpp"
#include "web/dashboard/assets.hpp"

namespace waitroom::web::dashboard {
namespace {

namespace json = boost::json;

const Languages& languages() { return testing::embedded_languages(); }

const DashboardPages& pages() {
  static const DashboardPages p = [] {
    auto created = DashboardPages::create(languages());
    EXPECT_TRUE(created.has_value()) << (created ? "" : created.error().detail);
    return std::move(*created);
  }();
  return p;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// The value of the first `name="..."` attribute, unescaped.
std::string attribute(const std::string& html, std::string_view name) {
  const std::string mark = std::string(name) + "=\"";
  const auto start = html.find(mark);
  if (start == std::string::npos) return {};
  const auto from = start + mark.size();
  std::string value = html.substr(from, html.find('"', from) - from);
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '&') {
      out += value[i];
      continue;
    }
    const auto semi = value.find(';', i);
    const std::string entity = value.substr(i, semi - i + 1);
    out += entity == "&quot;"  ? "\""
           : entity == "&amp;" ? "&"
           : entity == "&lt;"  ? "<"
           : entity == "&gt;"  ? ">"
                               : "'";
    i = semi;
  }
  return out;
}

TEST(DashboardView, SignInFormInTheChosenLanguage) {
  const std::string de = pages().sign_in(languages().get("de"), SignInView{"de", "", false});
  EXPECT_TRUE(contains(de, "<html lang=\"de\">"));
  EXPECT_TRUE(contains(de, "<title>Anmelden · Waitroom-Dashboard</title>"));
  EXPECT_TRUE(contains(de, "<label for=\"key\">Admin-Schlüssel oder Operator-Token</label>"));
  EXPECT_TRUE(contains(de, "<button type=\"submit\">Anmelden</button>"));
  // The explicit choice goes with the form; the links offer every language.
  EXPECT_TRUE(contains(de, "<input type=\"hidden\" name=\"lang\" value=\"de\">"));
  EXPECT_TRUE(contains(de, "href=\"/admin?lang=ja\" hreflang=\"ja\" lang=\"ja\">日本語</a>"));
  EXPECT_TRUE(contains(de, "lang=\"de\" aria-current=\"true\">Deutsch</a>"));
  EXPECT_FALSE(contains(de, "role=\"alert\""));
  EXPECT_FALSE(contains(de, "aria-describedby"));

  // Chosen by Accept-Language: nothing to carry.
  const std::string ja = pages().sign_in(languages().get("ja"), SignInView{"", "", false});
  EXPECT_TRUE(contains(ja, "<html lang=\"ja\">"));
  EXPECT_TRUE(contains(ja, "管理キー"));
  EXPECT_FALSE(contains(ja, "name=\"lang\""));
}

TEST(DashboardView, SignInErrorIsAnEscapedAlertTiedToTheField) {
  const std::string html =
      pages().sign_in(languages().english(), SignInView{"", "<b>wrong</b> & \"bad\"", true});
  EXPECT_TRUE(contains(html, "<html lang=\"en\">"));
  EXPECT_TRUE(
      contains(html,
               "<p id=\"signin-error\" class=\"error\" role=\"alert\">&lt;b&gt;wrong&lt;/b&gt; "
               "&amp; &quot;bad&quot;</p>"));
  EXPECT_TRUE(contains(html, " aria-describedby=\"signin-error\" aria-invalid=\"true\">"));
  const std::string throttled =
      pages().sign_in(languages().english(), SignInView{"", "Try later.", false});
  EXPECT_TRUE(contains(throttled, " aria-describedby=\"signin-error\">"));
  EXPECT_FALSE(contains(throttled, "aria-invalid"));
}

TEST(DashboardView, DashboardFrameCarriesItsLanguageAndTheScriptStrings) {
  const std::string html =
      pages().dashboard(languages().get("fr"), DashboardView{"fr", "tok&en", 5000, {}});
  EXPECT_TRUE(contains(html, "<html lang=\"fr\">"));
  EXPECT_TRUE(contains(html, "<title>Tableau de bord Waitroom</title>"));
  EXPECT_TRUE(contains(html, "<meta name=\"csrf-token\" content=\"tok&amp;en\">"));
  EXPECT_TRUE(contains(html, "data-refresh-ms=\"5000\" data-lang=\"fr\""));
  EXPECT_TRUE(contains(html, "data-sign-in-url=\"/admin?lang=fr\""));
  EXPECT_TRUE(contains(html, ">Se déconnecter</button>"));
  EXPECT_TRUE(contains(html, "<input type=\"hidden\" name=\"lang\" value=\"fr\">"));
  EXPECT_TRUE(contains(html, "<th scope=\"col\">Règle d’admission</th>"));
  // The one string with markup: escaped text around the API call as code.
  EXPECT_TRUE(contains(html,
                       "Créez-en une avec <code>PUT /admin/v1/rooms/{room}</code> ou dans "
                       "waitroom.toml."));
  const json::value strings = json::parse(attribute(html, "data-strings"));
  EXPECT_EQ(strings.at("chart_waiting").as_string(), "En attente dans la file");
  EXPECT_EQ(strings.at("pause_button").as_string(), "Suspendre les admissions");
  EXPECT_FALSE(strings.as_object().contains("dashboard.title"));  // without the prefix
  EXPECT_FALSE(strings.as_object().contains("join_button"));      // the visitor page's own

  const std::string en = pages().dashboard(languages().english(), DashboardView{"", "t", 1000, {}});
  EXPECT_TRUE(contains(en, "data-sign-in-url=\"/admin\""));
  EXPECT_FALSE(contains(en, "name=\"lang\""));
}

// The page knows who is signed in: data for the script, a line for the operator, and the tokens
// view only for an admin of every room.
TEST(DashboardView, DashboardFrameKnowsItsCaller) {
  const api::SessionCaller viewer{
      store::OperatorRole::viewer, {"sale", "<b>"}, "alice \"a\"", "0123456789abcdef"};
  const std::string v =
      pages().dashboard(languages().english(), DashboardView{"", "t", 1000, viewer});
  const json::value caller = json::parse(attribute(v, "data-caller"));
  EXPECT_EQ(caller.at("role").as_string(), "viewer");
  EXPECT_EQ(caller.at("name").as_string(), "alice \"a\"");
  EXPECT_EQ(caller.at("token_id").as_string(), "0123456789abcdef");
  EXPECT_EQ(caller.at("rooms"), json::parse(R"(["sale","<b>"])"));
  EXPECT_TRUE(contains(v, "Signed in as alice &quot;a&quot; (viewer; rooms: sale, &lt;b&gt;)"));
  EXPECT_FALSE(contains(v, "<b>"));
  EXPECT_TRUE(contains(v, "href=\"#audit\""));
  EXPECT_FALSE(contains(v, "href=\"#tokens\""));
  EXPECT_FALSE(contains(v, "id=\"tokens\""));

  const api::SessionCaller key{store::OperatorRole::admin, {}, "admin key", {}};
  const std::string k =
      pages().dashboard(languages().get("de"), DashboardView{"de", "t", 1000, key});
  EXPECT_TRUE(contains(k, "Angemeldet mit dem Admin-Schlüssel (Admin)"));
  EXPECT_TRUE(contains(k, "href=\"#tokens\""));
  EXPECT_TRUE(contains(k, "id=\"tokens\""));

  // An admin of some rooms may not manage tokens (a route of no room): no tokens view.
  const api::SessionCaller some{store::OperatorRole::admin, {"sale"}, "bob", "fedcba9876543210"};
  const std::string s =
      pages().dashboard(languages().english(), DashboardView{"", "t", 1000, some});
  EXPECT_TRUE(contains(s, "Signed in as bob (admin; rooms: sale)"));
  EXPECT_FALSE(contains(s, "id=\"tokens\""));
}

TEST(DashboardView, ScriptStringsFallBackToEnglish) {
  std::vector<std::pair<std::string, std::string_view>> files{
      {"en", R"({"dashboard.a":"A","dashboard.b":"B","other":"O"})"},
      {"de", R"({"dashboard.a":"A-de"})"}};
  auto l = Languages::load(files);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(json::parse(script_strings(*l, l->get("de"))), json::parse(R"({"a":"A-de","b":"B"})"));
}

// Every key the script asks for by name — t('key') or tp('key', n) — is in the English catalog
// (so every language has it: see I18n.FiveLanguagesEachWithEveryEnglishKey).
TEST(DashboardView, EveryKeyTheScriptUsesExists) {
  const Asset* js = find_asset("dashboard.js");
  ASSERT_NE(js, nullptr);
  const std::string_view code = js->content;
  const Catalog& en = languages().english();
  int found = 0;
  for (std::string_view call : {"t('", "tp('"}) {
    for (auto at = code.find(call); at != std::string_view::npos; at = code.find(call, at + 1)) {
      if (at > 0 && (std::isalnum(static_cast<unsigned char>(code[at - 1])) || code[at - 1] == '_'))
        continue;  // another function whose name ends in t or tp
      const auto from = at + call.size();
      const std::string name(code.substr(from, code.find('\'', from) - from));
      if (call == "t('")
        EXPECT_TRUE(en.has_own(std::string(kKeyPrefix) + name)) << "dashboard." << name;
      else
        EXPECT_TRUE(en.has_own(std::string(kKeyPrefix) + name + "_other")) << name << "_other";
      ++found;
    }
  }
  EXPECT_GT(found, 40);
}

TEST(DashboardView, AdminUrlKeepsAnExplicitLanguage) {
  EXPECT_EQ(admin_url(""), "/admin");
  EXPECT_EQ(admin_url("ja"), "/admin?lang=ja");
}

}  // namespace
}  // namespace waitroom::web::dashboard
