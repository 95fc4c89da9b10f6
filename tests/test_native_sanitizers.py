"""Builds the native core with ASan/UBSan, fuzzes the SVG parser + renderer with mutated
resvg-suite files and runs the host stager's native check. Any sanitizer report aborts the
driver and fails the test."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "asan"


def _cmake() -> str:
    exe = shutil.which("cmake")
    if exe is None:
        pytest.fail("cmake is required for the sanitizer build (scripts/setup.sh installs it)")
    return exe


@pytest.fixture(scope="module")
def fuzz_driver() -> Path:
    import pybind11

    cmake = _cmake()
    subprocess.run(
        [cmake, "-S", str(ROOT), "-B", str(BUILD), "-DCMAKE_BUILD_TYPE=Debug",
         "-DVERM_SANITIZE=ON", "-DVERM_BUILD_NATIVE_TESTS=ON",
         f"-Dpybind11_DIR={pybind11.get_cmake_dir()}", f"-DPython_EXECUTABLE={sys.executable}"],
        check=True, capture_output=True, text=True,
    )
    proc = subprocess.run([cmake, "--build", str(BUILD), "--target", "fuzz_svg", "stager_check", "-j2"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return BUILD / "fuzz_svg"


SANITIZER_ENV = dict(ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=1",
                     UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


def test_host_stager_under_sanitizers(fuzz_driver: Path) -> None:
    proc = subprocess.run([str(fuzz_driver.parent / "stager_check"), "7"], env=dict(os.environ, **SANITIZER_ENV),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-6000:]
    assert proc.stdout.split() == ["ok", str(6 * 3 * 12)]


@pytest.mark.slow
def test_fuzz_mutated_suite_under_sanitizers(fuzz_driver: Path, testdata: Path) -> None:
    suite = testdata / "resvg-suite"
    files = sorted(str(p) for p in suite.rglob("*.svg"))
    assert len(files) > 100
    sample = random.Random(0).sample(files, 150)
    env = dict(os.environ, **SANITIZER_ENV, VERM_FUZZ_FONTS=str(suite / "fonts"))
    proc = subprocess.run([str(fuzz_driver), "1234", "6", *sample], env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-6000:]
    counts = dict(kv.split("=") for kv in proc.stdout.split())
    assert sum(int(v) for v in counts.values()) == len(sample) * 7
