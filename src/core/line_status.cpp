#include "core/line_status.hpp"

namespace waitroom::core {

std::string_view to_string(LineReason reason) {
  switch (reason) {
    case LineReason::paused:
      return "paused";
    case LineReason::queue_all:
      return "queue_all";
    case LineReason::prequeue:
      return "prequeue";
    case LineReason::nobody_waiting:
      return "nobody_waiting";
    case LineReason::manual:
      return "manual";
    case LineReason::not_started:
      return "not_started";
    case LineReason::closed:
      return "closed";
    case LineReason::max_active:
      return "max_active";
    case LineReason::capacity:
      return "capacity";
    case LineReason::drawing_full:
      return "drawing_full";
    case LineReason::site_health:
      return "site_health";
    case LineReason::sold_out:
      return "sold_out";
    case LineReason::inventory_reserved:
      return "inventory_reserved";
  }
  return "paused";
}

}  // namespace waitroom::core
