#include "web/template.hpp"

#include <gtest/gtest.h>

namespace waitroom::web {
namespace {

class MapTranslations : public Translations {
 public:
  std::map<std::string, std::string, std::less<>> strings;
  bool has(std::string_view key) const override { return strings.contains(key); }
  std::string_view text(std::string_view key) const override {
    auto it = strings.find(key);
    return it == strings.end() ? std::string_view{} : std::string_view(it->second);
  }
};

TemplateSchema schema() {
  return TemplateSchema{{{"name", VarKind::text},
                         {"html", VarKind::raw},
                         {"on", VarKind::flag},
                         {"n", VarKind::text}}};
}

MapTranslations translations() {
  MapTranslations t;
  t.strings = {{"hello", "Hello, {name}!"}, {"plain", "a < b"}};
  return t;
}

std::string render(std::string_view source, const TemplateData& data) {
  const MapTranslations t = translations();
  auto parsed = Template::parse(source, "t.html", schema(), t);
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().to_string());
  return parsed ? parsed->render(data, t) : "";
}

TemplateError error_of(std::string_view source) {
  const MapTranslations t = translations();
  auto parsed = Template::parse(source, "themes/x/room.html", schema(), t);
  EXPECT_FALSE(parsed.has_value());
  return parsed ? TemplateError{} : parsed.error();
}

TEST(Template, EscapesVariablesAndKeepsRawFragments) {
  TemplateData d;
  d.set("name", "<b>\"Tom\" & 'Jerry'</b>");
  d.set("html", "<em>ok</em>");
  EXPECT_EQ(render("[{{name}}] [{{{html}}}] [{{ name }}]", d),
            "[&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;] [<em>ok</em>] "
            "[&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;]");
}

TEST(Template, SectionsShowOnFlagsAndNonEmptyValues) {
  TemplateData d;
  d.flag("on", true);
  d.set("n", "0");
  EXPECT_EQ(
      render("{{#on}}A{{/on}}{{^on}}B{{/on}}{{#name}}C{{/name}}{{^name}}D{{/name}}{{#n}}E{{/n}}",
             d),
      "ADE");
  d.flag("on", false);
  d.set("name", "");
  EXPECT_EQ(render("{{#on}}A{{/on}}{{^on}}B{{/on}}{{#name}}C{{/name}}{{^name}}D{{/name}}", d),
            "BD");
}

TEST(Template, NestedSections) {
  TemplateData d;
  d.flag("on", true);
  EXPECT_EQ(render("{{#on}}1{{#name}}2{{/name}}3{{^name}}4{{#on}}5{{/on}}{{/name}}{{/on}}", d),
            "1345");
}

TEST(Template, TranslationsAreEscapedAndFilledFromTheData) {
  TemplateData d;
  d.set("name", "<Ann>");
  EXPECT_EQ(render("{{t:hello}} {{t:plain}}", d), "Hello, &lt;Ann&gt;! a &lt; b");
}

TEST(Template, CommentsAndStandaloneTagLinesLeaveNothing) {
  TemplateData d;
  d.flag("on", true);
  EXPECT_EQ(render("{{! a comment }}\n<ul>\n  {{#on}}\n  <li>x</li>\n  {{/on}}\n  {{^on}}\n  "
                   "<li>y</li>\n  {{/on}}\n</ul>\n",
                   d),
            "<ul>\n  <li>x</li>\n</ul>\n");
  EXPECT_EQ(render("a {{#on}}b{{/on}} c\n", d), "a b c\n");  // inline tags keep their line
}

TEST(Template, ErrorsNameTheFileAndLine) {
  auto e = error_of("<p>\n\n  {{postion}}</p>");
  EXPECT_EQ(e.to_string(), "themes/x/room.html:3: unknown variable 'postion'");
  EXPECT_EQ(error_of("\n{{#on}}x").to_string(),
            "themes/x/room.html:2: section 'on' is never closed");
  EXPECT_EQ(error_of("{{#on}}\n{{/name}}").to_string(),
            "themes/x/room.html:2: {{/name}} closes 'on', opened on line 1");
  EXPECT_EQ(error_of("x {{/on}}").to_string(), "themes/x/room.html:1: {{/on}} closes no section");
  EXPECT_EQ(error_of("a\nb {{name").to_string(), "themes/x/room.html:2: '{{' is never closed");
  EXPECT_EQ(error_of("{{t:nope}}").message, "unknown translation key 'nope'");
  EXPECT_EQ(error_of("{{}}").message, "empty tag");
  EXPECT_EQ(error_of("{{Name}}").message, "'Name' is not a tag: names are a-z, 0-9 and _");
}

TEST(Template, RawOnlyWhereTheSchemaSaysSo) {
  EXPECT_EQ(
      error_of("{{{name}}}").message,
      "'name' is text: write {{name}} ({{{...}}} is only for the server-built fragments: html)");
  EXPECT_EQ(error_of("{{html}}").message, "'html' is an HTML fragment: write {{{html}}}");
  EXPECT_EQ(error_of("{{on}}").message, "'on' is a flag: use it as {{#on}}...{{/on}}");
}

TEST(Template, UnsetVariablesRenderAsNothing) {
  EXPECT_EQ(render("[{{name}}][{{{html}}}]", TemplateData{}), "[][]");
}

TEST(Template, ExpandTranslationLeavesUnknownPlaceholders) {
  TemplateData d;
  d.set("n", "5");
  EXPECT_EQ(expand_translation("{n} of {total} & {", d), "5 of {total} &amp; {");
}

}  // namespace
}  // namespace waitroom::web
