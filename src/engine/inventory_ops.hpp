#pragma once
// The operations on a room's inventory (core::Room::inventory; docs/admission.md, "Inventory"),
// written once for both stores like those of engine/room_ops.hpp: an operator sets or adjusts the
// items left, and the site's completed sessions take what they bought off it (engine::end_session).
// Each change is an InventoryRecord with the items left after it; reaching 0 makes the room sold
// out, and items coming back open it again, in line order.
#include <cstdint>
#include <optional>

#include "core/error.hpp"
#include "core/room.hpp"
#include "engine/effects.hpp"
#include "engine/room_ops.hpp"

namespace waitroom::engine {

// POST .../inventory: exactly one of them.
struct InventoryChange {
  // Set to this many items; nullopt inside: the room counts items no more.
  std::optional<std::optional<std::uint64_t>> set;
  std::optional<std::int64_t> add;  // more (or, below 0, fewer) items
};

// Refused (conflict) when `add` would take the items below 0 or a room that counts none, or the
// count past core::kMaxInventory; (bad_request) for a set past it.
core::Result<InventoryView> change_inventory(core::Room& room, const OpContext& ctx,
                                             const InventoryChange& change, Effects& fx);
// Whether a completed session may take `consumed` items: the room counts items and has that many
// left (conflict otherwise). Checked before the session ends, so a refusal changes nothing.
core::Result<void> check_consumption(const core::Room& room, std::uint64_t consumed);
// Takes `consumed` items off (after check_consumption), with the session `ticket`'s end.
void consume(core::Room& room, const OpContext& ctx, std::uint64_t consumed,
             const std::string& ticket, Effects& fx);

}  // namespace waitroom::engine
