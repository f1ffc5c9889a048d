"""Upload benchmark (issue 16): the time and memory for an uploaded CSV to be read into its job's items until
the job's first queue window is enqueued, and that memory does not grow with the file.

    python -m bench.uploads [--rows 100000] [--backends aws embedded] [--budget 30] [--companies 2000]

The rows are leads drawn from the provider simulator's world (`World.sample_leads`: companies with and
without names and people, some webmail and malformed domains, which the reader refuses with their lines),
written once as a UTF-8 CSV. Then, for `--rows` and for a tenth of it, and for each backend, in a fresh
process of its own (so that its peak RSS is its own): the file is written to the blob store a MiB at a time,
the job created through the job service (`POST /jobs {"upload_id"}`'s path), and the processor's runs are
made back to back (`Processor.drain(receive=False)`: release due jobs, which reads due uploads in up to half
of what is left of the run's budget, as `handle_process` does) until one releases the job: its first queue
window is sent. The minute between production's scheduled runs is left out; a run's reading is bounded by
the budget either way.

Backends: `aws` is DynamoDB + SQS + S3 on a moto server in a process of its own (as bench.drain: moto's
CPU and the items it holds are not this process's); `embedded` is the local stack's SQLite file and file
blob store, in this process. The daily lead quota is off (`DAILY_LEAD_QUOTA=0`): the default 50,000 a day
would stop a 100,000-row file halfway (`upload.stopped`).

Printed per backend and size: the wall time and rows per second (items made and refusals), the processor
runs needed, the peak traced Python memory (tracemalloc, during the reading only, in a second process: it
slows Python down, so the timed run has it off) and the peak RSS of the process (and what it was before the
reading began). The reader holds one ranged read (`uploads.loader.CHUNK_BYTES`, 1 MiB: about 23,000 rows
here) and a page of items at a time, so the traced peak levels off once the file is larger than one read:
a file smaller than that (10,000 rows: 0.4 MiB) peaks lower. `--more-sizes 30000 300000` shows the level.
Wall time and rows per second count the reading and then the run's release of the first window.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.servers import PATHS, ServerProcess, serve_moto

WORKSPACE = "default"
BUCKET = "leadenrich-bench-uploads"
CHUNK = 1 << 20
MIB = 1024 * 1024


def write_leads(path: Path, rows: int, companies: int, seed: int) -> int:
    """`rows` leads from the simulator's world as a CSV at `path` (written a row at a time); its size."""
    sys.path[:0] = [str(p) for p in PATHS if str(p) not in sys.path]
    from enrich_tools.simulator import SimConfig
    from enrich_tools.simulator.state import build_world

    world = build_world(SimConfig(seed=seed, companies=companies))
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["Website", "Company", "First Name", "Last Name", "Record ID"])
        for lead in world.sample_leads(rows, seed):
            writer.writerow(
                [
                    lead.domain,
                    lead.company_name or "",
                    lead.first_name or "",
                    lead.last_name or "",
                    lead.external_id,
                ]
            )
    return path.stat().st_size


def _environment(backend: str, folder: Path, moto_url: str | None) -> dict[str, str]:
    env = {
        "DAILY_LEAD_QUOTA": "0",
        "HUNTER_API_KEY": "bench-hunter-key",  # the processor is built with providers; no item runs here
        "PERPLEXITY_API_KEY": "bench-pplx-key",
        "HUNTER_API_BASE_URL": "http://127.0.0.1:9/v2",
        "PERPLEXITY_API_BASE_URL": "http://127.0.0.1:9",
    }
    if backend == "aws":
        assert moto_url is not None
        return env | {
            "BACKEND": "aws",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_ENDPOINT_URL": moto_url,
            "TABLE_NAME": "leadenrich",
            "SERIALIZE_AWS_CALLS": "true",
            "UPLOAD_BUCKET": BUCKET,
        }
    return env | {
        "BACKEND": "embedded",
        "STATE_DB": str(folder / "leadenrich.sqlite3"),
        "LOCAL_BLOB_DIR": str(folder / "blobs"),
        "LOCAL_BLOB_URL": "http://127.0.0.1:9",  # presigned URLs are not used here
        "LOCAL_BLOB_SECRET": "bench-blob-secret-0123456789",
    }


def _measure(
    conn: Any, backend: str, csv_path: str, env: Mapping[str, str], budget: float, traced: bool
) -> None:
    """In a fresh process: the file into the blob store, the job, then processor runs until it is released."""
    sys.path[:0] = [str(p) for p in PATHS if str(p) not in sys.path]
    os.environ.update(env)
    conn.send(asyncio.run(_load(backend, Path(csv_path), budget, traced)))


async def _load(backend: str, csv_path: Path, budget: float, traced: bool) -> dict[str, Any]:
    from leadenrich import runtime
    from leadenrich.jobs.requests import CreateJobRequest
    from leadenrich.runtime_uploads import blob_store
    from leadenrich.uploads.models import upload_key
    from leadenrich.uploads.service import new_upload_id

    if backend == "aws":
        import boto3

        from leadenrich.aws.dynamo_schema import create_table
        from leadenrich.aws.sqs_queue import create_band_queues

        create_table(boto3.client("dynamodb"), "leadenrich")
        os.environ.update(
            runtime.queue_environment(create_band_queues(boto3.client("sqs"), "leadenrich-work"))
        )
        boto3.client("s3").create_bucket(Bucket=BUCKET)
    runtime.reset()
    blobs = blob_store()
    assert blobs is not None
    upload_id = new_upload_id()

    async def chunks() -> AsyncIterator[bytes]:
        with csv_path.open("rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk

    await blobs.write(upload_key(WORKSPACE, upload_id), chunks(), content_type="text/csv")
    service = runtime.job_service()
    created = await service.create_job(WORKSPACE, CreateJobRequest(upload_id=upload_id))
    job_id = created.job.job_id
    processor = runtime.processor()
    loader = processor.uploads
    assert loader is not None
    read_until: list[float] = []  # when the reader last returned: the rest of the run released the job
    read = loader.load

    async def timed_read(job: Any, deadline: Any) -> Any:
        try:
            return await read(job, deadline)
        finally:
            read_until.append(time.perf_counter())

    loader.load = timed_read  # type: ignore[method-assign]
    rss_before = _rss_mib()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    runs: list[float] = []
    released = False
    while not released and len(runs) < 1000:
        run_started = time.perf_counter()
        report = await processor.drain(budget, receive=False)
        runs.append(time.perf_counter() - run_started)
        released = report.released_jobs > 0
        job = await service.store.get_job(WORKSPACE, job_id)
        if job is None or job.options.upload is None or job.options.upload.state == "failed":
            break
    ended = time.perf_counter()
    wall = ended - started
    traced_peak = tracemalloc.get_traced_memory()[1] / MIB if traced else None
    tracemalloc.stop()
    job = await service.store.get_job(WORKSPACE, job_id)
    assert job is not None and job.options.upload is not None
    upload = job.options.upload
    runtime.reset()
    return {
        "released": released,
        "state": upload.state,
        "failure": upload.failure,
        "rows": upload.rows,
        "refused": upload.refused,
        "total": job.counters.total,
        "bytes": upload.size,
        "wall": wall,
        "runs": len(runs),
        "longest_run": max(runs, default=0.0),
        "reading": (read_until[-1] if read_until else ended) - started,
        "releasing": ended - read_until[-1] if read_until else 0.0,  # the last run's, after its reading
        "traced_peak_mib": traced_peak,
        "rss_before_mib": rss_before,
        "rss_peak_mib": _rss_mib(),
    }


def _rss_mib() -> float:
    """This process's peak RSS (`VmHWM`): unlike `ru_maxrss`, it starts afresh at exec, so the parent's
    memory (the leads it generated) does not count in the spawned process's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(backend: str, csv_path: Path, budget: float, traced: bool) -> dict[str, Any]:
    """One backend and file in a fresh process (and a fresh moto server for `aws`)."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as folder:
        if backend == "aws":
            with ServerProcess(serve_moto, health_path="/moto-api/") as aws:
                return _in_process(
                    context,
                    backend,
                    csv_path,
                    _environment(backend, Path(folder), aws.base_url),
                    budget,
                    traced,
                )
        return _in_process(
            context, backend, csv_path, _environment(backend, Path(folder), None), budget, traced
        )


def _in_process(
    context: Any, backend: str, csv_path: Path, env: Mapping[str, str], budget: float, traced: bool
) -> dict[str, Any]:
    ours, theirs = context.Pipe()
    process = context.Process(
        target=_measure, args=(theirs, backend, str(csv_path), dict(env), budget, traced)
    )
    process.start()
    try:
        result: dict[str, Any] = ours.recv()
    finally:
        process.join(60)
    return result


def report(backend: str, rows: int, timed: Mapping[str, Any], traced: Mapping[str, Any] | None) -> None:
    read = timed["rows"] + timed["refused"]
    done = (
        "first window enqueued"
        if timed["released"]
        else f"NOT released ({timed['state']}: {timed['failure']})"
    )
    print(
        f"  {backend:<8} {rows:>8,} rows, {timed['bytes'] / MIB:4.1f} MiB: {timed['wall']:6.1f} s in all,"
        f" {timed['runs']} run(s), longest {timed['longest_run']:.1f} s; {done}"
    )
    print(
        f"{'':<21} read {read:,} rows ({timed['rows']:,} items, {timed['refused']:,} refused) in"
        f" {timed['reading']:.1f} s: {read / max(timed['reading'], 1e-9):,.0f} rows/s;"
        f" then {timed['releasing']:.1f} s to release the job"
    )
    peak = f"{traced['traced_peak_mib']:.1f} MiB" if traced else "-"
    print(
        f"{'':<21} memory: traced peak {peak}; peak RSS {timed['rss_peak_mib']:.0f} MiB"
        f" ({timed['rss_before_mib']:.0f} MiB before reading)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=100_000, help="the larger file; a tenth of it is read too"
    )
    parser.add_argument("--backends", nargs="+", choices=["aws", "embedded"], default=["aws", "embedded"])
    parser.add_argument("--budget", type=float, default=30.0, help="each processor run's budget (seconds)")
    parser.add_argument("--companies", type=int, default=2000, help="simulated world size (distinct domains)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc runs (half the time)")
    parser.add_argument(
        "--more-sizes", type=int, nargs="*", default=[], help="more file sizes (rows) to read as well"
    )
    opts = parser.parse_args(argv)
    sizes = sorted({max(1, opts.rows // 10), opts.rows, *opts.more_sizes})
    with tempfile.TemporaryDirectory(prefix="bench-uploads-csv-") as folder:
        files = {}
        for size in sizes:
            files[size] = Path(folder) / f"leads-{size}.csv"
            write_leads(files[size], size, opts.companies, opts.seed)
        print(f"an upload read until its first window is enqueued (runs of {opts.budget:g} s, back to back)")
        for backend in opts.backends:
            for size in sizes:
                timed = measure(backend, files[size], opts.budget, traced=False)
                traced = None if opts.no_trace else measure(backend, files[size], opts.budget, traced=True)
                report(backend, size, timed, traced)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
