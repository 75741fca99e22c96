#!/usr/bin/env python3
"""Hostile clients against one daemon, with its descriptors and memory sampled throughout.

    scripts/hostile.sh [--bin PATH] [--nofile N]

The daemon runs under `prlimit --nofile=N:N` (default 1024, the soft limit a unit without
LimitNOFILE= gets, which it cannot raise) with idle_timeout 3 s. Phases, each printing open
descriptors, RSS and CPU over time, then asserting its bounds:

  idle       1,100 idle connections (more than the limit): descriptors stay under the limit,
             the daemon does not spin (CPU < 30 % of a core), status answers, a drop file is
             read (not failed), and a producer is served once the idle ones time out
  noread     20 clients send #sync lines and never read the answers for 8 s: RSS flat in the
             second half and less than 128 MiB above the start, each is closed
  drip       50 clients drip one byte every 0.5 s without a newline: all closed within
             idle_timeout + 2 s
  dgram      200,000 datagrams of 5 lines: every line counted (no loss), RSS bounded
  series     200,000 distinct gauge series (a cardinality flood): RSS bounded (max_series)
Exits 1 when a bound does not hold.
"""
import argparse
import daemon_control
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("--bin", required=True)
p.add_argument("--nofile", type=int, default=1024)
args = p.parse_args()

root = tempfile.mkdtemp(prefix="slawatch-e2e-hostile-")
os.makedirs(f"{root}/objectives.d")
with open(f"{root}/slawatch.yaml", "w") as f:
    f.write(
        "state_directory: state\nruntime_directory: run\ndrop_directory: drop\n"
        "objectives_directory: objectives.d\nidle_timeout: 3s\nmax_series: 100000\n"
        "drop_scan_interval: 100ms\ndrop:\n  settle: 50ms\n"
    )
with open(f"{root}/objectives.d/h.yaml", "w") as f:
    f.write("""slas:
  - name: hostile
    provider: p
    customer: c
    objectives:
      - {name: h, metric: h.count, sli: count, window: 30d, direction: at_most, baseline: 1e12, nodata: ok}
      - {name: d, metric: h.dgram, sli: count, window: 30d, direction: at_most, baseline: 1e12, nodata: ok}
      - {name: g, metric: h.gauge, sli: max, window: 30d, direction: at_most, baseline: 1e12, nodata: ok}
""")
ingest, control, dgram = f"{root}/run/ingest.sock", f"{root}/run/control.sock", f"{root}/run/ingest.dgram"
log = open(f"{root}/daemon.log", "ab")
proc = subprocess.Popen(
    ["prlimit", f"--nofile={args.nofile}:{args.nofile}", "--", args.bin, "daemon", "--config", f"{root}/slawatch.yaml"],
    stdout=log, stderr=log,
)
pid = proc.pid
failures = []


def status():
    return daemon_control.status(control)


def fds():
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_mib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sample(label, seconds, every=0.5):
    """Prints descriptors, RSS and CPU share every `every` s; returns the peaks."""
    global rss_series
    rss_series = []
    peak_fd, peak_rss, peak_cpu = 0, 0.0, 0.0
    last = cpu()
    for _ in range(int(seconds / every)):
        time.sleep(every)
        now = cpu()
        share = (now - last) / every
        last = now
        f, r = fds(), rss_mib()
        peak_fd, peak_rss, peak_cpu = max(peak_fd, f), max(peak_rss, r), max(peak_cpu, share)
        rss_series.append(r)
        print(f"  {label:7s} fds {f:5d}  rss {r:7.1f} MiB  cpu {share * 100:5.1f} %", flush=True)
    return peak_fd, peak_rss, peak_cpu


def check(ok, what):
    print(f"  {'ok' if ok else 'FAILED'}: {what}", flush=True)
    if not ok:
        failures.append(what)


def push(lines, sync="x", timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(ingest)
    s.sendall("".join(l + "\n" for l in lines).encode() + f"#sync {sync}\n".encode())
    data = b""
    while f"{sync} ".encode() not in data:
        chunk = s.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.decode()


deadline = time.time() + 30
while True:
    try:
        status()
        break
    except OSError:
        if time.time() > deadline or proc.poll() is not None:
            sys.exit(f"daemon did not start; see {root}/daemon.log")
        time.sleep(0.1)
# A daemon before the descriptor budget has no "limits" (the script still runs against it).
limits = status().get("limits", {})
print(f"hostile: daemon pid {pid}, RLIMIT_NOFILE {limits.get('descriptors', '?')}, "
      f"stream cap {limits.get('connections', '?')}, control cap {limits.get('controlConnections', '?')}, "
      f"{fds()} fds and {rss_mib():.1f} MiB at start")
base_rss = rss_mib()

# idle: more connections than descriptors
print("idle: 1,100 idle connections")
import resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
def alarm(signum, frame):
    raise TimeoutError("connect blocked for 10 s")


signal.signal(signal.SIGALRM, alarm)
held = []
failed_connects = 0
for _ in range(1100):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Blocking: a Unix connect waits for room in the listen backlog (with a timeout it fails
    # with EAGAIN at once instead).
    signal.alarm(10)
    try:
        s.connect(ingest)
    except OSError:
        failed_connects += 1
        s.close()
        continue
    finally:
        signal.alarm(0)
    held.append(s)
print(f"  {len(held)} connected, {failed_connects} could not connect", flush=True)
peak_fd, _, peak_cpu = sample("idle", 2)
check(peak_fd < args.nofile, f"descriptors stay under the limit (peak {peak_fd} < {args.nofile})")
check(peak_cpu < 0.3, f"no spinning on accept (peak {peak_cpu * 100:.0f} % of a core)")
st = status()
check(st["connectionsRefused"] > 0, f"connections past the cap refused and counted ({st['connectionsRefused']})")
with open(f"{root}/drop/.f.tmp", "w") as f:
    f.write("h.count:5|c\n")
os.rename(f"{root}/drop/.f.tmp", f"{root}/drop/f.statsd")
time.sleep(1.5)
files = status()["files"]
check(files["processed"] == 1 and files["failed"] == 0, f"a drop file is read, not failed ({files})")
for s in held:
    s.close()
t = time.time()
answer = None
while answer is None and time.time() - t < 10:
    try:
        answer = push(["h.count:1|c"])
    except OSError:
        time.sleep(0.2)
check(answer is not None and "ok x" in answer, f"a producer is served after the idle ones go ({time.time() - t:.1f} s)")

# noread: clients that never read their answers
print("noread: 20 clients send #sync lines and read nothing for 8 s")
closed = [0]
stop = threading.Event()


def noread():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(ingest)
    s.settimeout(0.5)
    chunk = b"".join(b"h.count:1|c\n#sync %d\n" % i for i in range(2000))
    while not stop.is_set():
        try:
            s.sendall(chunk)
        except socket.timeout:
            continue
        except OSError:
            closed[0] += 1
            return


threads = [threading.Thread(target=noread) for _ in range(20)]
for t in threads:
    t.start()
before = rss_mib()
_, peak_rss, _ = sample("noread", 8)
stop.set()
for t in threads:
    t.join()
# Bounded: once the answers pass 64 KiB nothing more is read from these clients, so RSS stops
# growing (the old daemon grew ~15 MiB a second until it was out of memory); what it reaches
# depends on what was in flight (the machine's load), so the bound is generous.
half = len(rss_series) // 2
late_growth = max(rss_series[half:]) - max(rss_series[:half])
check(late_growth < 16, f"RSS flat in the second half ({max(rss_series[:half]):.0f} → {max(rss_series[half:]):.0f} MiB)")
check(peak_rss - before < 128, f"RSS grows less than 128 MiB ({before:.0f} → peak {peak_rss:.0f} MiB)")
check(closed[0] == 20, f"every never-reading client is closed ({closed[0]} of 20)")

# drip: one byte every 0.5 s, never a newline
print("drip: 50 clients drip a byte every 0.5 s")
drips = []
for _ in range(50):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(ingest)
    drips.append(s)
t = time.time()
open_ = drips[:]
while open_ and time.time() - t < 10:
    time.sleep(0.5)
    still = []
    for s in open_:
        try:
            s.send(b"h")
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    continue
            except BlockingIOError:
                pass
            s.setblocking(True)
            still.append(s)
        except OSError:
            pass
    open_ = still
elapsed = time.time() - t
check(not open_ and elapsed <= 3 + 2.5, f"every dripping client closed ({len(open_)} open after {elapsed:.1f} s)")

# dgram: a flood of datagrams, every line counted
print("dgram: 200,000 datagrams of 5 lines")
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.connect(dgram)
msg = b"h.dgram:1|c\n" * 5
sender = threading.Thread(target=lambda: [d.send(msg) for _ in range(200000)])
sender.start()
_, peak_rss, _ = sample("dgram", 4)
sender.join()
t = time.time()
while time.time() - t < 30:
    v = {o["objective"]: o.get("value") for o in status()["objectives"]}
    if v.get("d") == 1_000_000:
        break
    time.sleep(0.5)
check(v.get("d") == 1_000_000, f"every datagram line counted ({v.get('d')} of 1,000,000)")
check(peak_rss < base_rss + 256, f"RSS bounded under the flood (peak {peak_rss:.0f} MiB)")

# series: a cardinality flood of distinct gauge series
print("series: 200,000 distinct gauge series")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(ingest)
sender = threading.Thread(
    target=lambda: [s.sendall(b"".join(b"h.gauge:1|g|#id:%d\n" % (k * 1000 + i) for i in range(1000))) for k in range(200)]
)
sender.start()
_, peak_rss, _ = sample("series", 6)
sender.join()
check(peak_rss < base_rss + 512, f"RSS bounded under the cardinality flood (peak {peak_rss:.0f} MiB)")

proc.send_signal(signal.SIGTERM)
proc.wait(timeout=60)
print("hostile: ok" if not failures else f"hostile: FAILED ({len(failures)}): {failures}; files in {root}")
if not failures:
    subprocess.run(["rm", "-rf", root])
sys.exit(1 if failures else 0)
