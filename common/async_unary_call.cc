#include "common/async_unary_call.h"

namespace kv {

void PollCompletionQueue(grpc::ServerCompletionQueue& cq) {
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) static_cast<CompletionTag*>(tag)->Proceed(ok);
}

}  // namespace kv
