#pragma once
// Where audit events go. Producers call publish() on the request path, often while holding a
// room's lock, so an implementation must never block on I/O there: queue and return.
#include "ops/audit_event.hpp"

namespace waitroom::ops {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Takes a copy of what it needs; must be safe to call from many threads at once and must not
  // wait on the network, the disk or a slow consumer (drop and count instead).
  virtual void publish(const Event& event) = 0;
};

}  // namespace waitroom::ops
