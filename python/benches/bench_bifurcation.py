"""What the Python face costs: `ex.bifurcation(hh)` against the library call
(`BifurcationSpec::default().run(&hh)`, run in Rust inside the same extension, on the same
thread pool, with no Python in between). Runs alternate (library, Python, library, ...) so a
loaded machine slows both alike. Both wall time and process CPU time (all threads) are taken
around each call; the ratios of the minima and of the medians are reported, for the call
alone and with every table turned into a polars DataFrame.

    python python/benches/bench_bifurcation.py [repeats]
"""

import statistics
import sys
import time

import excitable as ex
from excitable import _native


def timed(work):
    w, c = time.perf_counter(), time.process_time()
    r = work()
    return time.perf_counter() - w, time.process_time() - c, r


def main(repeats: int = 9) -> None:
    hh = ex.Model("hh")
    ex.bifurcation(hh).tables  # warm up (page cache, thread pool, polars)
    lib, call, tables = [], [], []
    for _ in range(repeats):
        w, c, _ = timed(lambda: _native._time_library("bifurcation", hh, {}, 1))
        lib.append((w, c))
        w, c, d = timed(lambda: ex.bifurcation(hh))
        call.append((w, c))
        w2, c2, _ = timed(lambda: d.tables)
        tables.append((w + w2, c + c2))

    def row(name, xs, ref=None):
        for k, what in ((0, "wall"), (1, "cpu ")):
            v = [x[k] for x in xs]
            lo, med = min(v), statistics.median(v)
            text = f"{name:<22} {what} min {lo * 1e3:7.1f} ms  median {med * 1e3:7.1f} ms"
            if ref is not None:
                r = [x[k] for x in ref]
                text += f"  ratio min {lo / min(r):.3f}  median {med / statistics.median(r):.3f}"
            print(text)

    row("library call", lib)
    row("ex.bifurcation(hh)", call, lib)
    row("... and its .tables", tables, lib)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
