"""The sandboxed chart pool: hostile input, figure capture, isolation, pixel equivalence."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from verm.charts import (
    ChartPool,  # noqa: E402
    sandbox,  # noqa: E402
)
from verm.charts.samples import chart_programs  # noqa: E402
from verm.render import render_chart_code, render_chart_codes  # noqa: E402

TIMEOUT = 4.0

GOOD = textwrap.dedent("""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 3), dpi=50)
    ax.bar(["a", "b", "c"], [3, 1, 2], color="tab:blue")
    ax.set_title("ok")
""")


@pytest.fixture(scope="module")
def pool():
    with ChartPool(2, timeout=TIMEOUT, memory_mb=1024) as p:
        yield p


@pytest.fixture(scope="module")
def good_image(pool):
    res = pool.render(GOOD)
    assert res.status == "ok", res.message
    assert res.image.shape == (150, 200, 4)
    return res.image


def _run_bad(pool, good_image, code, expected, **kw):
    t0 = time.monotonic()
    res = pool.render(code, **kw)
    elapsed = time.monotonic() - t0
    assert elapsed < kw.get("timeout", TIMEOUT) + 2.0, f"took {elapsed:.1f}s"
    assert res.status in ((expected,) if isinstance(expected, str) else expected), \
        f"{res.status}: {res.message}"
    # the pool must answer the next job correctly
    nxt = pool.render(GOOD)
    assert nxt.status == "ok", nxt.message
    np.testing.assert_array_equal(nxt.image, good_image)
    return res


def test_infinite_loop_times_out(pool, good_image):
    res = _run_bad(pool, good_image, "while True: pass", "timeout", timeout=2.0)
    assert res.image is None


def test_cpu_limit_in_threads_still_times_out(pool, good_image):
    code = ("import threading\nts = [threading.Thread(target=lambda: [0 for _ in iter(int, 1)]) for _ in range(2)]\n"
            "for t in ts: t.start()\nfor t in ts: t.join()\n")
    _run_bad(pool, good_image, code, "timeout", timeout=2.0)
    # a thread left spinning after the main code ends does not keep the job alive
    code = "import threading\nthreading.Thread(target=lambda: [0 for _ in iter(int, 1)]).start()\n" + GOOD
    _run_bad(pool, good_image, code, "ok")


def test_huge_allocation_is_memory(pool, good_image):
    res = _run_bad(pool, good_image, "x = bytearray(50 * 1024 ** 3)", "memory")
    assert "MemoryError" in res.message
    _run_bad(pool, good_image, "import numpy as np\nx = np.ones(50 * 10**9 // 8)", "memory")


def test_fork_bomb_refused(pool, good_image):
    res = _run_bad(pool, good_image, "import os\nwhile True:\n    os.fork()", "error")
    assert "not allowed" in res.message or "Operation not permitted" in res.message


def test_fork_through_ctypes_refused_by_kernel(pool, good_image):
    if not pool.info["capabilities"]["seccomp"]:
        pytest.skip("no seccomp on this platform")
    code = "import ctypes\npid = ctypes.CDLL(None).fork()\nprint('fork returned', pid)\n"
    res = _run_bad(pool, good_image, code, "no_figure")
    assert "fork returned -1" in res.extra["stdout"]


def test_socket_refused(pool, good_image):
    res = _run_bad(pool, good_image,
                   'import socket\nsocket.create_connection(("127.0.0.1", 80), timeout=1)', "error")
    assert "not allowed" in res.message
    _run_bad(pool, good_image, "import socket\ns = socket.socket()", "error")


def test_writes_outside_temp_dir_refused(pool, good_image, tmp_path):
    target = tmp_path / "x"
    def state(p):
        return open(p, "rb").read() if os.path.isfile(p) else os.path.isdir(p)

    before = state("/tmp/x")
    res = _run_bad(pool, good_image, 'open("/tmp/x", "w").write("pwned")', "error")
    assert "not allowed" in res.message
    assert state("/tmp/x") == before
    _run_bad(pool, good_image, f'open({str(target)!r}, "w").write("pwned")', "error")
    assert not target.exists()
    passwd = open("/etc/passwd", "rb").read()
    _run_bad(pool, good_image, 'open("../../etc/passwd", "w").write("pwned")', "error")
    assert open("/etc/passwd", "rb").read() == passwd


def test_subprocess_and_exec_refused(pool, good_image):
    _run_bad(pool, good_image, 'import subprocess\nsubprocess.run(["ls"])', "error")
    _run_bad(pool, good_image, 'import os\nos.system("ls")', "error")
    _run_bad(pool, good_image, 'import os\nos.execv("/bin/ls", ["ls"])', "error")


def test_exits(pool, good_image):
    res = _run_bad(pool, good_image, "import sys\nsys.exit(3)", "error")
    assert "SystemExit: 3" in res.message
    res = _run_bad(pool, good_image, "import os\nos._exit(0)", "error")
    assert "exited" in res.message
    # sys.exit(0) after drawing is a normal end: the figure is kept
    res = pool.render(GOOD + "\nimport sys\nsys.exit(0)\n")
    assert res.status == "ok"


def test_segfault_is_crashed(pool, good_image):
    res = _run_bad(pool, good_image, "import ctypes\nctypes.string_at(0)", "crashed")
    assert "SIGSEGV" in res.message


def test_huge_output_truncated(pool, good_image):
    res = _run_bad(pool, good_image, 'print("x" * 100_000_000)', "no_figure")
    out = res.extra["stdout"]
    assert out.startswith("xxx") and len(out) < pool.max_output + 200 and "truncated" in out
    res = _run_bad(pool, good_image, 'import sys\nfor _ in range(2000):\n    sys.stderr.write("e" * 50_000)\n' + GOOD, "ok")
    assert len(res.extra["stderr"]) < pool.max_output + 200


def test_ground_truth_file_unreadable(pool, good_image, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gt = tmp_path / "ground_truth.png"
    plt.imsave(gt, np.random.default_rng(0).random((20, 30, 3)))
    hack = f"import matplotlib.pyplot as plt\nplt.imshow(plt.imread({str(gt)!r}))\n"
    res = _run_bad(pool, good_image, hack, "error")
    assert "not allowed" in res.message
    _run_bad(pool, good_image, f"open({str(gt)!r}, 'rb').read()", "error")
    _run_bad(pool, good_image, f"import os\nos.listdir({str(tmp_path)!r})", "error")
    _run_bad(pool, good_image, "open('/etc/hostname').read()", "error")


def test_previous_job_image_unreadable():
    """The worker's shared image file is emptied before each job: a job that scans its open
    files finds no other job's pixels (one worker, so both jobs run in the same template)."""
    snoop = (
        "import os, stat\n"
        "seen = 0\n"
        "for fd in range(3, 512):\n"
        "    try:\n"
        "        st = os.fstat(fd)\n"
        "    except OSError:\n"
        "        continue\n"
        "    if stat.S_ISREG(st.st_mode) and st.st_nlink == 0:  # memfd / unlinked files\n"
        "        seen = max(seen, st.st_size, len(os.pread(fd, 1 << 16, 0)))\n"
        "print('SEEN', seen)\n"
    )
    with ChartPool(1, timeout=TIMEOUT, memory_mb=1024) as one:
        first = one.render(GOOD)
        assert first.status == "ok", first.message
        res = one.render(snoop)
    assert res.status == "no_figure", res.message
    assert "SEEN 0" in res.extra["stdout"], res.extra["stdout"]


def test_ground_truth_unreadable_even_through_libc(pool, good_image, tmp_path):
    """ctypes bypasses the audit hook; Landlock (when the kernel has it) still refuses."""
    if not pool.info["capabilities"]["landlock_abi"]:
        pytest.skip("kernel without Landlock: only the audit hook guards reads")
    gt = tmp_path / "gt.bin"
    gt.write_bytes(b"secret")
    code = textwrap.dedent(f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.open({str(gt).encode()!r}, 0)
        print("fd", fd, ctypes.get_errno())
        fd2 = libc.open(b"/etc/passwd", 0)
        print("fd2", fd2)
        fd3 = libc.open(b"/tmp/escape", 0o101, 0o644)
        print("fd3", fd3)
    """)
    res = _run_bad(pool, good_image, code, "no_figure")
    out = res.extra["stdout"]
    assert "fd -1 13" in out and "fd2 -1" in out and "fd3 -1" in out
    assert not os.path.exists("/tmp/escape")


def test_syntax_error(pool, good_image):
    res = _run_bad(pool, good_image, "import matplotlib.pyplot as plt\nplt.plot([1, 2]\n", "error")
    assert "SyntaxError" in res.message


def test_runtime_error_reports_last_lines(pool, good_image):
    res = _run_bad(pool, good_image, "import matplotlib.pyplot as plt\nplt.plot([1, 2], [1])\n", "error")
    assert "ValueError" in res.message and "<chart>" in res.message
    assert "worker.py" not in res.message


def test_no_figure_and_no_matplotlib(pool, good_image):
    _run_bad(pool, good_image, "import matplotlib.pyplot as plt\nx = 1", "no_figure")
    res = _run_bad(pool, good_image, "print('hello')", "no_figure")
    assert res.extra["stdout"] == "hello\n"


def test_blank_figure(pool):
    res = pool.render("import matplotlib.pyplot as plt\nplt.figure(figsize=(2, 1), dpi=50)")
    assert res.status == "blank" and res.image is not None and res.image.shape == (50, 100, 4)
    assert (res.image == 255).all()


def test_capture_variants(pool, good_image):
    # savefig to an odd path, then close: the saved figure is captured, nothing written there
    res = pool.render(GOOD + "\nplt.savefig('/nonexistent/dir/chart.png')\nplt.close('all')\n")
    assert res.status == "ok" and res.extra["savefig_calls"] == 1
    np.testing.assert_array_equal(res.image, good_image)
    # show() then close(): still captured
    res = pool.render(GOOD + "\nplt.show()\nplt.close()\n")
    assert res.status == "ok" and res.extra["show_calls"] == 1
    np.testing.assert_array_equal(res.image, good_image)
    # several figures: the current (last) one, with the count reported
    res = pool.render("import matplotlib.pyplot as plt\nplt.figure(figsize=(2, 2), dpi=50)\nplt.plot([1, 2])\n" + GOOD)
    assert res.extra["figures"] == 2
    np.testing.assert_array_equal(res.image, good_image)
    # savefig honours dpi and bbox_inches like a real savefig
    res = pool.render(GOOD + "\nplt.savefig('c.png', dpi=100)\n")
    assert res.image.shape == (300, 400, 4)
    res = pool.render(GOOD + "\nplt.savefig('c.png', bbox_inches='tight')\n")
    assert res.image.shape[0] < 150 and res.image.shape[1] < 200
    # in-memory targets are written for real (code may read them back)
    res = pool.render(GOOD + "\nimport io\nbuf = io.BytesIO()\nplt.savefig(buf, format='png')\nprint(buf.getvalue()[:4])\n")
    assert res.status == "ok" and "PNG" in res.extra["stdout"]


def test_dpi_and_size_overrides(pool):
    res = pool.render(GOOD, dpi=100)
    assert res.image.shape == (300, 400, 4)
    res = pool.render(GOOD, size=(100, 50))
    assert res.image.shape == (50, 100, 4)
    res = pool.render(GOOD, size=(100, None))
    assert res.image.shape == (75, 100, 4)


def test_jobs_are_isolated(pool):
    first = pool.render(
        "import matplotlib, numpy, sys\nmatplotlib.rcParams['axes.facecolor'] = 'red'\n"
        "numpy.LEAK = 1\nsys.modules['leak'] = 1\nopen('left_behind.txt', 'w').write('x')\n"
        "import os\nprint(os.getcwd())\n"
    )
    assert first.status == "no_figure", first.message
    tmp = first.extra["stdout"].strip()
    assert not os.path.exists(tmp), "the job's temp dir must be deleted"
    for _ in range(2):  # whichever worker answers
        res = pool.render(
            "import matplotlib, numpy, sys, os\n"
            "print(matplotlib.rcParams['axes.facecolor'], hasattr(numpy, 'LEAK'), 'leak' in sys.modules,"
            " os.path.exists('left_behind.txt'))\n"
        )
        assert res.extra["stdout"].strip() == "white False False False"


def test_environment_not_leaked(pool):
    assert "PYTEST_CURRENT_TEST" in os.environ
    res = pool.render("import os\nprint(sorted(os.environ))")
    assert "PYTEST_CURRENT_TEST" not in res.extra["stdout"] and "PATH" in res.extra["stdout"]


def test_temp_dir_and_devnull_writable(pool):
    code = ("import os, tempfile\nopen(os.devnull, 'w').write('x')\nopen('local.txt', 'w').write('x')\n"
            "with tempfile.NamedTemporaryFile() as f:\n    f.write(b'x')\n" + GOOD)
    res = pool.render(code)
    assert res.status == "ok", res.message


def test_threads_allowed(pool):
    code = "import threading\nout = []\nt = threading.Thread(target=lambda: out.append(1))\nt.start(); t.join()\n" + GOOD
    assert pool.render(code).status == "ok"


def test_dead_worker_replaced(good_image):
    with ChartPool(1, timeout=TIMEOUT) as p:
        p.render(GOOD)
        w = p._all[0]
        w.proc.kill()
        w.proc.wait()
        res = p.render(GOOD)
        assert res.status == "ok"
        np.testing.assert_array_equal(res.image, good_image)
        assert p.restarts == 1


def test_sandbox_filter_assembles():
    caps = sandbox.capabilities()
    assert caps["audit_hook"]
    if caps["seccomp"]:
        prog = sandbox._seccomp_program()
        assert len(prog) % 8 == 0 and len(prog) // 8 < 200


def test_render_chart_code_api():
    res = render_chart_code(GOOD, timeout=TIMEOUT)
    assert res.status == "ok" and res.image.shape == (150, 200, 4)
    results = render_chart_codes([GOOD, "x = 1"], workers=1, timeout=TIMEOUT)
    assert [r.status for r in results] == ["ok", "no_figure"]


# ------------------------------------------------------------------------------ equivalence
_REFERENCE = r"""
import json, os, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
jobs = json.load(open(sys.argv[1]))
for i, (code, saves_to, out) in enumerate(jobs):
    d = out[:-4] + "_run"
    os.makedirs(d)
    os.chdir(d)
    exec(compile(code, "<chart>", "exec"), {"__name__": "__main__"})
    if saves_to:
        os.replace(saves_to, out)
    else:
        plt.savefig(out)
    plt.close("all")
    matplotlib.rc_file_defaults()
"""


def _reference_pngs(programs, folder, batch: bool) -> list:
    import json

    from PIL import Image

    outs = [str(folder / f"ref{i}.png") for i in range(len(programs))]
    jobs = [[p.code, p.saves_to, o] for p, o in zip(programs, outs)]
    env = dict(os.environ, MPLBACKEND="Agg")
    chunks = [jobs] if batch else [[j] for j in jobs]
    for k, chunk in enumerate(chunks):
        spec = folder / f"jobs{k}.json"
        spec.write_text(json.dumps(chunk))
        subprocess.run([sys.executable, "-c", _REFERENCE, str(spec)], check=True, env=env,
                       cwd=folder, timeout=300, capture_output=True)
    return [np.asarray(Image.open(o).convert("RGBA")) for o in outs]


def test_pool_matches_clean_interpreter(pool, tmp_path):
    """100 generated programs: pool images == a clean Agg interpreter's savefig output (+-1)."""
    programs = chart_programs(100, seed=7)
    results = pool.render_many([pr.code for pr in programs], timeout=30)
    (tmp_path / "batch").mkdir()
    refs = _reference_pngs(programs, tmp_path / "batch", batch=True)
    # The batch reference is equivalent to one interpreter per program: check a sample of them.
    (tmp_path / "single").mkdir()
    singles = _reference_pngs(programs[:5], tmp_path / "single", batch=False)
    for a, b in zip(singles, refs[:5]):
        np.testing.assert_array_equal(a, b)
    bad = []
    for i, (pr, res, ref) in enumerate(zip(programs, results, refs)):
        if res.status != "ok" or res.image.shape != ref.shape:
            bad.append((i, pr.kind, res.status, res.message[-200:], None if res.image is None else res.image.shape, ref.shape))
            continue
        diff = np.abs(res.image.astype(int) - ref.astype(int)).max()
        if diff > 1:
            bad.append((i, pr.kind, "diff", int(diff)))
    assert not bad, bad


# The worker skips or caches matplotlib work (the redraw ``pyplot.savefig`` makes after saving,
# text layouts shared between figures): programs that go on after ``savefig`` or change text
# properties, rcParams and fonts between draws must still match a clean interpreter.
_TRICKY = [
    # constrained layout re-run by later draws; second savefig at another dpi is captured
    """
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(5, 3), layout="constrained")
    axes[0].plot([1, 3, 2], label="a"); axes[0].legend(); axes[0].set_title("first")
    plt.savefig("a.png", dpi=50)
    axes[1].bar(["x", "y"], [2, 5]); axes[1].set_title("later")
    plt.savefig("chart.png", dpi=70)
    """,
    # reading state after savefig and using it; plt.draw() to refresh tick labels
    """
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 3), dpi=60)
    ax.plot([0, 10], [0, 1e5])
    plt.savefig("a.png")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    plt.draw()
    ys = [t.get_text() for t in ax.get_yticklabels()]
    ax.set_xticks(ax.get_xticks(), [lab + "!" for lab in labels], rotation=30)
    ax.set_title(f"{len(labels)} {len(ys)} {ys[-1]}")
    plt.savefig("chart.png", bbox_inches="tight")
    """,
    # the canvas buffer read after savefig, then drawn again
    """
    import matplotlib.pyplot as plt
    import numpy as np
    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.scatter([1, 2, 3], [3, 1, 2])
    plt.savefig("a.png", transparent=True)
    buf = np.asarray(fig.canvas.buffer_rgba())
    ax.set_title(f"{buf.shape} {int(buf[..., 3].min())}")
    plt.savefig("chart.png")
    """,
    # text properties, fonts and rcParams changed between draws; math, wrap, multi-line
    """
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 3), dpi=72)
    ax.set_title("Title")
    ax.set_xlabel("0.5")
    plt.savefig("a.png")
    ax.title.set_fontsize(17); ax.title.set_rotation(8)
    plt.rcParams["font.family"] = "serif"
    plt.rcParams["text.hinting"] = "native"
    ax.set_ylabel("serif $x^2$ and \\\\$5")
    ax.text(0.1, 0.5, "two\\nlines", linespacing=2.5, ha="right", multialignment="center",
            rotation=33, rotation_mode="anchor", transform=ax.transAxes)
    ax.text(0.2, 0.2, "a long line that wraps " * 4, wrap=True, transform=ax.transAxes)
    ax.text(0.6, 0.8, "0.5", fontweight="bold", fontstyle="italic", fontsize="large")
    ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"], rotation=45, rotation_mode="xtick")
    plt.savefig("chart.png", dpi=90)
    """,
    # fonts re-resolved after a layout measured the texts on the same renderer (matplotlib's
    # metrics cache then keeps the old metrics for those texts)
    """
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 3), dpi=80)
    ax.plot([0, 10], [0, 100]); ax.set_title("Title"); ax.set_xlabel("Year")
    plt.tight_layout()
    plt.rcParams["font.sans-serif"] = ["DejaVu Serif"]
    ax.set_ylabel("Units")
    fig.text(0.5, 0.5, "Title")
    plt.savefig("chart.png", dpi=80)
    """,
]


def test_pool_matches_clean_interpreter_after_savefig(pool, tmp_path):
    from verm.charts.samples import ChartProgram

    programs = [ChartProgram(textwrap.dedent(c), "tricky", "chart.png") for c in _TRICKY]
    results = pool.render_many([p.code for p in programs], timeout=30)
    refs = _reference_pngs(programs, tmp_path, batch=False)
    for i, (res, ref) in enumerate(zip(results, refs)):
        assert res.status == "ok", (i, res.message)
        assert res.image.shape == ref.shape, (i, res.image.shape, ref.shape)
        diff = np.abs(res.image.astype(int) - ref.astype(int)).max()
        assert diff <= 1, (i, int(diff))


_SIGNAL_PROBE = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                 "print(libc.kill(os.getppid(), 0), ctypes.get_errno(), libc.kill(os.getpid(), 0))\n")


def test_fork_ahead_keeps_jobs_isolated(good_image):
    """``fork_ahead``: the next job's child exists while a job runs, so it is only used where
    Landlock scopes signals; even ctypes cannot signal outside the job (signal 0: a harmless
    probe), and jobs stay isolated."""
    with ChartPool(1, timeout=TIMEOUT, fork_ahead=True) as p:
        if p.info["capabilities"]["landlock_abi"] >= 6:
            res = _run_bad(p, good_image, _SIGNAL_PROBE, "no_figure")
            assert res.extra["stdout"].split() == ["-1", "1", "0"]  # EPERM for the template
        _run_bad(p, good_image, "import matplotlib\nmatplotlib.rcParams['axes.facecolor'] = 'red'\n"
                 "import os\nos.environ['X'] = '1'\nopen('f.txt', 'w').write('x')\n", "no_figure")
        res = p.render("import os\nprint(os.path.exists('f.txt'), 'X' in os.environ)")
        assert res.extra["stdout"].split() == ["False", "False"]
        _run_bad(p, good_image, "while True: pass", "timeout", timeout=1.0)


def _layout_scenario(plt, matplotlib, mtext):
    """Text layouts from a fixed sequence of figures, rcParams changes and renderers."""
    out = []
    specs = [(s, rot, ha, va, ls, mode, fs, fw)
             for s in ("0.5", "Title", "two\nlines", "\u22121.5")
             for rot, ha, va, ls, mode, fs, fw in (
                 (0, "center", "baseline", None, "default", 10, "normal"),
                 (45, "right", "top", 2.0, "anchor", 13.5, "bold"),
                 (90, "left", "center", 1.2, "xtick", "small", "normal"))]
    changes = ({}, {"font.family": "serif"}, {"text.hinting": "native"},
               {"font.sans-serif": ["DejaVu Serif"], "font.family": "sans-serif"})

    def layouts(fig, renderer):
        for s, rot, ha, va, ls, mode, fs, fw in specs:
            t = fig.text(0.5, 0.5, s, rotation=rot, ha=ha, va=va, linespacing=ls,
                         rotation_mode=mode, fontsize=fs, fontweight=fw)
            for _ in range(2):
                bbox, info, box = mtext.Text._get_layout(t, renderer)
                out.append((bbox.get_points().tolist(), info, box))

    with matplotlib.rc_context():
        for dpi in (72, 100):
            fig = plt.figure(figsize=(3, 2), dpi=dpi)
            shared = fig.canvas.get_renderer()
            for rc in changes:
                matplotlib.rcParams.update(rc)
                layouts(fig, shared)  # one renderer across rcParams changes (matplotlib's
                fresh = plt.figure(figsize=(3, 2), dpi=dpi)  # own cache goes stale) ...
                layouts(fresh, fresh.canvas.get_renderer())  # ... and a fresh one each time
                plt.close(fresh)
            plt.close(fig)
    return out


def test_layout_and_font_caches_are_exact():
    """The worker's caches (verm.charts.accel) give exactly matplotlib's answers over a sequence
    of figures, rcParams changes and renderers; installed here in-process, removed afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.font_manager as fm
    import matplotlib.pyplot as plt
    import matplotlib.text as mtext

    from verm.charts import accel

    stock = _layout_scenario(plt, matplotlib, mtext)
    orig_layout, orig_fonts = mtext.Text._get_layout, fm.FontManager._find_fonts_by_props
    orig_metrics = mtext._get_text_metrics_with_cache
    try:
        accel.install_font_lookup_cache()
        accel.install_layout_cache()
        assert mtext.Text._get_layout is not orig_layout
        for _ in range(3):  # later runs start from a filled cache
            assert _layout_scenario(plt, matplotlib, mtext) == stock
        assert accel.layout_cache
    finally:
        mtext.Text._get_layout = orig_layout
        mtext._get_text_metrics_with_cache = orig_metrics
        fm.FontManager._find_fonts_by_props = orig_fonts
        accel.layout_cache.clear()
