#pragma once
// The page template language: a small, logic-less subset of Mustache, checked when the template
// is loaded so that a theme's mistakes show up at start (with the file and line), never in front
// of a visitor.
//
//   {{name}}              the variable's text, HTML-escaped
//   {{{name}}}            a server-built HTML fragment, inserted as is (only names the schema
//                         marks raw: the server escapes everything inside them)
//   {{#name}}...{{/name}} shown when the variable is set and not empty, or the flag is on
//   {{^name}}...{{/name}} shown when it is not
//   {{t:key}}             the translation of `key` in the page's language, HTML-escaped;
//                         `{name}` inside a translation is replaced by that variable's text
//   {{! comment }}        nothing
//
// Every name must be one the schema knows and every translation key one the translations have;
// anything else is a load error ("room.html:12: unknown variable 'postion'").
#include <expected>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace waitroom::web {

// Text made safe for HTML element content and attribute values (& < > " ').
std::string html_escape(std::string_view text);
void append_escaped(std::string& out, std::string_view text);

enum class VarKind { text, raw, flag };

struct TemplateSchema {
  std::map<std::string, VarKind, std::less<>> vars;
};

// What a template can translate: the page language's strings.
class Translations {
 public:
  virtual ~Translations() = default;
  virtual bool has(std::string_view key) const = 0;
  // The translation; empty when unknown.
  virtual std::string_view text(std::string_view key) const = 0;
};

// The values one rendering uses. Unset variables render as nothing and count as false.
class TemplateData {
 public:
  void set(std::string name, std::string value) { values_[std::move(name)] = std::move(value); }
  void flag(std::string name, bool on) {
    if (on)
      values_[std::move(name)] = "1";
    else
      values_.erase(name);
  }
  const std::string* get(std::string_view name) const {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
  }
  bool truthy(std::string_view name) const {
    const std::string* v = get(name);
    return v && !v->empty();
  }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

struct TemplateError {
  std::string file;
  int line = 0;
  std::string message;
  std::string to_string() const { return file + ":" + std::to_string(line) + ": " + message; }
};

// A translation's text with `{name}` placeholders replaced by the escaped values of `data`;
// the text itself is escaped too. Unknown placeholders are left as they are.
std::string expand_translation(std::string_view text, const TemplateData& data);

class Template {
 public:
  // Parses and checks `source`; `file` names it in errors.
  static std::expected<Template, TemplateError> parse(std::string_view source, std::string file,
                                                      const TemplateSchema& schema,
                                                      const Translations& translations);
  std::string render(const TemplateData& data, const Translations& translations) const;

 private:
  enum class Op { text, var, raw, translate, open, open_inverted, close };
  struct Node {
    Op op;
    std::string value;    // literal text, variable name or translation key
    std::size_t end = 0;  // for open nodes: the index of the matching close
  };
  std::vector<Node> nodes_;
};

}  // namespace waitroom::web
