// Finds the file that holds a recorded module's code and symbols: the
// recorded path (under the sysroot), then each search directory by file name
// and by build-id. A file whose GNU build-id differs from the recorded one is
// another build of the module and is never used.
#pragma once

#include <string>

#include "memtide/analysis/symbolizer.h"

namespace memtide::analysis {

struct LocatedBinary {
  std::string file;     // empty when none fits
  std::string problem;  // why none fits: "not found", "build-id differs (...)"
};

LocatedBinary locate_binary(const std::string& recorded_path, const std::string& build_id,
                            const SymbolizerOptions& options);

// The GNU build-id of an ELF file as lower-case hex; empty when the file has
// none or is not ELF.
std::string read_build_id(const std::string& file);

}  // namespace memtide::analysis
