"""Per-module GPU and host memory for PyTorch under memtide.

Registers global module hooks that push an NVTX range named after each module
and phase ("model.layers.3.mlp/forward", ".../backward") around its work, so
`memtide run -- python train.py` attributes every allocation to the module
that made it (memtide turns NVTX ranges into scopes). Usage, in the training
script before the model runs:

    import memtide_torch
    memtide_torch.install(model)          # names modules after their path in `model`
    ...
    memtide_torch.step(step)              # marks the start of a training step

Without the memtide agent the hooks still push NVTX ranges (cheap no-ops unless
a tool listens); step() does nothing.
"""
import ctypes

import torch

_names = {}
_agent = None


def _load_agent():
    global _agent
    if _agent is None:
        try:
            process = ctypes.CDLL(None)
            _agent = process if hasattr(process, "memtide_step") else False
        except OSError:
            _agent = False
    return _agent


def _name(module):
    return _names.get(id(module), type(module).__name__)


def _push(name):
    torch.cuda.nvtx.range_push(name)


def _pop():
    torch.cuda.nvtx.range_pop()


def _forward_pre(module, args):
    _push(_name(module) + "/forward")


def _forward_post(module, args, output):
    _pop()


def _backward_pre(module, grad_output):
    _push(_name(module) + "/backward")


def _backward_post(module, grad_input, grad_output):
    _pop()


def install(model, prefix="model"):
    """Names every submodule after its path and hooks all modules globally."""
    for path, module in model.named_modules():
        _names[id(module)] = prefix + ("." + path if path else "")
    nn = torch.nn.modules.module
    nn.register_module_forward_pre_hook(_forward_pre)
    nn.register_module_forward_hook(_forward_post)
    nn.register_module_full_backward_pre_hook(_backward_pre)
    nn.register_module_full_backward_hook(_backward_post)


def step(number):
    """Marks the start of training step `number` on memtide's timeline."""
    agent = _load_agent()
    if agent:
        agent.memtide_step(ctypes.c_int64(number))


def mark(name):
    """An instantaneous marker on memtide's timeline."""
    agent = _load_agent()
    if agent:
        agent.memtide_mark(name.encode())
