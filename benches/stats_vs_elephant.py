"""`excitable stats` end to end against Elephant's compute alone, in one run (issue 19).

The workload: 1000 Poisson trains of 20 Hz over 20 s (seeded; about 400,000 spikes), their ISI
statistics (CV, CV2, LV, LvR) and a Gaussian-kernel instantaneous rate (sigma 10 ms, sampled
every 1 ms, Elephant's defaults otherwise) of every train.

- Elephant (from PyPI): only the computation is timed. The trains are built as neo SpikeTrains
  before the clock starts, and nothing is written.
- excitable: the whole process `excitable stats --spikes spikes.csv --t-stop 20000 --sigma 10
  --sampling 1`, reading the CSV, computing everything and writing its report (spike_stats,
  the 20,000,000-row rate.parquet, ISI histograms, raster figure, summary). Its peak memory is
  read from `/usr/bin/time`.

Rounds alternate the two, and the order flips every round (Elephant first, then excitable
first), because a run straight after Elephant's was slower. The script prints every time, the
medians, the ratio, the ratio against Elephant's fastest round (the one that holds in
either of its modes) and the peak memory, then checks that the two rates agree (max abs
difference, Hz) on the first 5 trains.

    python3 benches/stats_vs_elephant.py [rounds]      # after `cargo build --release`
    EXCITABLE=path python3 benches/stats_vs_elephant.py [rounds]   # another build
    BEFORE=path python3 benches/stats_vs_elephant.py [rounds]   # also time an earlier build

With BEFORE, every round also runs that binary, so a change is measured before and after in one
run. The check reads `t_ms` too: it must be the sampling grid, train after train.

It installs Elephant into target/bench-venv when it is run with another interpreter.
"""

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "bench-venv")
VPY = os.path.join(VENV, "bin", "python")


def reexec_in_venv():
    """Run again inside a venv holding Elephant (created on first use)."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(VPY):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run(
            [VPY, "-m", "pip", "install", "--quiet", "elephant==1.2.1", "pyarrow"], check=True
        )
    os.execv(VPY, [VPY, os.path.abspath(__file__)] + sys.argv[1:])


reexec_in_venv()

import numpy as np  # noqa: E402
import pyarrow.parquet as pq_file  # noqa: E402
import quantities as pq  # noqa: E402
import neo  # noqa: E402
import elephant  # noqa: E402
from elephant import statistics as es  # noqa: E402
from elephant.kernels import GaussianKernel  # noqa: E402

N_TRAINS, RATE_HZ, T_STOP_MS = 1000, 20.0, 20000.0
SIGMA_MS, SAMPLING_MS = 10.0, 1.0


def poisson_trains(seed=19):
    rng = np.random.default_rng(seed)
    trains = []
    for _ in range(N_TRAINS):
        n = rng.poisson(RATE_HZ * T_STOP_MS / 1000.0)
        trains.append(np.sort(rng.uniform(0.0, T_STOP_MS, n)))
    return trains


def elephant_compute(trains):
    """Wall and CPU seconds of Elephant's ISI statistics and rates of every train, the rates,
    and the system part of that CPU time (seconds)."""
    sts = [neo.SpikeTrain(t * pq.ms, t_start=0 * pq.ms, t_stop=T_STOP_MS * pq.ms) for t in trains]
    kernel = GaussianKernel(sigma=SIGMA_MS * pq.ms)
    system = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    start, cpu = time.perf_counter(), time.process_time()
    for st in sts:
        i = es.isi(st).magnitude
        es.cv(i)
        es.cv2(i)
        es.lv(i)
        es.lvr(i * pq.ms)
    rate = es.instantaneous_rate(sts, sampling_period=SAMPLING_MS * pq.ms, kernel=kernel)
    secs, cpu = time.perf_counter() - start, time.process_time() - cpu
    system = resource.getrusage(resource.RUSAGE_SELF).ru_stime - system
    return secs, cpu, np.asarray(rate.rescale("Hz").magnitude), system


def excitable_run(binary, csv, out):
    """(wall seconds, CPU seconds, peak memory in MB) of the whole `excitable stats` process."""
    start = time.perf_counter()
    with tempfile.NamedTemporaryFile("r") as rss:
        subprocess.run(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", rss.name, binary, "stats", "--spikes", csv,
             "--t-stop", str(T_STOP_MS), "--sigma", str(SIGMA_MS), "--sampling",
             str(SAMPLING_MS), "--out", out],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        secs = time.perf_counter() - start
        user, system, peak = rss.read().split()[-3:]
    return secs, float(user) + float(system), int(peak) / 1024.0


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    binary = os.environ.get("EXCITABLE") or os.path.join(ROOT, "target", "release", "excitable")
    trains = poisson_trains()
    spikes = sum(len(t) for t in trains)
    print(f"elephant {elephant.__version__}, numpy {np.__version__}; {N_TRAINS} trains, "
          f"{spikes} spikes, {T_STOP_MS / 1000:.0f} s, sigma {SIGMA_MS} ms, every {SAMPLING_MS} ms; "
          f"load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as work:
        csv = os.path.join(work, "spikes.csv")
        with open(csv, "w") as f:
            f.write("neuron,t_ms\n")
            for k, t in enumerate(trains):
                f.writelines(f"{k},{float(x)!r}\n" for x in t)
        before = os.environ.get("BEFORE")
        el, elc, els, ex, exc, mem, bx = [], [], [], [], [], [], []
        rate = None
        for r in range(rounds):
            # The order flips every round: a run straight after Elephant's took about 10% longer
            # than one before it (the same binary, 4 December 2026), so neither side always pays.
            def run_elephant():
                nonlocal rate
                secs, cpu, rate, system = elephant_compute(trains)
                el.append(secs)
                elc.append(cpu)
                els.append(system)

            # Every report but the first (read by the checks below) is removed once timed:
            # kept, nine rounds left 2.4 GB of unwritten pages, whose writeback doubled the CPU
            # time of later rounds (0.53 s against 0.24 s, 4 December 2026).
            def run_this():
                out = os.path.join(work, f"out{r}")
                secs, cpu, peak = excitable_run(binary, csv, out)
                ex.append(secs)
                exc.append(cpu)
                mem.append(peak)
                if r > 0:
                    shutil.rmtree(out)

            def run_earlier():
                if before:
                    out = os.path.join(work, f"before{r}")
                    secs, cpu, peak = excitable_run(before, csv, out)
                    bx.append((secs, cpu, peak))
                    shutil.rmtree(out)

            # Four orders in turn, so that over each four rounds each build follows Elephant
            # once and the other build twice (a number of rounds that is not a multiple of
            # four leaves a round or two over); Elephant is first in even rounds, last in odd.
            orders = [
                [run_elephant, run_this, run_earlier],
                [run_earlier, run_this, run_elephant],
                [run_elephant, run_earlier, run_this],
                [run_this, run_earlier, run_elephant],
            ]
            for step in orders[r % 4]:
                step()
            print(f"round {r + 1}: Elephant compute {el[-1]:.3f} s wall, {elc[-1]:.3f} s CPU "
                  f"({els[-1]:.3f} s system); "
                  f"excitable end to end {ex[-1]:.3f} s wall, {exc[-1]:.3f} s CPU, "
                  f"peak {mem[-1]:.0f} MB" + ("" if r % 2 == 0 else " (this order reversed)"))
            if before:
                secs, cpu, peak = bx[-1]
                print(f"         the earlier build {secs:.3f} s wall, {cpu:.3f} s CPU, "
                      f"peak {peak:.0f} MB")
        e, x = float(np.median(el)), float(np.median(ex))
        ec, xc = float(np.median(elc)), float(np.median(exc))
        print(f"median: Elephant {e:.3f} s wall, {ec:.3f} s CPU; excitable {x:.3f} s wall, "
              f"{xc:.3f} s CPU; Elephant / excitable = {e / x:.2f} by wall, {ec / xc:.2f} by CPU "
              f"(goal 10); peak memory {max(mem):.0f} MB (goal 150); "
              f"rate.parquet {os.path.getsize(os.path.join(work, 'out0', 'rate.parquet')) / 1e6:.0f} MB")
        # Elephant's time has two modes on this VM, its user time the same in both: in the
        # slow one it spends about a second more in the kernel, though it takes the same
        # faults (about 530 huge pages a call, 7 December 2026): the kernel's time to provide
        # fresh memory differs. The ratio against its fastest round is the one that holds
        # whatever mode its median falls in.
        f = min(el)
        print(f"Elephant's fastest round {f:.3f} s ({els[el.index(f)]:.3f} s system) / "
              f"excitable's median = {f / x:.2f} by wall; Elephant's system time "
              f"{min(els):.3f}-{max(els):.3f} s over its rounds")
        if before:
            b = float(np.median([secs for secs, _, _ in bx]))
            print(f"the earlier build: median {b:.3f} s wall; earlier / this = {b / x:.2f}; "
                  f"Elephant / earlier = {e / b:.2f}")
        table = pq_file.read_table(os.path.join(work, "out0", "rate.parquet"),
                                   columns=["neuron", "t_ms", "rate_hz"])
        neuron = table.column("neuron").to_numpy()
        grid = np.arange(rate.shape[0]) * SAMPLING_MS
        t_ok = np.array_equal(table.column("t_ms").to_numpy(), np.tile(grid, N_TRAINS))
        print(f"t_ms is the grid {len(grid)} samples long, train after train: {t_ok}")
        ours_all = table.column("rate_hz").to_numpy()
        worst = 0.0
        for k in range(5):
            ours = ours_all[neuron == k]
            worst = max(worst, float(np.max(np.abs(ours - rate[:, k]))))
        print(f"rates of trains 0-4: max |excitable - Elephant| = {worst:.2e} Hz")


if __name__ == "__main__":
    main()
