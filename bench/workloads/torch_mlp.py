"""PyTorch CPU training loop: a small MLP trained for a few steps on random
data (Debian's python3-torch; run with /usr/bin/python3).

usage: /usr/bin/python3 torch_mlp.py [STEPS] [THREADS]   (defaults 20 and 1)
"""
import sys

import torch


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(256, 512),
        torch.nn.ReLU(),
        torch.nn.Linear(512, 512),
        torch.nn.ReLU(),
        torch.nn.Linear(512, 10),
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(256, 256)
    y = torch.randint(0, 10, (256,))
    loss = None
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    print("torch_mlp: torch=%s steps=%d threads=%d loss=%.5f"
          % (torch.__version__, steps, threads, loss.item()))


if __name__ == "__main__":
    main()
