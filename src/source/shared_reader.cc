#include "source/shared_reader.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "source/pack_queue.h"

namespace cdc::source {
namespace {

std::string HubKey(const ReaderOptions& o) {
  return absl::StrCat(o.kind == ChannelKind::kDml ? "dml/" : "replicate/", o.channel);
}

// Two positions name the same point of a channel: the same MQ id and time (a seek to either
// reproduces the same packs). The group is the reader's, not the channel's.
bool SamePoint(const MsgPosition& a, const MsgPosition& b) {
  return a.msgid() == b.msgid() && a.timestamp() == b.timestamp() &&
         a.channel_name() == b.channel_name();
}

void AddCounts(ReaderStats& to, const ReaderStats& from) {
  to.messages += from.messages;
  to.bytes += from.bytes;
  to.packs += from.packs;
  to.bad_messages += from.bad_messages;
  to.skipped += from.skipped;
  to.filtered += from.filtered;
  to.pauses += from.pauses;
}

}  // namespace

struct SharedReaders::Hub {
  struct Entry {
    MsgPosition after;  // the end position of the pack before it
    std::shared_ptr<const Pack> pack;
    size_t bytes = 0;
  };

  ReaderOptions options;
  std::thread pump;
  std::mutex mu;               // guards the fields below; taken before a member's
  std::condition_variable cv;  // stop, and the end of `notifying`
  // While the pump runs members' on-pack callbacks, without `mu` (a callback may take a lock
  // under which its consumer reads stats(), which takes `mu`). A closing member waits until it
  // is false, so no callback of it runs after Close().
  bool notifying = false;
  std::shared_ptr<ChannelReader> reader;  // null while (re)opening
  std::deque<Entry> history;
  size_t history_bytes = 0;
  std::optional<MsgPosition> last_end;  // of the newest pack read
  std::set<Member*> members;            // joined
  std::string reason;                   // why the shared reader is not reading, if so
  size_t users = 0;                     // members attached (SharedReaders::mu_)
  bool stop = false;
  // Where the shared reader is first opened (pump thread): the channel's end, or for the
  // replicate channel, whose requests are rare, where its first member starts (tasks created
  // together start at the same point there and read it together from the first moment).
  StartPosition first_start = StartPosition::Latest();
};

class SharedReaders::Member final : public ChannelReader {
 public:
  Member(SharedReaders* owner, ReaderOptions options)
      : owner_(owner),
        options_(std::move(options)),
        group_(SubscriptionName(options_.owner, options_.channel)),
        queue_(options_.max_queued_packs, options_.max_queued_bytes) {}
  ~Member() override { Close(); }

  Status Start(const StartPosition& start) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (mode_ != Mode::kIdle) {
        return FailedPreconditionError("reader for " + channel() + " started twice");
      }
      mode_ = Mode::kAlone;
    }
    hub_ = owner_->Attach(options_, start);
    if (start.kind == StartPosition::Kind::kPosition) last_end_ = start.position;
    if (TryJoin()) return OkStatus();  // the shared reader is where we start
    return OpenAlone(start);
  }

  Result<std::optional<Pack>> Next(std::chrono::milliseconds timeout) override {
    for (;;) {
      Mode mode;
      {
        std::lock_guard<std::mutex> l(mu_);
        mode = mode_;
      }
      switch (mode) {
        case Mode::kIdle:
          return FailedPreconditionError("reader for " + channel() + " not started");
        case Mode::kClosed:
          return absl::CancelledError("reader for " + channel() + " closed");
        case Mode::kJoined:
        case Mode::kLeaving: {
          auto p = queue_.Pop(mode == Mode::kJoined ? timeout : std::chrono::milliseconds(0));
          if (p.has_value()) return Took(std::move(*p), true);
          if (mode == Mode::kJoined) return std::optional<Pack>();
          // Left and drained: on our own from the end of the last pack taken.
          RETURN_IF_ERROR(OpenAlone(StartPosition::At(*last_end_)));
          continue;
        }
        case Mode::kAlone: {
          if (TryJoin()) continue;
          std::shared_ptr<ChannelReader> own;
          {
            std::lock_guard<std::mutex> l(mu_);
            own = own_;
          }
          if (!own) return absl::CancelledError("reader for " + channel() + " closed");
          ASSIGN_OR_RETURN(auto p, own->Next(timeout));
          if (!p.has_value()) return p;
          return Took(std::move(*p), false);
        }
      }
    }
  }

  ReaderStats stats() const override {
    ReaderStats s;
    bool joined = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      s = counts_;
      if (own_) {
        const ReaderStats o = own_->stats();
        AddCounts(s, o);
        s.next_offset = o.next_offset;
        s.latest_offset = o.latest_offset;
        s.reason = o.reason;
      }
      joined = mode_ == Mode::kJoined || mode_ == Mode::kLeaving;
    }
    if (joined && hub_) {
      std::shared_ptr<ChannelReader> shared;
      {
        std::lock_guard<std::mutex> l(hub_->mu);
        shared = hub_->reader;
        s.reason = hub_->reason;
      }
      if (shared) {
        const ReaderStats h = shared->stats();
        s.latest_offset = h.latest_offset;
        if (s.reason.empty()) s.reason = h.reason;
      }
    }
    return s;
  }

  int64_t MessagesAfter(const MsgPosition& position) const override {
    std::shared_ptr<ChannelReader> r;
    {
      std::lock_guard<std::mutex> l(mu_);
      r = own_;
    }
    if (!r && hub_) {
      std::lock_guard<std::mutex> l(hub_->mu);
      r = hub_->reader;
    }
    return r ? r->MessagesAfter(position) : -1;
  }

  void Close() override {
    std::shared_ptr<ChannelReader> own;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (mode_ == Mode::kClosed) return;
      mode_ = Mode::kClosed;
      own = std::move(own_);
    }
    queue_.Close();
    if (hub_) {
      std::unique_lock<std::mutex> l(hub_->mu);
      hub_->members.erase(this);
      // A wake-up of this member in flight ends before we do.
      hub_->cv.wait(l, [this] { return !hub_->notifying; });
    }
    if (own) own->Close();
    if (hub_) owner_->Detach(hub_);
  }

  const std::string& channel() const override { return options_.channel; }

  // The shared reader's next pack (hub mutex held). false: this member no longer takes packs
  // (it left as its queue is full, or it closed); the hub forgets it.
  // The consumer is to be woken (a pack, or a leave) by the caller, once the hub's mutex is
  // released (NotifyConsumer, while the hub is `notifying`).
  bool Offer(const Pack& pack) {
    std::lock_guard<std::mutex> l(mu_);
    if (mode_ != Mode::kJoined) return false;
    uint64_t dropped = 0;
    Pack mine = Filtered(pack, &dropped);
    const bool content = HasContent(mine);
    if (queue_.TryPush(std::move(mine))) {
      counts_.filtered += dropped;
      wake_content_ = content;
      return true;
    }
    mode_ = Mode::kLeaving;
    wake_content_ = true;
    owner_->leaves_.fetch_add(1);
    spdlog::info(
        "task {}: {} is read on its own from the end of its queue until it catches up with the "
        "server's shared reader (its queue was full: the task is behind the channel)",
        options_.owner, channel());
    return false;
  }

  // The shared reader stopped (hub mutex held): take what is queued, then read alone. The
  // consumer is to be woken as after Offer.
  void Leave() {
    std::lock_guard<std::mutex> l(mu_);
    if (mode_ == Mode::kJoined) mode_ = Mode::kLeaving;
    wake_content_ = true;  // the consumer must read on its own: wake it at once
  }

  // The hub is `notifying`; its mutex is not held.
  void NotifyConsumer() {
    bool content;
    {
      std::lock_guard<std::mutex> l(mu_);
      content = wake_content_;
    }
    if (on_pack_) on_pack_(content);
  }

 private:
  enum class Mode { kIdle, kAlone, kJoined, kLeaving, kClosed };

  Status OpenAlone(const StartPosition& start) {
    ReaderOptions o = options_;
    o.filter = filter_;
    ASSIGN_OR_RETURN(std::unique_ptr<ChannelReader> r, owner_->open_(o));
    r->SetFilter(filter_);
    r->SetOnPack(on_pack_);
    RETURN_IF_ERROR(r->Start(start));
    std::lock_guard<std::mutex> l(mu_);
    if (mode_ == Mode::kClosed) {
      r->Close();
      return absl::CancelledError("reader for " + channel() + " closed");
    }
    own_ = std::move(r);
    mode_ = Mode::kAlone;
    return OkStatus();
  }

  // Consumer thread, alone: joins the shared reader if it holds the pack after our last one.
  bool TryJoin() {
    if (!last_end_ || !hub_) return false;
    std::shared_ptr<ChannelReader> own;
    size_t taken = 0;
    {
      std::lock_guard<std::mutex> h(hub_->mu);
      if (hub_->stop || !hub_->reader) return false;
      auto it = hub_->history.begin();
      while (it != hub_->history.end() && !SamePoint(it->after, *last_end_)) ++it;
      // Not among the recent packs: joined all the same if the shared reader's next pack is ours
      // (both at the same point, e.g. at the channel's end).
      if (it == hub_->history.end() &&
          !(hub_->last_end.has_value() && SamePoint(*hub_->last_end, *last_end_))) {
        return false;
      }
      std::lock_guard<std::mutex> l(mu_);
      if (mode_ != Mode::kAlone) return false;
      uint64_t dropped = 0;
      for (; it != hub_->history.end(); ++it, ++taken) {
        // Beyond the queue's limits only if the history is larger: then join on the next try.
        if (!queue_.TryPush(Filtered(*it->pack, &dropped))) break;
      }
      if (it != hub_->history.end()) {
        while (queue_.Pop(std::chrono::milliseconds(0)).has_value()) {
        }
        return false;
      }
      counts_.filtered += dropped;
      hub_->members.insert(this);
      mode_ = Mode::kJoined;
      if (own_) AddCounts(counts_, own_->stats());
      own = std::move(own_);
    }
    owner_->joins_.fetch_add(1);
    spdlog::info(
        "task {}: {} is read through the server's shared reader from here on ({} recent "
        "packs taken from it)",
        options_.owner, channel(), taken);
    if (own) own->Close();
    return true;
  }

  // The shared pack as this member sees it: its filter applied (the messages it drops added to
  // *dropped), its group in the positions.
  Pack Filtered(const Pack& pack, uint64_t* dropped) const {
    Pack p;
    p.channel = pack.channel;
    p.begin_ts = pack.begin_ts;
    p.end_ts = pack.end_ts;
    p.start_position = pack.start_position;
    p.end_position = pack.end_position;
    if (options_.kind == ChannelKind::kDml) p.end_position.set_msggroup(group_);
    p.errors = pack.errors;
    p.msgs.reserve(pack.msgs.size());
    for (const auto& m : pack.msgs) {
      if (filter_ != nullptr && m.header.collection_id != 0 &&
          filter_->Ignored(m.header.collection_id)) {
        ++*dropped;
        continue;
      }
      p.msgs.push_back(m);
    }
    return p;
  }

  // A pack handed to the consumer: remembered as the last one, counted when it came shared.
  Result<std::optional<Pack>> Took(Pack p, bool shared) {
    last_end_ = p.end_position;
    if (shared) {
      std::lock_guard<std::mutex> l(mu_);
      ++counts_.packs;
      counts_.messages += p.msgs.size();
      counts_.bytes += PackBytes(p);
      counts_.bad_messages += p.errors.size();
    }
    return std::optional<Pack>(std::move(p));
  }

  SharedReaders* const owner_;
  const ReaderOptions options_;
  const std::string group_;
  std::shared_ptr<Hub> hub_;             // set by Start
  PackQueue queue_;                      // packs from the shared reader
  std::optional<MsgPosition> last_end_;  // consumer thread: end of the last pack handed out
  mutable std::mutex mu_;                // guards the fields below; taken after the hub's
  Mode mode_ = Mode::kIdle;
  bool wake_content_ = true;            // what the pending NotifyConsumer passes (see SetOnPack)
  std::shared_ptr<ChannelReader> own_;  // reading alone
  ReaderStats counts_;                  // of closed own readers and shared packs
};

SharedReaders::SharedReaders(Opener open, SharedReadersOptions options)
    : open_(std::move(open)), options_(std::move(options)) {}

SharedReaders::~SharedReaders() {
  std::map<std::string, std::shared_ptr<Hub>> hubs;
  {
    std::lock_guard<std::mutex> l(mu_);
    hubs.swap(hubs_);
  }
  for (auto& [key, hub] : hubs) {
    hub->users = 1;
    Detach(hub);
  }
}

std::unique_ptr<ChannelReader> SharedReaders::Open(const ReaderOptions& options) {
  return std::make_unique<Member>(this, options);
}

std::shared_ptr<SharedReaders::Hub> SharedReaders::Attach(const ReaderOptions& options,
                                                          const StartPosition& start) {
  std::lock_guard<std::mutex> l(mu_);
  auto& hub = hubs_[HubKey(options)];
  if (hub) {
    ++hub->users;
    return hub;
  }
  hub = std::make_shared<Hub>();
  hub->options = options;
  hub->options.owner = options_.owner;
  hub->options.filter = nullptr;
  hub->options.max_queued_bytes = options_.max_queued_bytes;
  hub->users = 1;
  if (options.kind == ChannelKind::kReplicate && start.kind == StartPosition::Kind::kPosition) {
    hub->first_start = start;
  }
  hub->pump = std::thread([this, h = hub.get()] {
    NameThread(absl::StrCat("pump-", Tail(h->options.channel, 10)));
    // Runs until Detach stops it; the hub outlives the thread (Detach joins it).
    while (true) {
      std::shared_ptr<ChannelReader> reader;
      {
        std::lock_guard<std::mutex> g(h->mu);
        if (h->stop) return;
        reader = h->reader;
      }
      if (!reader) {
        StartPosition start;
        {
          std::lock_guard<std::mutex> g(h->mu);
          start = h->first_start;
          h->first_start = StartPosition::Latest();  // a reopen after a failure: the end
        }
        auto r = open_(h->options);
        Status s = r.ok() ? (*r)->Start(start) : r.status();
        std::unique_lock<std::mutex> g(h->mu);
        if (s.ok()) {
          h->reader = std::move(*r);
          h->reason.clear();
          // Its first pack follows the start position (a seek reproduces the packs after it).
          if (start.kind == StartPosition::Kind::kPosition) h->last_end = start.position;
          continue;
        }
        h->reason = absl::StrCat("open the shared reader: ", s.message(), "; retrying");
        spdlog::warn("read {}: {}", h->options.channel, h->reason);
        h->cv.wait_for(g, options_.reopen_delay, [h] { return h->stop; });
        continue;
      }
      auto p = reader->Next(std::chrono::milliseconds(200));
      if (!p.ok()) {
        std::unique_lock<std::mutex> g(h->mu);
        if (h->stop) return;
        h->reason = absl::StrCat("the shared reader failed: ", p.status().message(),
                                 "; tasks read on their own until it is open again");
        spdlog::warn("read {}: {}", h->options.channel, h->reason);
        // Its members take what they have queued, then read on their own.
        std::vector<Member*> woken(h->members.begin(), h->members.end());
        for (Member* m : woken) m->Leave();
        h->members.clear();
        h->history.clear();
        h->history_bytes = 0;
        h->last_end.reset();
        h->reader.reset();
        h->notifying = true;
        g.unlock();
        for (Member* m : woken) m->NotifyConsumer();
        reader->Close();
        g.lock();
        h->notifying = false;
        h->cv.notify_all();
        h->cv.wait_for(g, options_.reopen_delay, [h] { return h->stop; });
        continue;
      }
      if (!p->has_value()) continue;
      auto pack = std::make_shared<const Pack>(std::move(**p));
      std::unique_lock<std::mutex> g(h->mu);
      if (h->last_end) {
        const size_t bytes = PackBytes(*pack);
        h->history.push_back({*h->last_end, pack, bytes});
        h->history_bytes += bytes;
        while (h->history.size() > options_.history_packs ||
               (h->history.size() > 1 && h->history_bytes > options_.history_bytes)) {
          h->history_bytes -= h->history.front().bytes;
          h->history.pop_front();
        }
      }
      h->last_end = pack->end_position;
      // Every member is woken: for the pack, or because it left.
      std::vector<Member*> woken(h->members.begin(), h->members.end());
      for (auto it = h->members.begin(); it != h->members.end();) {
        it = (*it)->Offer(*pack) ? std::next(it) : h->members.erase(it);
      }
      h->notifying = true;
      g.unlock();
      for (Member* m : woken) m->NotifyConsumer();
      g.lock();
      h->notifying = false;
      h->cv.notify_all();
    }
  });
  return hub;
}

void SharedReaders::Detach(const std::shared_ptr<Hub>& hub) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (--hub->users > 0) return;
    auto it = hubs_.find(HubKey(hub->options));
    if (it != hubs_.end() && it->second == hub) hubs_.erase(it);
  }
  {
    std::lock_guard<std::mutex> g(hub->mu);
    hub->stop = true;
  }
  hub->cv.notify_all();
  if (hub->pump.joinable()) hub->pump.join();
  if (hub->reader) hub->reader->Close();
  hub->reader.reset();
}

SharedReadersStats SharedReaders::stats() const {
  std::map<std::string, std::shared_ptr<Hub>> hubs;
  size_t users = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    hubs = hubs_;
    for (const auto& [key, hub] : hubs_) users += hub->users;
  }
  SharedReadersStats s;
  s.shared = hubs.size();
  s.joins = joins_.load();
  s.leaves = leaves_.load();
  for (const auto& [key, hub] : hubs) {
    std::lock_guard<std::mutex> g(hub->mu);
    s.joined += hub->members.size();
  }
  s.alone = users >= s.joined ? users - s.joined : 0;
  return s;
}

}  // namespace cdc::source
