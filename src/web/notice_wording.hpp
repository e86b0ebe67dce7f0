#pragma once
// Leave and come back: what the notifier's messages say ("almost your turn", "it's your turn"),
// in the language the visitor read the page in, from the page's own translations
// (src/web/assets/i18n/, the notify_* keys) or the room theme's wording of them
// (<theme_dir>/messages/<lang>.json, which goes first), with the link back to their place: the
// resume link (token/resume_token.hpp), which restores the place in any browser.
//
// The notifier (notify/) may not include web/, nor web/ notify/: app/ wraps this function into
// the notifier's Wording.
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "engine/notice_ops.hpp"
#include "web/site.hpp"

namespace waitroom::web {

struct NoticeWords {
  std::string title;       // a push notification's title, an e-mail's subject
  std::string body;        // one or two sentences
  std::string link;        // the resume link: absolute when public_base is set
  std::string room_title;  // the room's name (rooms have no title of their own)
  // For an e-mail: the link's words, and why the visitor gets the message.
  std::string link_label;
  std::string footer;
};
using NoticeWordingFn = std::function<NoticeWords(const engine::PendingNotice&)>;

// One of the messages the notices are worded with: its translation key and the placeholders its
// text may hold ("{room}"), as this file fills them.
struct NoticeMessage {
  std::string_view key;
  std::span<const std::string_view> placeholders;
};
// Every one of them, in a stable order.
std::span<const NoticeMessage> notice_messages();

// A theme's wording of the notices in one language (messages/<lang>.json): a flat JSON object of
// non-empty strings, each key one of notice_messages() and each "{name}" in a text one of that
// key's placeholders. Errors name `file` and the key: `file: "notify_turn_titel": not a ...`.
core::Result<std::map<std::string, std::string, std::less<>>> parse_notice_messages(
    std::string_view json_text, const std::string& file);

// `public_base`: where visitors reach this server ("https://queue.example.com", no trailing
// slash; empty: links are relative). `clock`: how long a turn's claim window has left. `site`
// and `clock` must outlive the function. Each text is the room's theme's (Site::theme_for) in the
// visitor's language when it has one, else the page's in that language, else English.
NoticeWordingFn make_notice_wording(const Site& site, std::string public_base,
                                    const core::Clock& clock);

}  // namespace waitroom::web
