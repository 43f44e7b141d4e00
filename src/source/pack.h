#pragma once
// A pack: the messages of one physical channel between two time ticks, as Milvus's
// MqTtMsgStream groups them (see packer.h), or one replicate-channel request.
#include <cstdint>
#include <string>
#include <vector>

#include "source/message.h"

namespace cdc::source {

struct Pack {
  std::string channel;         // physical channel (topic base name)
  uint64_t begin_ts = 0;       // previous time tick (0 before the first)
  uint64_t end_ts = 0;         // this time tick
  std::vector<Message> msgs;   // time ticks excluded; in channel order
  MsgPosition start_position;  // where the previous pack ended (empty msgID at the very start)
  MsgPosition end_position;    // resume here to continue right after this pack
  // Messages that could not be decoded, or of a type a DML channel should not carry, each
  // described with topic and offset. Undecodable ones are not in `msgs`: the consumer must
  // treat a non-empty list as an error it reports (never as "nothing happened").
  std::vector<std::string> errors;
};

}  // namespace cdc::source
