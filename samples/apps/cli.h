// Command line of the sample programs: memtide-sample-{mlp,cnn,transformer} share every switch
// and differ only in the network (and its defaults).
#pragma once

#include "../networks/sample.h"

namespace samples {

// Parses argv, runs, prints progress and a last summary line. Returns the exit status:
// 0 success, 1 the run failed, 2 bad command line.
int sample_main(Net net, int argc, char** argv);

}  // namespace samples
