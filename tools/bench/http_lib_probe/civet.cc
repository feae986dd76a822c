// Probe server for the HTTP library choice (run.sh); not part of the build.
#include <civetweb.h>
#include <string>
#include <unistd.h>
#include <cstring>
static int H(struct mg_connection* c, void*) { mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 11\r\n\r\nhello-value"); return 200; }
int main(int argc, char** argv) { std::string port = std::string("127.0.0.1:") + argv[1]; std::string th = argv[2];
  const char* o[] = {"listening_ports", port.c_str(), "num_threads", th.c_str(), "enable_keep_alive", "yes", nullptr}; mg_init_library(0);
  mg_callbacks cb; memset(&cb, 0, sizeof cb); auto* ctx = mg_start(&cb, nullptr, o); mg_set_request_handler(ctx, "/", H, nullptr); pause(); }
