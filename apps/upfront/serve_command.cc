// `upfront serve`: runs the HTTP service until SIGTERM or SIGINT, then stops
// gracefully (in-flight requests answered, state flushed).

#include <signal.h>

#include <iostream>

#include "apps/upfront/commands.h"
#include "src/server/http/service.h"

namespace upfront {

int RunServe(const ServeCommand& command) {
  ServiceOptions options;
  options.data_dir = command.data_dir;
  options.policy_file = command.policy;
  options.partitions = command.partitions;
  const size_t colon = command.listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "upfront: --listen must be HOST:PORT, like 127.0.0.1:8080\n";
    return 2;
  }
  options.http.address = command.listen.substr(0, colon);
  try {
    const int port = std::stoi(command.listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    options.http.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    std::cerr << "upfront: --listen: '" << command.listen.substr(colon + 1) << "' is not a port number\n";
    return 2;
  }
  // Every thread the service starts inherits this mask, so the signals reach
  // only the sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto service = Service::Start(options);
  if (!service.ok()) {
    std::cerr << "upfront: " << service.status().message() << "\n";
    return 2;
  }
  std::cout << "upfront: serving " << command.data_dir << " on http://" << options.http.address << ":"
            << (*service)->port() << "  (API: /openapi.json, health: /healthz)" << std::endl;
  if (const std::string key = (*service)->first_admin_key(); !key.empty()) {
    std::cout << "upfront: created the first admin key; it is shown only now:\n  " << key
              << "\n  create more with POST /v1/keys, or `upfront keys create` while the server is stopped"
              << std::endl;
  }
  int received = 0;
  sigwait(&signals, &received);
  std::cout << "upfront: " << (received == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": finishing requests in flight and flushing" << std::endl;
  (*service)->Stop();
  std::cout << "upfront: stopped" << std::endl;
  return 0;
}

}  // namespace upfront
