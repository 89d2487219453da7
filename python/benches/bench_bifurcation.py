"""What the Python face costs: `ex.bifurcation(hh)` against the library call
(`BifurcationSpec::default().run(&hh)`, timed in Rust inside the same extension, on the same
thread pool). Runs are interleaved (library, Python, library, ...) so a loaded machine slows
both alike; the ratio of medians is reported, for the call alone and with every table turned
into a polars DataFrame.

    python python/benches/bench_bifurcation.py [repeats]
"""

import statistics
import sys
import time

import excitable as ex
from excitable import _native


def main(repeats: int = 7) -> None:
    hh = ex.Model("hh")
    ex.bifurcation(hh)  # warm up (page cache, thread pool)
    lib, call, tables = [], [], []
    for _ in range(repeats):
        lib += _native._time_library("bifurcation", hh, {}, 1)
        t0 = time.perf_counter()
        d = ex.bifurcation(hh)
        call.append(time.perf_counter() - t0)
        d.tables
        tables.append(time.perf_counter() - t0)
    m_lib, m_call, m_tab = (statistics.median(x) for x in (lib, call, tables))
    print(f"library call         median {m_lib * 1e3:8.1f} ms  (runs: {', '.join(f'{x * 1e3:.0f}' for x in lib)})")
    print(f"ex.bifurcation(hh)   median {m_call * 1e3:8.1f} ms  ratio {m_call / m_lib:.3f}")
    print(f"... and .tables      median {m_tab * 1e3:8.1f} ms  ratio {m_tab / m_lib:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
