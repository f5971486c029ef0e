"""torch.profiler next to memtide: prints how many CUDA events the profiler
recorded (memtide's hooks mode must leave CUPTI to it)."""
import torch
from torch.profiler import ProfilerActivity, profile

model = torch.nn.Linear(1024, 1024).cuda()
x = torch.randn(64, 1024, device="cuda")
with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
    for _ in range(5):
        model(x).sum().backward()
    torch.cuda.synchronize()
events = prof.events()
cuda = [e for e in events if str(getattr(e, "device_type", "")).endswith("CUDA")]
print(f"PROFILER events={len(events)} cuda_events={len(cuda)}")
