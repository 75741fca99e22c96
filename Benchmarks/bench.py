#!/usr/bin/env python3
"""Every performance figure of docs/performance.md, side by side with its peer or physical limit,
measured in one run on this machine (scripts/bench.sh builds what it needs and calls this).

usage: bench.py --slawatch BIN --bench-io BIN --make-state BIN [--runs 3] [--events 5000000]
                [--quick] [--write-docs docs/performance.md]

Figures (each stream and datagram figure is the min / median / max of --runs runs):
  stream       events per CPU-second of the receiving process, one Unix stream connection, the
               same payload file to slawatch (1,000 count objectives over the metrics; and none
               matching), to netdata's statsd (Debian netdata-core, TCP on loopback: its statsd
               has no Unix stream socket) and to a raw reader (bench_io: read and count newlines)
  datagram     datagrams per second and lines per CPU-second, 1 and 20 lines per datagram,
               slawatch's ingest.dgram against the raw reader's recvmmsg loop
  drop         lines per second of one statsd file dropped into the drop directory
  latency      #sync round trips, ingest with #sync every 1,000 events against none, CPU of a
               1,000 events/s trickle, alert latency idle and with 1,000 busy objectives
  start-up     READY time, RSS and idle CPU with 10,000 (and 100,000 without --quick) p99
               instances over full 30-day windows of log-normal latencies
  series       RSS with 1,000,000 distinct gauge series sent (gauge_deltas: true, max_series)
Everything runs on this machine; every process started here is stopped by its pid.
"""
import argparse, datetime, json, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def status_value(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def triple(values):
    v = sorted(values)
    return v[0], statistics.median(v), v[-1]


def fmt(x, unit=""):
    if x != x:
        return "n/a"
    for limit, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " K")):
        if abs(x) >= limit:
            return f"{x / limit:.2f}{suffix}{unit}"
    return f"{x:.3g}{(' ' + unit) if unit else ''}"


def fmt3(t, unit=""):
    return f"**{fmt(t[1], unit)}** ({fmt(t[0])}–{fmt(t[2])})"


class Daemon:
    """slawatch on a scratch directory, entries on stderr (never the machine's journal)."""

    def __init__(self, binary, objectives_yaml, extra=""):
        self.dir = tempfile.mkdtemp(prefix="slawatch-bench-")
        os.makedirs(os.path.join(self.dir, "objectives.d"))
        with open(os.path.join(self.dir, "objectives.d", "bench.yaml"), "w") as f:
            f.write(objectives_yaml)
        with open(os.path.join(self.dir, "slawatch.yaml"), "w") as f:
            f.write("state_directory: state\nruntime_directory: run\ndrop_directory: drop\n"
                    "objectives_directory: objectives.d\nmax_future_skew: 5m\n" + extra)
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.log = open(self.log_path, "w")
        self.p = subprocess.Popen([binary, "daemon", "--config", os.path.join(self.dir, "slawatch.yaml"), "--stderr"],
                                  stdout=self.log, stderr=self.log)
        self.run = os.path.join(self.dir, "run")
        for _ in range(600):
            if os.path.exists(os.path.join(self.run, "control.sock")):
                try:
                    self.status()
                    break
                except OSError:
                    pass
            time.sleep(0.05)
        self.pid = self.p.pid

    def status(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.path.join(self.run, "control.sock"))
        s.sendall(b"status\n")
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        s.close()
        return json.loads(data)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(120)
        except subprocess.TimeoutExpired:
            self.p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def objectives(prefix="bench.s", n=1000, window="5m", extra=""):
    lines = ["slas:", "  - {name: bench, provider: bench, customer: bench, objectives: ["]
    for i in range(n):
        lines.append(f"      {{name: bench-{i}, metric: {prefix}{i}, sli: count, window: {window}, direction: at_most, "
                     f"baseline: 1e15, nodata: ok}},")
    lines.append(extra)
    lines.append("    ]}")
    return "\n".join(lines) + "\n"


def payload(path, events, series, sync=True):
    names = max(1, min(series, 1000))
    shards = max(1, series // names)
    with open(path, "wb") as f:
        chunk = []
        for i in range(events):
            line = f"bench.s{i % names}:1|c"
            if shards > 1:
                line += f"|#shard:{i // names % shards}"
            chunk.append(line)
            if len(chunk) == 100000:
                f.write(("\n".join(chunk) + "\n").encode())
                chunk = []
        if chunk:
            f.write(("\n".join(chunk) + "\n").encode())
    size = os.path.getsize(path)
    with open(path + ".sync", "wb") as out, open(path, "rb") as src:
        shutil.copyfileobj(src, out)
        out.write(b"#sync bench\n")
    return size


def bench_io(args, *rest):
    return subprocess.run([args.bench_io, *rest], check=True, capture_output=True, text=True).stdout


def wait_cpu_stable(pids_fn, quiet=0.5, limit=300):
    last, since, start = -1.0, time.monotonic(), time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() - start < limit:
        now = pids_fn()
        if now != last:
            last, since = now, time.monotonic()
        time.sleep(0.05)
    return last


def stream_section(args, rows, work):
    # slawatch and netdata run side by side and are measured alternately, one send each in
    # turn, so a few seconds of a noisy neighbour fall on both; the ratio is the median of
    # the pairs' ratios (each pair measured back to back).
    runs_n = max(args.runs, 5)
    for series in (1000, 100000):
        path = os.path.join(work, f"stream-{series}.statsd")
        payload(path, args.events, series)
        results = {}
        # The raw reader.
        raw_sock = os.path.join(work, "raw.sock")
        if os.path.exists(raw_sock):
            os.remove(raw_sock)  # the last reader's: waiting for the new one's to appear
        reader = subprocess.Popen([args.bench_io, "read-stream", raw_sock], stdout=subprocess.PIPE, text=True)
        while not os.path.exists(raw_sock):
            time.sleep(0.01)
        runs = []
        for _ in range(runs_n):
            # The raw reader needs a few hundredths of a second for one payload: send it
            # repeatedly until the CPU time is well above the clock tick.
            c0, sends = cpu(reader.pid), 0
            while sends < 200 and (cpu(reader.pid) - c0 < 0.3 or sends < 3):
                bench_io(args, "send-stream", raw_sock, path)
                reader.stdout.readline()
                sends += 1
            runs.append(sends * args.events / max(cpu(reader.pid) - c0, 0.001))
        reader.terminate()
        reader.wait()
        results["raw"] = triple(runs)
        # slawatch with 1,000 objectives over the metrics (and, alone, with none matching).
        if series == 1000:
            d = Daemon(args.slawatch, objectives(prefix="other.s"))
            sock = os.path.join(d.run, "ingest.sock")
            bench_io(args, "send-stream", sock, path + ".sync", "ok bench ")  # warm-up
            runs = []
            for _ in range(runs_n):
                c0 = cpu(d.pid)
                bench_io(args, "send-stream", sock, path + ".sync", "ok bench ")
                runs.append(args.events / max(cpu(d.pid) - c0, 0.01))
            d.stop()
            results["nomatch"] = triple(runs)
        d = Daemon(args.slawatch, objectives())
        sock = os.path.join(d.run, "ingest.sock")
        bench_io(args, "send-stream", sock, path + ".sync", "ok bench ")  # warm-up
        nd = netdata_start(work)
        if nd:
            bench_io(args, "send-tcp", "127.0.0.1", "18125", path)  # warm-up
            wait_cpu_stable(lambda: cpu(nd.pid))
        mine, theirs, ratios = [], [], []
        for _ in range(runs_n):
            c0 = cpu(d.pid)
            bench_io(args, "send-stream", sock, path + ".sync", "ok bench ")
            mine.append(args.events / max(cpu(d.pid) - c0, 0.01))
            if nd:
                c0 = cpu(nd.pid)
                bench_io(args, "send-tcp", "127.0.0.1", "18125", path)
                used = wait_cpu_stable(lambda: cpu(nd.pid)) - c0
                theirs.append(args.events / max(used, 0.01))
                ratios.append(mine[-1] / theirs[-1])
        d.stop()
        if nd:
            nd.terminate()
            nd.wait()
        s, r = triple(mine), results["raw"]
        n = triple(theirs) if nd else None
        ratio = sorted(ratios)[len(ratios) // 2] if ratios else None
        rows.append((f"stream, {series:,} series, 1,000 count objectives (events per CPU-second)",
                     fmt3(s), f"netdata {fmt3(n)}; raw reader {fmt3(r)}" if n else f"raw reader {fmt3(r)}",
                     f"{ratio:.2f}× netdata ({min(ratios):.2f}–{max(ratios):.2f})" if ratio else "n/a"))
        if "nomatch" in results:
            rows.append(("stream, no objective matching (parse + pipeline only)", fmt3(results["nomatch"]), "", ""))
        os.remove(path)
        os.remove(path + ".sync")


def netdata_start(work):
    if not shutil.which("netdata"):
        print("netdata is not installed (scripts/ensure-deps.sh --bench): no netdata column", file=sys.stderr)
        return None
    nd_dir = os.path.join(work, "netdata")
    for d in ("cache", "lib", "log", "run"):
        os.makedirs(os.path.join(nd_dir, d), exist_ok=True)
    with open(os.path.join(HERE, "netdata.conf")) as f:
        conf = f.read().replace("/tmp/nd", nd_dir)
    with open(os.path.join(nd_dir, "netdata.conf"), "w") as f:
        f.write(conf)
    nd = subprocess.Popen(["netdata", "-D", "-c", os.path.join(nd_dir, "netdata.conf")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", 18125), timeout=0.1).close()
            return nd
        except OSError:
            time.sleep(0.05)
    nd.terminate()
    return None


def datagram_section(args, rows, work):
    count = 50000 if args.quick else 200000
    for lines in (1, 20):
        d = Daemon(args.slawatch, objectives())
        dgram = os.path.join(d.run, "ingest.dgram")
        runs_rate, runs_cpu = [], []
        for _ in range(args.runs):
            before = d.status()["accepted"]
            c0, t0 = cpu(d.pid), time.monotonic()
            bench_io(args, "send-dgram", dgram, str(count), str(lines))
            while d.status()["accepted"] < before + count * lines:
                time.sleep(0.002)
            wall = time.monotonic() - t0
            runs_rate.append(count / wall)
            runs_cpu.append(count * lines / max(cpu(d.pid) - c0, 0.01))
        d.stop()
        raw_sock = os.path.join(work, "raw.dgram")
        reader = subprocess.Popen([args.bench_io, "read-dgram", raw_sock], stdout=subprocess.PIPE, text=True)
        while not os.path.exists(raw_sock):
            time.sleep(0.01)
        raw_rate, raw_cpu = [], []
        total = 0
        for _ in range(args.runs):
            c0, t0 = cpu(reader.pid), time.monotonic()
            bench_io(args, "send-dgram", raw_sock, str(count), str(lines))
            total += count
            while True:
                line = reader.stdout.readline()
                if int(line.split()[1]) >= total:
                    break
            wall = time.monotonic() - t0 - 0.5  # the reader reports after 0.5 s of quiet
            raw_rate.append(count / max(wall, 0.001))
            raw_cpu.append(count * lines / max(cpu(reader.pid) - c0, 0.001))
        reader.terminate()
        reader.wait()
        s, r = triple(runs_rate), triple(raw_rate)
        rows.append((f"datagrams, {lines} line{'s' if lines > 1 else ''} each (datagrams per second)", fmt3(s),
                     f"raw reader {fmt3(r)}", f"{r[1] / s[1]:.2f}× below raw"))
        rows.append((f"datagrams, {lines} line{'s' if lines > 1 else ''} each (lines per CPU-second)",
                     fmt3(triple(runs_cpu)), f"raw reader {fmt3(triple(raw_cpu))}", ""))


def drop_section(args, rows, work):
    gib = 0.25 if args.quick else 1.0
    d = Daemon(args.slawatch, "slas:\n  - {name: b, provider: b, customer: b, objectives: [{name: big, metric: bench.big, "
                              "sli: count, window: 1h, direction: at_most, baseline: 1e15, nodata: ok}]}\n")
    staging = os.path.join(d.dir, "big.statsd")
    line = b"bench.big:1|c\n"
    block = line * (1 << 16)
    written = 0
    with open(staging, "wb") as f:
        while written < gib * (1 << 30):
            f.write(block)
            written += len(block)
    lines = written // len(line)
    hwm0 = status_value(d.pid, "VmHWM")
    os.rename(staging, os.path.join(d.dir, "drop", "big.statsd"))
    seconds = None
    for _ in range(6000):
        with open(d.log_path) as f:
            m = re.search(r"ingested big\.statsd: .*SLAWATCH_SECONDS=([0-9.]+)", f.read())
        if m:
            seconds = float(m.group(1))
            break
        time.sleep(0.1)
    growth = status_value(d.pid, "VmHWM") - hwm0
    d.stop()
    rows.append((f"drop directory, {gib:g} GiB statsd file (lines per second)",
                 f"**{fmt(lines / seconds)}**" if seconds else "n/a", f"peak memory growth {growth:.0f} MiB", ""))


def disk_flush_latency(directory, seconds):
    """The physical limit of a durable acknowledgement on this disk: appends of 64 KiB (about
    one commit of 1,000 changed windows) each followed by fdatasync, ten a second, as the
    `#sync` load commits; (p50, p99, max) in ms. Virtual disks stall a flush for 100 ms and more
    now and then; every durable store on them waits as long."""
    path = os.path.join(directory, "flush-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times, end = [], time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            os.write(fd, b"x" * 65536)
            t = time.monotonic()
            os.fdatasync(fd)
            times.append((time.monotonic() - t) * 1000)
            time.sleep(0.1)
    finally:
        os.close(fd)
        os.remove(path)
    v = sorted(times)
    return v[len(v) // 2], v[min(len(v) - 1, int(0.99 * len(v)))], v[-1]


def latency_section(args, rows, work):
    # Earlier sections leave hundreds of MiB of written files; their writeback would land in
    # this section's fsyncs (ext4 orders them), timing the benchmark's own files, not slawatch.
    os.sync()
    probes = "\n".join(f"      {{name: probe-{k}, metric: probe.{k}, sli: count, window: 5m, direction: at_most, "
                       f"baseline: 0, nodata: ok}}," for k in range(60))
    seconds = "15" if args.quick else "40"
    results = {}
    flush = None
    for label, rate in (("busy", "1000"), ("idle", "0")):
        d = Daemon(args.slawatch, objectives(extra=probes))
        # While the busy daemon answers its syncs, the disk's own flush latency on the same
        # file system, at the same time (its stalls come and go: only the same seconds compare).
        probe = None
        if label == "busy":
            def run_probe():
                nonlocal flush
                flush = disk_flush_latency(tempfile.gettempdir(), float(seconds))
            import threading
            probe = threading.Thread(target=run_probe)
            probe.start()
        out = subprocess.run([sys.executable, os.path.join(HERE, "latency.py"), d.run, d.log_path, "--seconds", seconds,
                              "--rate", rate, "--probes", "30"] + (["--no-flat"] if label == "idle" else []),
                             check=True, capture_output=True, text=True).stdout
        if probe:
            probe.join()
        d.stop()
        results[label] = dict(line.split(maxsplit=1) for line in out.strip().splitlines())
    b, i = results["busy"], results["idle"]
    rows.append(("`#sync` round trip, 1,000 busy objectives, 1,000 events/s (ms)",
                 f"p50 **{b['sync_p50_ms']}**, p99 **{b['sync_p99_ms']}**, max {b['sync_max_ms']}",
                 f"disk flush at the same time (64 KiB + fdatasync, 10/s): p50 {flush[0]:.1f}, p99 {flush[1]:.1f}, max {flush[2]:.1f}",
                 ""))
    ratio = float(b["sync1000_events_per_s"]) / float(b["flat_events_per_s"])
    rows.append(("ingest with `#sync` every 1,000 events (events/s)", f"**{fmt(float(b['sync1000_events_per_s']))}**",
                 f"without: {fmt(float(b['flat_events_per_s']))}", f"{ratio:.2f}× of without"))
    rows.append(("CPU for a 1,000 events/s trickle (share of one core)", f"**{b['trickle_cpu_percent']} %**", "", ""))
    rows.append(("alert latency, breaching event → journal entry, idle (ms)",
                 f"p50 **{i['alert_p50_ms']}**, p99 **{i['alert_p99_ms']}**", "tick 1,000 ms", ""))
    rows.append(("alert latency with 1,000 busy objectives (ms)",
                 f"p50 **{b['alert_p50_ms']}**, p99 **{b['alert_p99_ms']}**", "tick 1,000 ms", ""))


def startup_section(args, rows, work):
    sizes = [10000] if args.quick else [10000, 100000]
    for n in sizes:
        d = os.path.join(work, f"state-{n}")
        made = dict(line.split() for line in subprocess.run([args.make_state, d, str(n)], check=True,
                                                             capture_output=True, text=True).stdout.strip().splitlines())
        # The state was just written: flush it first, so the start-ups are not timed against
        # the writeback of make-state's gigabytes.
        os.sync()
        results = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, os.path.join(HERE, "startup.py"), args.slawatch, d, "10"],
                                 check=True, capture_output=True, text=True).stdout
            results.append(dict(line.split() for line in out.strip().splitlines()))
        ready = triple([float(x["ready_seconds"]) for x in results])
        r = sorted(results, key=lambda x: float(x["ready_seconds"]))[len(results) // 2]
        rows.append((f"start-up (READY) with {n:,} p99 instances, 30d windows, {made['bins_per_bucket']} bins a bucket",
                     f"**{ready[1]:.2f} s** ({ready[0]:.2f}–{ready[2]:.2f}), RSS {r['rss_ready_mib']} MiB",
                     f"state {int(made['state_bytes']) / 2**20:.0f} MiB, {int(made['state_bytes_per_instance']):,} B an instance",
                     f"{float(r['rss_ready_mib']) * 2**20 / n / 1024:.0f} KiB RSS an instance"))
        # Only the first start on the state writes the week's report.
        report = next((x["report_cpu_seconds"] for x in results if "report_cpu_seconds" in x), None)
        if report is not None:
            rows.append((f"start-up report (the week's, written once) of {n:,} p99 instances (CPU seconds)",
                         f"**{report} s**", "", ""))
        rows.append((f"idle CPU with {n:,} p99 instances, after that report (share of one core)",
                     f"**{r['idle_cpu_percent']} %**", "", ""))
        shutil.rmtree(d, ignore_errors=True)


def series_section(args, rows, work):
    n = 200000 if args.quick else 1000000
    d = Daemon(args.slawatch, "slas:\n  - {name: b, provider: b, customer: b, objectives: [{name: level, metric: g.level, "
                              "sli: max, window: 5m, direction: at_most, baseline: 1e15, nodata: ok}]}\n",
               extra="gauge_deltas: true\n")
    rss0 = status_value(d.pid, "VmRSS")
    path = os.path.join(work, "gauges.statsd")
    with open(path, "w") as f:
        for i in range(n):
            f.write(f"g.level:+1|g|#id:{i}\n")
        f.write("#sync bench\n")
    bench_io(args, "send-stream", os.path.join(d.run, "ingest.sock"), path, "ok bench ")
    refused = d.status()["rejectedByReason"].get("series_limit", 0)
    rss1 = status_value(d.pid, "VmRSS")
    d.stop()
    os.remove(path)
    rows.append((f"memory, {n:,} distinct gauge series (`gauge_deltas`)", f"RSS **{rss0:.0f} → {rss1:.0f} MiB**",
                 f"max_series 100,000: {refused:,} events refused (`series_limit`)", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slawatch", required=True)
    ap.add_argument("--bench-io", required=True)
    ap.add_argument("--make-state", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="stream,datagram,drop,latency,startup,series")
    ap.add_argument("--write-docs")
    args = ap.parse_args()
    if args.quick:
        args.events = min(args.events, 1_000_000)
    work = tempfile.mkdtemp(prefix="slawatch-bench-work-")
    rows = []
    sections = {"stream": stream_section, "datagram": datagram_section, "drop": drop_section,
                "latency": latency_section, "startup": startup_section, "series": series_section}
    try:
        for name in args.only.split(","):
            sections[name](args, rows, work)
            print(f"done: {name}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    head = (f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC at commit {commit} on "
            f"{os.cpu_count()} cores with `scripts/bench.sh{' --quick' if args.quick else ''}` "
            f"({args.runs} runs, {args.events:,} events a stream run; min–max in brackets).")
    table = [head, "", "| figure | slawatch | peer or limit, same run | ratio |", "| --- | --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = "\n".join(table) + "\n"
    print(text)
    if args.write_docs:
        with open(args.write_docs) as f:
            doc = f.read()
        begin, end = "<!-- bench.sh: begin -->", "<!-- bench.sh: end -->"
        if begin in doc and end in doc:
            doc = doc[:doc.index(begin) + len(begin)] + "\n" + text + doc[doc.index(end):]
        else:
            doc += f"\n{begin}\n{text}{end}\n"
        with open(args.write_docs, "w") as f:
            f.write(doc)


if __name__ == "__main__":
    main()
