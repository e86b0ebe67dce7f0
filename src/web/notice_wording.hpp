#pragma once
// Leave and come back: what the notifier's messages say ("almost your turn", "it's your turn"),
// in the language the visitor read the page in, from the page's own translations
// (src/web/assets/i18n/, the notify_* keys), with the link back to their place: the resume link
// (web/resume_token.hpp), which restores the place in any browser.
//
// The notifier (notify/) may not include web/, nor web/ notify/: app/ wraps this function into
// the notifier's Wording.
#include <functional>
#include <string>

#include "core/clock.hpp"
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

// `public_base`: where visitors reach this server ("https://queue.example.com", no trailing
// slash; empty: links are relative). `clock`: how long a turn's claim window has left. `site`
// and `clock` must outlive the function.
NoticeWordingFn make_notice_wording(const Site& site, std::string public_base,
                                    const core::Clock& clock);

}  // namespace waitroom::web
