#ifndef KV_CENTRAL_GRPC_POLLING_H_
#define KV_CENTRAL_GRPC_POLLING_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kv::central {

// Picks gRPC's polling engine for this process (`--grpc_poll_strategy`;
// docs/replication.md, "Costs per replicated write"). gRPC reads it once,
// when the first gRPC object of the process is created, so this must run
// before that (first thing in main).
//
// Why a central wants "poll": with gRPC's default "epoll1", every thread
// blocked in a gRPC call (the replication streams' synchronous readers and
// writers, the completion-queue poller) takes turns as the single poller of
// every connection in the process, so a client request read by a
// replication thread is handed over to the completion-queue thread, and an
// ack read by that thread back again: about twice the context switches per
// replicated write. With "poll" each thread polls the connections of its
// own calls. It costs a poll() over those descriptors per wake-up, so a
// central serving thousands of connections may prefer "epoll1".
//
// Guarantees: "" leaves gRPC's default (and a GRPC_POLL_STRATEGY already in
// the environment) alone; "poll" or "epoll1" is used unless the environment
// already names an engine (the operator's explicit choice wins); anything
// else is INVALID_ARGUMENT, and nothing is changed.
absl::Status SetGrpcPollStrategy(absl::string_view strategy);

}  // namespace kv::central

#endif  // KV_CENTRAL_GRPC_POLLING_H_
