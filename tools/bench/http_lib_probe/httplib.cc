// Probe server for the HTTP library choice (run.sh); not part of the build.
#include <httplib.h>
int main(int argc, char** argv) { httplib::Server s; s.set_tcp_nodelay(true); int n = atoi(argv[2]); s.new_task_queue = [n] { return new httplib::ThreadPool(n); };
  s.Get("/.*", [](const httplib::Request&, httplib::Response& r) { r.set_content("hello-value", "application/octet-stream"); }); s.listen("127.0.0.1", atoi(argv[1])); }
