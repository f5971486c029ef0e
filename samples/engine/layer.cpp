#include "layer.h"

#include <stdexcept>

namespace engine {

size_t Layer::param_bytes() {
  std::vector<Param*> params;
  collect_params(params);
  size_t bytes = 0;
  for (const Param* p : params) bytes += p->value.nbytes();
  return bytes;
}

void expect_shape(bool ok, const Layer& layer, const char* what, const Shape& got) {
  if (!ok) {
    throw std::invalid_argument(layer.describe() + ": expected " + std::string(what) + ", got " +
                                got.str());
  }
}

}  // namespace engine
