// What memtide-gui's tests share: the fixture traces (tests/gui/make-fixtures.sh),
// the CLI's JSON for the same traces, and waiting on the event loop.
#pragma once

#include <QString>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/trace_overview.h"

namespace memtide::gui::test {

// DIR/name of the fixture traces; fails the test when missing.
std::string fixture(const std::string& name);
// Runs `memtide ARGS...`; its exit status.
int runCli(const std::vector<std::string>& args);
// Runs `memtide ARGS...` and parses its standard output as JSON.
nlohmann::json cliJson(const std::vector<std::string>& args);
// Runs the event loop until `done` holds; false after `ms`.
bool waitUntil(const std::function<bool()>& done, int ms = 30000);
// Loads a fixture as the GUI does (on this thread), cached per name.
std::shared_ptr<const TraceOverview> overview(const std::string& name);

}  // namespace memtide::gui::test
