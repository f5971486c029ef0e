"""20 training steps of a 4x Linear(4096) MLP (batch 256, Adam) for the GPU
check: prints PyTorch's own view of its memory at the end, marked in the
trace as "check", and the median steady-state step time."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import memtide_torch  # noqa: E402
import torch  # noqa: E402

torch.manual_seed(0)
model = torch.nn.Sequential(*[torch.nn.Linear(4096, 4096) for _ in range(4)]).cuda()
memtide_torch.install(model)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
x = torch.randn(256, 4096, device="cuda")
steps = int(os.environ.get("STEPS", "20"))
times = []
for step in range(steps):
    memtide_torch.step(step)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    loss = model(x).square().mean()
    loss.backward()
    optimizer.step()
    torch.cuda.synchronize()
    times.append(time.perf_counter() - t0)
torch.cuda.synchronize()
memtide_torch.mark("check")
steady = sorted(times[4:])
print("TORCH " + json.dumps({
    "reserved": torch.cuda.memory_reserved(),
    "allocated": torch.cuda.memory_allocated(),
    "step_ms": 1000 * steady[len(steady) // 2],
    "alloc_conf": os.environ.get("PYTORCH_CUDA_ALLOC_CONF", ""),
}))
