#include "source/channel_reader.h"

#include "absl/strings/str_cat.h"
#include "source/position.h"

namespace cdc::source {

std::string SubscriptionName(std::string_view owner, std::string_view channel) {
  return absl::StrCat("cdc-", AbslView(owner), "-", AbslView(channel));
}

}  // namespace cdc::source
