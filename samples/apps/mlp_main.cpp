// memtide-sample-mlp: see cli.h, or run with --help.
#include "cli.h"

int main(int argc, char** argv) {
  return samples::sample_main(samples::Net::Mlp, argc, argv);
}
