#ifndef KV_CENTRAL_LOCAL_NAMESPACE_SCOPE_H_
#define KV_CENTRAL_LOCAL_NAMESPACE_SCOPE_H_

namespace kv::central {

// While an instance lives on a thread, namespace changes made on that thread
// are made here, not forwarded to a coordinator: the coordinator executing
// a forwarded change must not forward it again (its view of who coordinates
// may differ from the forwarder's for a moment).
class LocalNamespaceScope {
 public:
  LocalNamespaceScope() : previous_(active_) { active_ = true; }
  ~LocalNamespaceScope() { active_ = previous_; }
  LocalNamespaceScope(const LocalNamespaceScope&) = delete;
  LocalNamespaceScope& operator=(const LocalNamespaceScope&) = delete;

  static bool active() { return active_; }

 private:
  const bool previous_;
  static inline thread_local bool active_ = false;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_LOCAL_NAMESPACE_SCOPE_H_
