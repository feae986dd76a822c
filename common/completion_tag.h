#ifndef KV_COMMON_COMPLETION_TAG_H_
#define KV_COMMON_COMPLETION_TAG_H_

namespace kv {

// What every tag on one of our server completion queues points to: the
// polling thread calls Proceed with the event's `ok`, and the object decides
// what comes next (it may delete itself). Shared by the kv.v1.Kv calls, the
// health service and the invalidation streams, so all live on one queue.
class CompletionTag {
 public:
  virtual ~CompletionTag() = default;
  // Called on a polling thread with the event's `ok`.
  virtual void Proceed(bool ok) = 0;
};

// A tag calling `Method` of `Owner`: for calls with several operations in
// flight at once (a stream's write and its done notification), one member
// tag per operation.
template <typename Owner, void (Owner::*Method)(bool)>
class MemberTag final : public CompletionTag {
 public:
  explicit MemberTag(Owner* owner) : owner_(owner) {}
  void Proceed(bool ok) override { (owner_->*Method)(ok); }

 private:
  Owner* const owner_;
};

}  // namespace kv

#endif  // KV_COMMON_COMPLETION_TAG_H_
