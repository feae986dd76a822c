#ifndef KV_COMMON_TERMINATION_SIGNALS_H_
#define KV_COMMON_TERMINATION_SIGNALS_H_

namespace kv {

// A node stops on SIGTERM or SIGINT, taken by a sigwait rather than a
// handler: main blocks both before any thread starts (so every thread
// inherits the mask), and the running node waits for one.

// Blocks SIGTERM and SIGINT in the calling thread. Call first in main.
void BlockTerminationSignals();

// Waits until SIGTERM or SIGINT arrives; returns its number.
// REQUIRES: BlockTerminationSignals() ran before any thread started.
int WaitForTerminationSignal();

}  // namespace kv

#endif  // KV_COMMON_TERMINATION_SIGNALS_H_
