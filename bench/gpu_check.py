"""GPU check: everything gan-run does on a GPU, in one command, each stage timed and recorded.

Stages, in order; a stage that fails is recorded (with the end of its output) and the next
one still runs:

  1. smoke     every loss in conf/loss/ for 10 generator steps with tiny networks, through the
               real gan-run on the device (trainer=gpu: bf16-mixed), as one multirun; then
               gan-sample reloads each job's checkpoint and draws from it on the device
  2. throughput bench/throughput.py (gan-run against the plain torch loop, MLP and DCGAN
               64 × 64) in fp32 and bf16, each without and with compile=true: steps/s,
               images/s and the ratio
  3. ddp       trainer=ddp with trainer.devices=1 (trainer=ddp_cpu on the CPU): one run, then a
               two-job multirun
  4. memory    a DCGAN 64 × 64 run (batch 64, 2,048 shapes); its summary.json's
               peak_memory_mib (torch.cuda.max_memory_allocated on a GPU, peak RSS on the CPU):
               training and the final sample grid, without the FID feature classifier
               (eval.features=none), whose training is not what this stage measures

Everything is written to one JSON file (``--out``), rewritten after every stage so that a run
stopped by a time limit still leaves what it measured. Exit status 0 only if every stage passed.

    python bench/gpu_check.py --out gpu_check.json                 # on a GPU machine: < 8 min
    python bench/gpu_check.py --device cpu --quick --out x.json    # the same stages on a CPU: < 3 min
    python bench/gpu_check.py --device cpu --size smoke            # seconds: what the test suite runs

Sizes (``SIZES``): ``full`` (the default) and ``quick`` run every loss and every throughput
setting; ``quick`` times fewer steps and compiles only the MLP case (compiling the DCGAN on a
CPU alone takes a minute); ``smoke`` runs one loss (WGAN-GP: its penalty's double backward is
the path most likely to break), bf16 throughput of the MLP without compilation, one DDP run and
a small DCGAN, to prove the script works.

On a GPU machine that has torch and pytorch-lightning but not gan-run's pure-Python
dependencies (the device machine lent to this project: Python 3.12, torch with CUDA, Lightning
2.6, tensorboard, scipy, matplotlib, pillow and joblib preinstalled):

    make gpu-wheels                 # here, with internet: the missing wheels into .whl/ (git-ignored)
    # there, in a copy of the checkout that has .whl/, from the repository root:
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \\
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD && \\
        PYTHONUNBUFFERED=1 python3 bench/gpu_check.py --out gpu_check.json

No console script needs to be installed: gan-run and gan-sample run as ``python -m``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
GAN_RUN = [sys.executable, "-m", "gan_cli.commands.run"]
GAN_SAMPLE = [sys.executable, "-m", "gan_cli.commands.sample"]
# smoke-sized: what trainer=smoke sets, on whichever trainer the stage names
SMOKE = ["steps=10", "batch_size=64", "log_every=1", "eval_every=5", "eval_samples=256", "checkpoint_every=0",
         "model.hidden=[16,16]"]


@dataclass(frozen=True)
class Size:
    losses: tuple[str, ...] | None  # None: every loss in conf/loss/
    throughput: tuple[str, ...]  # bench/throughput.py's arguments
    compile_cases: str | None  # --cases for the compile=true runs; None: no compiled runs
    precisions: tuple[str, ...]  # throughput runs in each of these
    ddp_sweep: bool  # the two-job DDP multirun besides the single run
    dcgan_steps: int
    dcgan_images: int  # the shapes data set's size


BOTH_PRECISIONS = ("32-true", "bf16-mixed")
SIZES = {
    "full": Size(None, ("--rounds", "3", "--steps-mlp", "300", "--steps-dcgan", "100"), "mlp,dcgan64",
                 BOTH_PRECISIONS, True, 50, 2048),
    "quick": Size(None, ("--rounds", "1", "--steps-mlp", "20", "--steps-dcgan", "2"), "mlp",
                  BOTH_PRECISIONS, True, 5, 2048),
    "smoke": Size(("wgan_gp",), ("--rounds", "1", "--steps-mlp", "5", "--cases", "mlp"), None,
                  ("bf16-mixed",), False, 1, 128),
}


class Check:
    """The stages' shared state: where runs go, what the device is, and the JSON record."""

    def __init__(self, device: str, size: str, out: Path, root: Path, stage_timeout: float) -> None:
        self.device, self.out, self.root, self.stage_timeout = device, out, root, stage_timeout
        self.size = SIZES[size]
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        self.env.pop("HYDRA_FULL_ERROR", None)
        self.record: dict[str, Any] = {"device": device, "size": size, "python": platform.python_version(),
                                       "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "stages": []}

    @property
    def cuda(self) -> bool:
        return self.device == "cuda"

    def trainer(self) -> list[str]:
        """One device, bf16-mixed: trainer=gpu, or its CPU counterpart."""
        return ["trainer=gpu"] if self.cuda else ["trainer=cpu", "+trainer.precision=bf16-mixed"]

    def run(self, command: list[str], timeout: float | None = None) -> str:
        """Run a command; return its output, or raise with the end of it."""
        proc = subprocess.run(command, cwd=self.root, env=self.env, capture_output=True, text=True,
                              timeout=timeout or self.stage_timeout)
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise RuntimeError(f"exit {proc.returncode}: {' '.join(command[2:])}\n{output[-3000:]}")
        return output

    def save(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.record, indent=2) + "\n")
        os.replace(tmp, self.out)


def summaries(folder: Path) -> dict[str, dict]:
    """summary.json of every job folder under ``folder``, by folder name."""
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(folder.glob("*/summary.json"))}


def stage_smoke(check: Check) -> dict[str, Any]:
    losses = sorted(check.size.losses or (p.stem for p in (REPO / "conf" / "loss").glob("*.yaml")))
    sweep = check.root / "smoke"
    check.run([*GAN_RUN, "-m", *check.trainer(), *SMOKE, f"loss={','.join(losses)}", f"hydra.sweep.dir={sweep}"])
    jobs = summaries(sweep)
    details: dict[str, Any] = {}
    for name, summary in jobs.items():
        loss = dict(o.split("=", 1) for o in summary["overrides"] if "=" in o)["loss"]
        sample = sweep / name / "samples.npy"
        check.run([*GAN_SAMPLE, str(sweep / name / "checkpoints" / "last.ckpt"), "--num", "256",
                   "--out", str(sample), "--device", check.device])
        details[loss] = {"status": summary["status"], "steps": summary.get("steps"),
                         "wall_time_s": summary.get("wall_time_s"), "sample_file_bytes": sample.stat().st_size}
    if sorted(details) != losses or any(d["status"] != "completed" for d in details.values()):
        raise RuntimeError(f"expected every loss completed, got {details}")
    return details


TABLE_ROW = re.compile(r"^\| (\w+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| (\d+) \| (\d+) \| ([\d.]+) \|")


def stage_throughput(check: Check) -> dict[str, Any]:
    """bench/throughput.py per precision and compile setting; its table rows as numbers."""
    details: dict[str, Any] = {}
    failures = []
    for precision in check.size.precisions:
        for compile_ in (False, True) if check.size.compile_cases else (False,):
            label = f"{precision}{', compile' if compile_ else ''}"
            command = [sys.executable, str(BENCH / "throughput.py"), "--device", check.device,
                       "--precision", precision, *check.size.throughput,
                       *(["--compile", "--cases", check.size.compile_cases] if compile_ else [])]
            started = time.monotonic()
            try:
                output = check.run(command)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                failures.append(label)
                details[label] = {"error": str(e)[-2000:]}
                continue
            details[label] = {"seconds": round(time.monotonic() - started, 1), "cases": {
                m[1]: {"steps_per_run": int(m[2]), "gan_run_steps_per_s": float(m[3]),
                       "raw_steps_per_s": float(m[4]), "gan_run_images_per_s": int(m[5]),
                       "raw_images_per_s": int(m[6]), "raw_over_gan_run": float(m[7])}
                for m in map(TABLE_ROW.match, output.splitlines()) if m}}
    if failures:
        raise PartialFailure(f"failed: {', '.join(failures)}", details)
    return details


def stage_ddp(check: Check) -> dict[str, Any]:
    trainer = ["trainer=ddp", "trainer.devices=1"] if check.cuda else ["trainer=ddp_cpu", "trainer.devices=1"]
    single, sweep = check.root / "ddp_single", check.root / "ddp_sweep"
    check.run([*GAN_RUN, *trainer, *SMOKE, f"hydra.run.dir={single}"])
    if check.size.ddp_sweep:
        check.run([*GAN_RUN, "-m", *trainer, *SMOKE, "loss=gan,wgan", f"hydra.sweep.dir={sweep}"])
    jobs = {"single": json.loads((single / "summary.json").read_text()), **summaries(sweep)}
    details = {name: {"status": s["status"], "steps": s.get("steps")} for name, s in jobs.items()}
    expected = 3 if check.size.ddp_sweep else 1
    if len(details) != expected or any(d["status"] != "completed" for d in details.values()):
        raise RuntimeError(f"expected {expected} completed runs, got {details}")
    return details


def stage_memory(check: Check) -> dict[str, Any]:
    run = check.root / "dcgan64"
    steps = check.size.dcgan_steps
    check.run([*GAN_RUN, *check.trainer(), "model=dcgan", "dataset=shapes", "dataset.resolution=64",
               f"dataset.num_images={check.size.dcgan_images}", "batch_size=64", f"steps={steps}", "eval_every=0", "eval_samples=256",
               "checkpoint_every=0", "eval.features=none", f"hydra.run.dir={run}"])
    summary = json.loads((run / "summary.json").read_text())
    return {"steps": summary.get("steps"), "wall_time_s": summary.get("wall_time_s"),
            "peak_memory_mib": summary.get("peak_memory_mib")}


class PartialFailure(RuntimeError):
    """A stage failed in part; ``details`` holds what did pass."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


STAGES: list[tuple[str, Callable[[Check], dict[str, Any]]]] = [
    ("smoke", stage_smoke), ("throughput", stage_throughput), ("ddp", stage_ddp), ("memory", stage_memory)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--size", choices=sorted(SIZES), default="full", help="how much to run (default: full)")
    parser.add_argument("--quick", action="store_const", dest="size", const="quick", help="--size quick")
    parser.add_argument("--out", type=Path, default=Path("gpu_check.json"), help="the JSON record")
    parser.add_argument("--stages", default=",".join(name for name, _ in STAGES),
                        help="comma-separated subset, in the order above")
    parser.add_argument("--stage-timeout", type=float, default=300, help="seconds one command may take")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.stages.split(",") if s.strip()]
    known = [name for name, _ in STAGES]
    if not chosen or any(s not in known for s in chosen):
        parser.error(f"--stages from {', '.join(known)}")

    import torch  # after argument parsing: --help answers at once

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda: no CUDA device was found on this machine; use --device cpu")
    with tempfile.TemporaryDirectory(prefix="gan-run-gpu-check-") as tmp:
        check = Check(args.device, args.size, args.out.resolve(), Path(tmp), args.stage_timeout)
        check.record.update(torch=torch.__version__, gpu=torch.cuda.get_device_name() if check.cuda else None)
        start = time.monotonic()
        for name, stage in STAGES:
            if name not in chosen:
                continue
            entry: dict[str, Any] = {"name": name}
            began = time.monotonic()
            try:
                entry["details"] = stage(check)
                entry["ok"] = True
            except Exception as e:  # recorded; the next stage still runs
                entry.update(ok=False, error=str(e)[-4000:] or traceback.format_exc()[-4000:])
                if isinstance(e, PartialFailure):
                    entry["details"] = e.details
            entry["seconds"] = round(time.monotonic() - began, 1)
            check.record["stages"].append(entry)
            check.record["total_seconds"] = round(time.monotonic() - start, 1)
            check.save()
            print(f"{name}: {'ok' if entry['ok'] else 'FAILED'} in {entry['seconds']:.0f} s", flush=True)
            if not entry["ok"]:
                print("  " + entry["error"].strip().splitlines()[0], flush=True)
    passed = all(entry["ok"] for entry in check.record["stages"])
    print(f"gpu check: {'passed' if passed else 'failed'} in {check.record['total_seconds']:.0f} s; record: {args.out}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
