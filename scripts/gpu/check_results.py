"""Reads the logs of scripts/gpu-check.sh and prints the results table."""
import json
import os
import re
import statistics
import sys

logs = sys.argv[1]
rows = []  # (check, result, detail)


def read(name):
    try:
        with open(os.path.join(logs, name)) as f:
            return f.read()
    except OSError:
        return ""


def gpu(name):
    try:
        return json.loads(read(name + ".gpu.json"))
    except ValueError:
        return {}


def rc(name):
    m = re.search(r"^%s rc=(\d+)" % re.escape(name), read("runs.txt"), re.M)
    return int(m.group(1)) if m else None


def check(name, ok, detail):
    rows.append((name, "PASS" if ok else "FAIL", detail))


def classes(summary, device="0"):
    return summary.get("devices", {}).get(device, {}).get("classes", {})


def count(summary, cls, device="0"):
    return classes(summary, device).get(cls, {}).get("allocations", 0)


# 1. every kind
APP = {"managed": 1, "pinned": 2, "async": 2, "vmm_physical": 1, "vmm_mapped": 1}
counts = {}
for runtime in ("static", "shared"):
    for mode in ("hooks", "cupti"):
        name = f"app_{runtime}_{mode}"
        s = gpu(name)
        c = {k: count(s, k) for k in ("device", "managed", "pinned", "async", "vmm_physical", "vmm_mapped")}
        c["va_reserved"] = count(s, "va_reserved", "unknown")
        counts[name] = c
        exact = all(c[k] == v for k, v in APP.items())
        live = sum(v.get("live_bytes", 0) for k, v in classes(s).items() if k not in ("static", "graph"))
        ok = rc(name) == 0 and s.get("mode") == mode and exact and c["device"] >= 4 \
            and s.get("unknown_frees", 1) == 0 and s.get("captured_allocations", 0) == 1 and live == 0
        extra = ""
        if mode == "cupti":
            extra = f" static={count(s, 'static')} graph={count(s, 'graph')}"
        check(name, ok, f"mode={s.get('mode')} {c} captured={s.get('captured_allocations')} "
              f"unknown_frees={s.get('unknown_frees')} live_end={live}{extra}")
    same = counts[f"app_{runtime}_hooks"] == counts[f"app_{runtime}_cupti"]
    check(f"app_{runtime}: hooks == cupti", same, "identical counts per class: no double counting")

# 2. engine
check("engine_test (CUDA vs CPU engine)", rc("engine_test") == 0,
      (read("engine_test.out").strip().splitlines() or ["no output"])[-1])
def wall_ms(name):
    m = re.search(r"^%s rc=0 wall_ms=(\d+)" % re.escape(name), read("runs.txt"), re.M)
    return int(m.group(1)) if m else None


walls = {kind: [wall_ms(f"engine_{kind}_{i}") for i in (1, 2, 3)] for kind in ("bare", "hooks")}
s = gpu("engine_hooks_1")
ok = all(w is not None for w in walls["bare"] + walls["hooks"]) and count(s, "device") >= 1
detail = f"device segments={count(s, 'device')} frees={classes(s).get('device', {}).get('frees')}"
if ok:
    b, h = statistics.median(walls["bare"]), statistics.median(walls["hooks"])
    detail += f" 2000 steps wall_ms median bare={b} traced={h} ratio={h / b:.3f}"
check("engine --device cuda --pool", ok, detail)
u = gpu("engine_unified")
check("engine --unified", rc("engine_unified") == 0 and count(u, "managed") >= 1,
      f"managed allocations={count(u, 'managed')} device={count(u, 'device')}")
n = gpu("engine_nopool")
check("engine without --pool", rc("engine_nopool") == 0 and count(n, "device") > count(s, "device"),
      f"device allocations={count(n, 'device')} (pooled: {count(s, 'device')})")


# 3. torch
def torch_line(name):
    m = re.search(r"^TORCH (.*)$", read(name + ".out"), re.M)
    return json.loads(m.group(1)) if m else {}


for tag, measure in (("default", "origin"), ("expandable_segments", "vmm_physical"),
                     ("backend", "async")):
    bare_t, traced_t = torch_line(f"torch_{tag}_bare"), torch_line(f"torch_{tag}_hooks")
    s = gpu(f"torch_{tag}_hooks")
    at = s.get("at_mark", {}).get("0", {})
    if measure == "origin":
        got, want, what = at.get("by_origin", {}).get("libc10_cuda.so"), traced_t.get("reserved"), "reserved"
    elif measure == "vmm_physical":
        got, want, what = at.get("by_class", {}).get("vmm_physical"), traced_t.get("reserved"), "reserved"
    else:
        got, want, what = at.get("by_class", {}).get("async"), traced_t.get("allocated"), "allocated"
    ratio = traced_t.get("step_ms", 0) / bare_t["step_ms"] if bare_t.get("step_ms") else None
    others = {k: v for k, v in at.get("by_origin", {}).items() if k != "libc10_cuda.so"}
    check(f"torch {tag}: trace == torch {what}", got is not None and got == want,
          f"trace={got} torch={want} other origins={others} step_ms bare={bare_t.get('step_ms', 0):.2f} "
          f"traced={traced_t.get('step_ms', 0):.2f} ratio={ratio if ratio is None else round(ratio, 3)}")
c = gpu("torch_default_cupti")
t = torch_line("torch_default_cupti")
got = c.get("at_mark", {}).get("0", {}).get("by_origin", {}).get("libc10_cuda.so")
check("torch default, cupti: trace == torch reserved", got is not None and got == t.get("reserved"),
      f"mode={c.get('mode')} trace={got} torch={t.get('reserved')}")

# 4. profiler
def cuda_events(name):
    m = re.search(r"cuda_events=(\d+)", read(name + ".out"))
    return int(m.group(1)) if m else -1


b, h = cuda_events("profiler_bare"), cuda_events("profiler_hooks")
check("torch.profiler beside hooks keeps CUDA events", h > 0 and b > 0, f"bare={b} traced={h}")

# 5. overhead of GPU tracking
def median_of_runs(prefix, pattern):
    """The median over runs PREFIX_1, PREFIX_2, ... of the number PATTERN finds."""
    values = []
    for i in range(1, 10):
        m = re.search(pattern, read(f"{prefix}_{i}.out"))
        if m:
            values.append(float(m.group(1)))
    return statistics.median(values) if values else None


def overhead_detail(ms, extra):
    detail = (f"step_ms bare={ms['bare']:.4f} host-only={ms['off']:.4f} "
              f"host+GPU={ms['hooks']:.4f} GPU tracking adds "
              f"{100 * (ms['hooks'] / ms['off'] - 1):.1f}%, all tracing "
              f"{100 * (ms['hooks'] / ms['bare'] - 1):.1f}%")
    known = {v: t for v, t in extra.items() if t is not None}
    if known:
        detail += "; host+GPU " + " ".join(f"{v}={t:.4f}" for v, t in known.items())
    return detail


torch_step = r'"step_ms": ([0-9.]+)'
for tag in ("default", "backend"):
    if not read(f"overhead_{tag}_bare_1.out"):
        continue
    ms = {m: median_of_runs(f"overhead_{tag}_{m}", torch_step) for m in ("bare", "off", "hooks")}
    name = f"overhead torch {tag} (steady-state step)"
    if all(ms.values()):
        extra = {"nosampler": median_of_runs(f"overhead_{tag}_nosampler", torch_step)}
        check(name, ms["hooks"] / ms["off"] < 1.05, overhead_detail(ms, extra))
    else:
        check(name, False, f"missing runs {ms}")
engine_step = r"timing step_ms_median=([0-9.]+)"
if read("overhead_engine_nopool_bare_1.out"):
    for pool in ("nopool", "pool"):
        ms = {m: median_of_runs(f"overhead_engine_{pool}_{m}", engine_step)
              for m in ("bare", "off", "hooks")}
        name = f"overhead engine {'no pool' if pool == 'nopool' else '--pool'} (steady-state step)"
        if all(ms.values()):
            extra = {v: median_of_runs(f"overhead_engine_{pool}_{v}", engine_step)
                     for v in ("nosampler", "nostacks")}
            check(name, ms["hooks"] / ms["off"] < 1.05, overhead_detail(ms, extra))
        else:
            check(name, False, f"missing runs {ms}")


# 6. unwinders
def folded(name):
    stacks = {}
    for line in read(name + ".folded").splitlines():
        stack, _, n = line.rpartition(" ")
        if stack:
            stacks[stack] = stacks.get(stack, 0) + int(n)
    return stacks


def agreement(a, b):
    """The share of captures whose whole stack both traces hold equally often."""
    total = max(sum(a.values()), sum(b.values()))
    return sum(min(n, b.get(s, 0)) for s, n in a.items()) / total if total else 0.0


if read("unwind_memtide.folded"):
    m, l1, l2 = folded("unwind_memtide"), folded("unwind_libunwind"), folded("unwind_libunwind2")
    cross, same = agreement(m, l1), agreement(l1, l2)
    ok = all(rc(f"unwind_{u}") == 0 for u in ("memtide", "libunwind", "libunwind2")) and m and \
        cross >= same - 0.01
    # The stacks the two unwinders count differently, for a reader to compare.
    with open(os.path.join(logs, "unwind-diff.txt"), "w") as f:
        for title, a, b in (("memtide more often", m, l1), ("libunwind more often", l1, m)):
            excess = sorted(((n - b.get(s, 0), s) for s, n in a.items() if n > b.get(s, 0)), reverse=True)
            f.write(f"## {title}: {sum(n for n, _ in excess)} captures in {len(excess)} stacks\n")
            for n, stack in excess[:15]:
                f.write(f"{n} {stack}\n")
    check("memtide unwinder == libunwind (PyTorch CUDA, folded by count)", ok,
          f"agreement memtide/libunwind={cross:.4f} libunwind/libunwind={same:.4f} "
          f"captures={sum(m.values())}/{sum(l1.values())}/{sum(l2.values())} "
          f"distinct stacks={len(m)}/{len(l1)}/{len(l2)}")

print(read("machine.txt").strip())
print()
print("| check | result | detail |")
print("|---|---|---|")
for name, result, detail in rows:
    print(f"| {name} | {result} | {detail} |")
print()
print(read("runs.txt").strip().splitlines()[-1] if read("runs.txt") else "no runs")
