"""Quiet logs: the `make run` supervisor drops MediaPipe / TensorFlow Lite's native INFO/WARNING lines
(they ignore TF_CPP_MIN_LOG_LEVEL and GLOG_minloglevel) but keeps errors and our own lines; the LOGGING
filter leaves one rq line per job."""

import importlib.util
import logging
import sys
from pathlib import Path

from loveloveshot.settings.logfilters import OneLinePerJob

REPO = Path(__file__).resolve().parents[2]


def supervise():
    spec = importlib.util.spec_from_file_location("supervise", REPO / "scripts" / "supervise.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["supervise"] = module  # dataclasses look their module up
    cwd = Path.cwd()
    try:
        spec.loader.exec_module(module)
    finally:
        import os

        os.chdir(cwd)
    return module


# Lines MediaPipe 0.10.21 writes to fd 2 on its first inference in a process (seen at seed time and
# at every worker start).
NATIVE_NOISE = [
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "W0000 00:00:1796140699.450049    5105 inference_feedback_manager.cc:114] Feedback manager requires a model "
    "with a single signature inference. Disabling support for feedback tensors.\n",
    "I0000 00:00:1796140699.450049    5105 gl_context.cc:369] GL version: 2.1\n",
]
KEPT = [
    "E0000 00:00:1796140699.450049    5105 calculator_graph.cc:887] INVALID_ARGUMENT: bad packet\n",
    "job ede4b025-1ebe-4246-b202-a438bd520ebe done in 8.0s pid=32419\n",
    "WARNING:gpu_worker:redis unavailable, retrying\n",
    "Traceback (most recent call last):\n",
]


def test_native_noise_is_dropped_and_the_rest_kept():
    noise = supervise().NOISE
    assert [line for line in NATIVE_NOISE if not noise.match(line)] == []
    assert [line for line in KEPT if noise.match(line)] == []


def _record(msg, args, level=logging.INFO):
    return logging.LogRecord("rq.worker", level, __file__, 1, msg, args, None)


def test_rq_keeps_one_line_per_job():
    f = OneLinePerJob()
    taken = _record("Worker %s: %s: %s (%s)", ("w1", "swap", "gpu_worker.tasks.run_swap('x')", "abc"))
    cleaning = _record("Worker %s: cleaning registries for queue: %s", ("w1", "swap"))
    done = _record("Successfully completed %s job in %ss on worker %s", ("run_swap", "8.0", "w1"))
    failed = _record("Worker %s: job %s failed (%s)", ("w1", "abc", "boom"), logging.WARNING)
    assert [f.filter(r) for r in (taken, cleaning, done, failed)] == [False, False, True, True]
