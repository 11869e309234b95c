#include "stream/plan.h"

#include <fmt/format.h>

#include <unordered_map>

#include "model/codec.h"

namespace dynarep::stream {

Plan plan_batch(const std::vector<ChangeInput>& inputs, const model::KeySchema& schema, const PlanOptions& opt) {
  Plan p;
  std::unordered_map<std::string, size_t> by_key;  // canonical bytes of the key -> actions index
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ChangeInput& in = inputs[i];
    if (!in.change.ok()) {
      p.rejected.push_back({i, "record does not parse: " + in.change.error().describe()});
      continue;
    }
    const ChangeRecord& c = *in.change;
    if (opt.in_window) {
      auto t = in.event_time();
      if (!t) {
        p.unknown_time.push_back(i);
      } else if (!opt.in_window(*t)) {
        p.skipped.push_back(i);
        continue;
      }
    }
    auto key = model::extract_key(c.keys, schema);
    if (!key.ok()) {
      p.rejected.push_back({i, "key schema mismatch: " + key.error().describe()});
      continue;
    }
    if (key->size() != c.keys.size()) {
      p.rejected.push_back({i, fmt::format("key schema mismatch: Keys {} has attributes that are not part of the "
                                           "table's key",
                                           model::canonical_key_json(c.keys))});
      continue;
    }

    KeyAction::Kind kind = KeyAction::Kind::kRead;
    std::optional<model::Item> image;
    const bool keys_only = c.source == kSourceKinesisKeysOnly || c.stream_view_type == "KEYS_ONLY";
    // Late and duplicated by design (see the header): the primary decides, when we have one.
    const bool unordered = c.source == kSourceKinesisForDynamoDb;
    if (opt.reread || keys_only || (unordered && opt.have_primary)) {
      kind = KeyAction::Kind::kRead;
    } else if (c.event == ChangeRecord::Event::kRemove) {
      kind = KeyAction::Kind::kDelete;
    } else if (c.new_image) {
      std::string bad;
      auto image_key = model::extract_key(*c.new_image, schema);
      if (!image_key.ok()) {
        bad = "NewImage lacks the key: " + image_key.error().describe();
      } else if (!(*image_key == *key)) {
        bad = fmt::format("NewImage key {} differs from Keys {}", model::canonical_key_json(*image_key),
                          model::canonical_key_json(*key));
      } else if (size_t size = model::item_size(*c.new_image); size > model::kMaxItemSize) {
        bad = fmt::format("item too large: NewImage is {} bytes (limit {})", size, model::kMaxItemSize);
      }
      if (!bad.empty()) {
        p.rejected.push_back({i, bad});
        if (!opt.have_primary) continue;
        kind = KeyAction::Kind::kRead;  // the primary still knows the item's state
      } else {
        kind = KeyAction::Kind::kPut;
        image = *c.new_image;
      }
    } else {
      kind = KeyAction::Kind::kRead;  // OLD_IMAGE or KEYS_ONLY view: only the primary knows
    }
    if (kind == KeyAction::Kind::kRead && !opt.have_primary) {
      p.rejected.push_back({i, "the record carries no image and no primary table is configured to read the item from"});
      continue;
    }

    std::string bytes = model::canonical_bytes(*key);
    auto [it, fresh] = by_key.try_emplace(std::move(bytes), p.actions.size());
    if (fresh) {
      p.actions.push_back(KeyAction{kind, std::move(key).value(), std::move(image), i, {i}});
    } else {
      KeyAction& a = p.actions[it->second];
      ++p.superseded;
      a.inputs.push_back(i);
      // Without a primary, unordered records are applied from their images: the newest by
      // ApproximateCreationDateTime wins, not the last to arrive.
      if (unordered && kind != KeyAction::Kind::kRead && inputs[a.input].change.ok()) {
        auto mine = c.approximate_creation_time;
        auto theirs = inputs[a.input].change->approximate_creation_time;
        if (mine && theirs && *mine < *theirs) continue;
      }
      a.kind = kind;
      a.image = std::move(image);
      a.input = i;
    }
  }
  return p;
}

}  // namespace dynarep::stream
