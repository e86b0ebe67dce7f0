#include "web/template.hpp"

#include <algorithm>

#include "core/html_text.hpp"

namespace waitroom::web {

namespace {

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

bool is_key_char(char c) { return is_name_char(c) || c == '.' || c == '-'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

int line_at(std::string_view source, std::size_t offset) {
  return 1 + static_cast<int>(std::count(
                 source.begin(), source.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

std::string names_of_kind(const TemplateSchema& schema, VarKind kind) {
  std::string out;
  for (const auto& [name, k] : schema.vars) {
    if (k != kind) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  core::append_html_escaped(out, text);
}

std::string html_escape(std::string_view text) { return core::html_escape(text); }

std::string expand_translation(std::string_view text, const TemplateData& data) {
  std::string out;
  out.reserve(text.size() + 16);
  while (!text.empty()) {
    const auto open = text.find('{');
    if (open == std::string_view::npos) break;
    const auto close = text.find('}', open + 1);
    if (close == std::string_view::npos) break;
    append_escaped(out, text.substr(0, open));
    const std::string_view name = text.substr(open + 1, close - open - 1);
    const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), is_name_char);
    if (const std::string* v = valid ? data.get(name) : nullptr)
      append_escaped(out, *v);
    else
      append_escaped(out, text.substr(open, close - open + 1));
    text.remove_prefix(close + 1);
  }
  append_escaped(out, text);
  return out;
}

std::expected<Template, TemplateError> Template::parse(std::string_view source, std::string file,
                                                       const TemplateSchema& schema,
                                                       const Translations& translations) {
  Template t;
  auto error = [&](std::size_t offset, std::string message) {
    return std::unexpected(TemplateError{file, line_at(source, offset), std::move(message)});
  };
  // Open sections: (node index, offset of the tag) so a missing close names where it opened.
  std::vector<std::pair<std::size_t, std::size_t>> open;
  std::size_t pos = 0;
  while (pos < source.size()) {
    const auto tag = source.find("{{", pos);
    if (tag == std::string_view::npos) {
      t.nodes_.push_back({Op::text, std::string(source.substr(pos))});
      break;
    }
    if (tag > pos) t.nodes_.push_back({Op::text, std::string(source.substr(pos, tag - pos))});
    const bool triple = source.substr(tag, 3) == "{{{";
    const std::string_view closer = triple ? "}}}" : "}}";
    const std::size_t body_at = tag + (triple ? 3 : 2);
    const auto end = source.find(closer, body_at);
    if (end == std::string_view::npos)
      return error(tag, std::string("'") + (triple ? "{{{" : "{{") + "' is never closed");
    const std::string_view inner = source.substr(body_at, end - body_at);
    if (inner.find("{{") != std::string_view::npos)
      return error(tag, "'{{' inside a tag: a tag is never closed");
    std::string_view body = trim(inner);
    pos = end + closer.size();
    if (body.empty()) return error(tag, "empty tag");
    // Mustache's "standalone" rule: a section or comment tag alone on its line takes the line
    // with it, so the template's layout does not leave blank lines in the page.
    if (!triple && (body.front() == '#' || body.front() == '^' || body.front() == '/' ||
                    body.front() == '!')) {
      const auto line_start = tag == 0 ? std::string_view::npos : source.rfind('\n', tag - 1);
      const std::size_t from = line_start == std::string_view::npos ? 0 : line_start + 1;
      const bool blank_before =
          source.substr(from, tag - from).find_first_not_of(" \t") == std::string_view::npos;
      const auto line_end = source.find('\n', pos);
      const std::size_t to = line_end == std::string_view::npos ? source.size() : line_end;
      const bool blank_after =
          source.substr(pos, to - pos).find_first_not_of(" \t\r") == std::string_view::npos;
      if (blank_before && blank_after) {
        if (!t.nodes_.empty() && t.nodes_.back().op == Op::text) {
          std::string& text = t.nodes_.back().value;
          text.erase(text.size() - (tag - from));
        }
        pos = line_end == std::string_view::npos ? source.size() : line_end + 1;
      }
    }

    if (triple) {
      auto it = schema.vars.find(body);
      if (it == schema.vars.end())
        return error(tag, "unknown variable '" + std::string(body) + "'");
      if (it->second != VarKind::raw)
        return error(tag, "'" + std::string(body) + "' is text: write {{" + std::string(body) +
                              "}} ({{{...}}} is only for the server-built fragments: " +
                              names_of_kind(schema, VarKind::raw) + ")");
      t.nodes_.push_back({Op::raw, std::string(body)});
      continue;
    }
    const char sigil = body.front();
    if (sigil == '!') continue;
    if (body.starts_with("t:")) {
      const std::string_view key = trim(body.substr(2));
      if (key.empty() || !std::all_of(key.begin(), key.end(), is_key_char))
        return error(tag, "'" + std::string(body) + "' is not a translation key");
      if (!translations.has(key))
        return error(tag, "unknown translation key '" + std::string(key) + "'");
      t.nodes_.push_back({Op::translate, std::string(key)});
      continue;
    }
    std::string_view name = body;
    if (sigil == '#' || sigil == '^' || sigil == '/') name = trim(body.substr(1));
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char))
      return error(tag, "'" + std::string(body) + "' is not a tag: names are a-z, 0-9 and _");
    auto it = schema.vars.find(name);
    if (it == schema.vars.end()) return error(tag, "unknown variable '" + std::string(name) + "'");
    if (sigil == '#' || sigil == '^') {
      open.emplace_back(t.nodes_.size(), tag);
      t.nodes_.push_back({sigil == '#' ? Op::open : Op::open_inverted, std::string(name)});
    } else if (sigil == '/') {
      if (open.empty()) return error(tag, "{{/" + std::string(name) + "}} closes no section");
      Node& opener = t.nodes_[open.back().first];
      if (opener.value != name)
        return error(tag, "{{/" + std::string(name) + "}} closes '" + opener.value +
                              "', opened on line " +
                              std::to_string(line_at(source, open.back().second)));
      opener.end = t.nodes_.size();
      open.pop_back();
      t.nodes_.push_back({Op::close, std::string(name)});
    } else if (it->second == VarKind::raw) {
      return error(tag, "'" + std::string(name) + "' is an HTML fragment: write {{{" +
                            std::string(name) + "}}}");
    } else if (it->second == VarKind::flag) {
      return error(tag, "'" + std::string(name) + "' is a flag: use it as {{#" + std::string(name) +
                            "}}...{{/" + std::string(name) + "}}");
    } else {
      t.nodes_.push_back({Op::var, std::string(name)});
    }
  }
  if (!open.empty())
    return error(open.back().second,
                 "section '" + t.nodes_[open.back().first].value + "' is never closed");
  return t;
}

std::string Template::render(const TemplateData& data, const Translations& translations) const {
  std::string out;
  out.reserve(8192);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    switch (n.op) {
      case Op::text:
        out += n.value;
        break;
      case Op::var:
        if (const std::string* v = data.get(n.value)) append_escaped(out, *v);
        break;
      case Op::raw:
        if (const std::string* v = data.get(n.value)) out += *v;
        break;
      case Op::translate:
        out += expand_translation(translations.text(n.value), data);
        break;
      case Op::open:
        if (!data.truthy(n.value)) i = n.end;
        break;
      case Op::open_inverted:
        if (data.truthy(n.value)) i = n.end;
        break;
      case Op::close:
        break;
    }
  }
  return out;
}

}  // namespace waitroom::web
