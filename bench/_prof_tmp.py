import os, sys, time
sys.path.insert(0, "python")
from verm.charts import ChartPool
from verm.charts.samples import chart_programs
progs = chart_programs(36, seed=2024, kinds=("bar", "line", "scatter", "pie", "grouped_bar", "subplots"))
codes = [p.code for p in progs]
with ChartPool(1) as pool:
    pool.render_many(codes[:6])
    for _ in range(2):
        t = time.perf_counter(); rs = [pool.render(c) for c in codes]; el = time.perf_counter() - t
        m = lambda k: sum(r.extra[k] for r in rs) / len(rs) * 1e3
        print(f"per chart {el/len(codes)*1e3:.1f} ms; parent {sum(r.seconds for r in rs)/len(rs)*1e3:.1f}; worker {m('worker_seconds'):.1f}; child job {m('job_seconds'):.1f}", flush=True)
