"""The structure-aware fuzzer: mutate real TIFFs, decode each mutant in worker processes, report what broke.

    python tests/fuzz/run.py                     # 2,000 mutants of the corpus's small files, seed 1
    python tests/fuzz/run.py --long --seed 7     # 100,000 mutants (by hand; hours on 2 cores)
    python tests/fuzz/run.py --keep /tmp/found   # copy every failing mutant there, with what was done

A mutant fails when any API ends in an exception that is not a ``TiffError`` (MemoryError under the
address-space limit included), a ``TiffError`` that names no file, a hang past ``--timeout``, a crashed
worker, or a decode whose bytes differ when a second worker process decodes the mutant again.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mutate import mutant

LIMIT_FLOOR = 5 << 30  # address space a decode may add: 1 GiB outputs (the reader's floor) x colour conversion
LIMIT_PER_BYTE = 4096  # ... or this much per byte of the file, when more
SLOW_FAILURE = 1.0  # seconds: a TiffError that takes longer is reported (work not bounded by the input)


@dataclass
class Failure:
    name: str
    base: str
    operations: list[str]
    what: str


@dataclass
class Report:
    mutants: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: list[Failure] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    slow_failures: list[tuple[float, str, str]] = field(default_factory=list)  # TiffErrors after > 1 s
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"{self.mutants} mutants in {self.seconds:.0f} s; outcomes per API: {dict(self.outcomes)}"]
        lines.append(f"failures: {len(self.failures)}")
        lines += [
            f"  {f.name} ({f.base}; {'; '.join(f.operations)}): {f.what.splitlines()[-1][:200]}"
            for f in self.failures[:40]
        ]
        lines.append("slowest: " + ", ".join(f"{s:.2f} s {n}" for s, n in sorted(self.slowest, reverse=True)[:5]))
        lines.append(f"TiffErrors raised after more than {SLOW_FAILURE} s: {len(self.slow_failures)}")
        lines += [f"  {s:.2f} s {n}: {m[:160]}" for s, n, m in sorted(self.slow_failures, reverse=True)[:10]]
        return "\n".join(lines)


class Worker:
    """One worker process; ``decode`` returns its outcomes, or None when it hung or died (it is restarted).

    ``perturb``: glibc fills memory malloc hands out with this byte (MALLOC_PERTURB_), a different one in each
    worker, so a decode that reads memory nobody wrote differs between the two processes that decode a mutant.
    """

    def __init__(self, timeout: float, perturb: int) -> None:
        self.timeout = timeout
        self.perturb = perturb
        self.process: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()

    def _start(self) -> None:
        env = dict(os.environ, PYTHONFAULTHANDLER="1", OMP_NUM_THREADS="1", MALLOC_PERTURB_=str(self.perturb))
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "worker.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.process, self.lines), daemon=True).start()
        ready = self.lines.get(timeout=120)
        if ready is None:
            raise RuntimeError("fuzz worker failed to start")

    @staticmethod
    def _pump(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    def decode(self, path: str, limit: int) -> tuple[dict[str, list[object]] | None, str]:
        if self.process is None or self.process.poll() is not None:
            self._start()
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(json.dumps({"path": path, "limit": limit}) + "\n")
        self.process.stdin.flush()
        try:
            line = self.lines.get(timeout=self.timeout)
        except queue.Empty:
            self.stop()
            return None, f"hang: no answer within {self.timeout} s"
        if line is None:
            code = self.process.wait()
            self.stop()
            return None, f"worker died with exit status {code}"
        return json.loads(line), ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    pipe.close()
            self.process = None


def base_files(corpus: pathlib.Path, max_size: int) -> list[pathlib.Path]:
    """The corpus's files up to ``max_size`` bytes, in inventory order."""
    import csv

    with (corpus / "INVENTORY.tsv").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [corpus / row["path"] for row in rows if int(row["size"]) <= max_size]


def _pixels(outcomes: dict[str, list[object]]) -> dict[str, object]:
    """What must be the same in every process: each API's digest, or that it failed (the first error met
    among concurrently read chunks may differ)."""
    return {api: outcome[1] if outcome[0] == "ok" else outcome[0] for api, outcome in outcomes.items()}


def check(outcomes: dict[str, list[object]]) -> str:
    """What is wrong with one decode's outcomes ('' when nothing)."""
    for api, outcome in outcomes.items():
        if outcome[0] == "other":
            return f"{api}: {outcome[1]}"
        if outcome[0] == "TiffError" and not outcome[2]:
            return f"{api}: TiffError names no file: {outcome[1]}"
    return ""


def run(
    files: list[pathlib.Path],
    mutants: int,
    *,
    seed: int = 1,
    jobs: int = 2,
    timeout: float = 30.0,
    keep: pathlib.Path | None = None,
    extra: list[pathlib.Path] = (),  # type: ignore[assignment]
) -> Report:
    """Decode ``mutants`` mutants of ``files`` (and each file of ``extra`` as it is) on ``jobs`` workers."""
    started = time.perf_counter()
    report = Report()
    workers = [Worker(timeout, perturb=0x5A + 0x33 * k) for k in range(jobs)]
    with tempfile.TemporaryDirectory(prefix="tiffstream-fuzz-") as scratch:
        cases: list[tuple[str, str, list[str], bytes]] = [(p.name, p.name, ["as kept"], p.read_bytes()) for p in extra]
        for i in range(mutants):
            rng = np.random.default_rng([seed, i])
            base = files[int(rng.integers(len(files)))]
            data, operations = mutant(base.read_bytes(), rng)
            cases.append((f"{seed}-{i}", base.name, operations, data))
        first: dict[int, dict[str, list[object]]] = {}
        lock = threading.Lock()

        def record(index: int, outcomes: dict[str, list[object]] | None, why: str, seconds: float) -> None:
            name, base, operations, data = cases[index]
            with lock:
                report.slowest.append((seconds, name))
                report.slowest = sorted(report.slowest, reverse=True)[:10]
                if outcomes is not None:
                    for api, outcome in outcomes.items():
                        report.outcomes[f"{api}:{outcome[0]}"] += 1
                        if outcome[0] == "TiffError" and float(outcome[3]) > SLOW_FAILURE:  # type: ignore[arg-type]
                            report.slow_failures.append((float(outcome[3]), f"{name} {api}", str(outcome[1])))  # type: ignore[arg-type]
                    why = why or check(outcomes)
                if why:
                    report.failures.append(Failure(name, base, operations, why))
                    if keep is not None:
                        keep.mkdir(parents=True, exist_ok=True)
                        (keep / f"{name}.tif").write_bytes(data)
                        (keep / f"{name}.txt").write_text(f"{base}\n{operations}\n{why}\n")

        def serve(worker: Worker, indices: list[int], compare: bool) -> None:
            for index in indices:
                name, _, _, data = cases[index]
                path = os.path.join(scratch, f"{name}.tif")
                if not compare:
                    with open(path, "wb") as handle:
                        handle.write(data)
                t0 = time.perf_counter()
                outcomes, why = worker.decode(path, max(LIMIT_FLOOR, LIMIT_PER_BYTE * len(data)))
                seconds = time.perf_counter() - t0
                if compare:  # the second decode, in another process: the same bytes?
                    if outcomes is not None and _pixels(outcomes) != _pixels(first[index]):
                        record(index, None, f"not deterministic: {first[index]} then {outcomes}", 0.0)
                    continue
                if outcomes is not None:
                    first[index] = outcomes
                record(index, outcomes, why, seconds)

        def fan_out(indices: list[int], compare: bool) -> None:
            threads = [
                threading.Thread(target=serve, args=(worker, indices[k::jobs], compare))
                for k, worker in enumerate(workers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        try:
            fan_out(list(range(len(cases))), compare=False)
            decoded = [i for i in sorted(first) if any(o[0] == "ok" for o in first[i].values())]
            workers.append(workers.pop(0))  # each mutant goes to another process the second time
            fan_out(decoded, compare=True)
        finally:
            for worker in workers:
                worker.stop()
    report.mutants = len(cases)
    report.seconds = time.perf_counter() - started
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=pathlib.Path, default=HERE.parents[2] / "shared" / "corpus")
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--long", action="store_true", help="100,000 mutants")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-size", type=int, default=300_000, help="largest corpus file to mutate (bytes)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one mutant may take")
    parser.add_argument("--keep", type=pathlib.Path, help="copy failing mutants here")
    args = parser.parse_args()
    files = base_files(args.corpus, args.max_size)
    report = run(
        files,
        100_000 if args.long else args.mutants,
        seed=args.seed,
        jobs=args.jobs,
        timeout=args.timeout,
        keep=args.keep,
    )
    print(report.summary())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
