// NVTX ranges become memtide scopes through NVTX injection.
#include <nvtx3/nvToolsExt.h>

#include <cstdlib>

int main() {
  nvtxRangePushA("model.layers.0");
  std::free(std::malloc(1234));
  nvtxRangePushA("forward");
  std::free(std::malloc(2345));
  nvtxRangePop();
  nvtxRangePop();
  nvtxDomainHandle_t domain = nvtxDomainCreateA("engine");
  nvtxStringHandle_t name = nvtxDomainRegisterStringA(domain, "attention");
  nvtxEventAttributes_t attributes = {};
  attributes.version = NVTX_VERSION;
  attributes.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  attributes.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
  attributes.message.registered = name;
  nvtxDomainRangePushEx(domain, &attributes);
  std::free(std::malloc(3456));
  nvtxDomainRangePop(domain);
  nvtxMarkA("checkpoint");
  return 0;
}
