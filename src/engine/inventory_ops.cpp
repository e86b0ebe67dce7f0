#include "engine/inventory_ops.hpp"

#include <string>

#include "engine/room_reads.hpp"

namespace waitroom::engine {

using core::ErrorCode;
using core::fail;

namespace {

// Records the new count and tells of it: the change, and the room selling out or opening again.
// Ticket statuses show sold_out, so event streams are told too.
void record_left(core::Room& rm, const OpContext& ctx, std::optional<std::uint64_t> left,
                 std::string_view reason, const std::string* ticket, Effects& fx) {
  const std::optional<std::uint64_t> before = rm.inventory();
  const bool was_sold_out = rm.sold_out();
  rm.set_inventory(left);
  fx.record(InventoryRecord{rm.name(), left});
  fx.changed = true;
  const std::int64_t now_ms = ctx.clock.now_ms();
  auto count = [](const std::optional<std::uint64_t>& v) {
    return v ? boost::json::value(*v) : boost::json::value(nullptr);
  };
  boost::json::object data{{"left", count(left)}, {"previous", count(before)}, {"reason", reason}};
  if (ticket) data["ticket"] = *ticket;
  fx.event(rm.name(), "inventory.changed", std::move(data), now_ms);
  if (!was_sold_out && rm.sold_out())
    fx.event(rm.name(), "room.sold_out", {{"waiting", rm.waiting_count()}}, now_ms);
  else if (was_sold_out && !rm.sold_out())
    fx.event(rm.name(), "room.reopened", {{"left", count(left)}, {"waiting", rm.waiting_count()}},
             now_ms);
}

}  // namespace

core::Result<InventoryView> change_inventory(core::Room& rm, const OpContext& ctx,
                                             const InventoryChange& change, Effects& fx) {
  std::optional<std::uint64_t> left;
  std::string_view reason;
  if (change.set) {
    if (*change.set && **change.set > core::kMaxInventory)
      return fail(ErrorCode::bad_request,
                  "set must be at most " + std::to_string(core::kMaxInventory) + " items");
    left = *change.set;
    reason = "set";
  } else {
    if (!rm.inventory())
      return fail(ErrorCode::conflict,
                  "the room counts no items: set its inventory first ({\"set\": n})");
    const auto have = static_cast<std::int64_t>(*rm.inventory());
    const std::int64_t add = change.add.value_or(0);
    if (add < 0 && -add > have)
      return fail(ErrorCode::conflict, "only " + std::to_string(have) + " items are left: " +
                                           std::to_string(-add) + " cannot be taken off");
    if (add > 0 && static_cast<std::uint64_t>(have + add) > core::kMaxInventory)
      return fail(ErrorCode::conflict,
                  "at most " + std::to_string(core::kMaxInventory) + " items are counted");
    left = static_cast<std::uint64_t>(have + add);
    reason = "add";
  }
  if (left != rm.inventory()) record_left(rm, ctx, left, reason, nullptr, fx);
  return inventory_view(rm, ctx.clock.now_s());
}

core::Result<void> check_consumption(const core::Room& rm, std::uint64_t consumed) {
  if (consumed == 0) return {};
  if (!rm.inventory())
    return fail(ErrorCode::conflict, "the room counts no items, so none can be consumed");
  if (consumed > *rm.inventory())
    return fail(ErrorCode::conflict, "only " + std::to_string(*rm.inventory()) +
                                         " items are left: " + std::to_string(consumed) +
                                         " cannot be sold");
  return {};
}

void consume(core::Room& rm, const OpContext& ctx, std::uint64_t consumed,
             const std::string& ticket, Effects& fx) {
  if (consumed == 0 || !rm.inventory() || consumed > *rm.inventory()) return;
  record_left(rm, ctx, *rm.inventory() - consumed, "consumed", &ticket, fx);
}

}  // namespace waitroom::engine
