#!/usr/bin/env python3
"""Latency and trickle figures of a running slawatch daemon (docs/performance.md).

usage: latency.py RUN_DIR DAEMON_LOG [--objectives N] [--seconds S] [--rate R] [--probes P] [--no-flat]

RUN_DIR holds ingest.sock and control.sock; DAEMON_LOG is the daemon's stderr (it runs with
--stderr, one line per journal entry). The daemon must watch `bench.s0` … `bench.s{N-1}` (count, 5m)
and `probe.k` for k < P (`probe-k`: count, 5m, at most 0: one event breaches it).

Measures, while R events/s (default 1,000) spread over the N metrics keep every window busy:
  sync      `#sync` round trips on the producing connection (p50, p99, max, in ms)
  alert     breaching event sent → its "breached" line in the log (p50, p99, max, in ms)
  trickle   the daemon's CPU share of one core at that rate
and then (unless --no-flat), flat out, events/s with `#sync` every 1,000 events (acks
pipelined) against none. --rate 0: no load but the probes (idle alert latency).
Prints `name value` lines that scripts/bench.sh collects.
"""
import os, random, socket, sys, threading, time
from bench import cpu  # the process CPU seconds, as bench.py reads them

args = sys.argv[1:]
run_dir, log_path = args[0], args[1]
def opt(name, default):
    return float(args[args.index(name) + 1]) if name in args else default
objectives = int(opt("--objectives", 1000))
seconds = opt("--seconds", 20)
rate = opt("--rate", 1000)
probes = int(opt("--probes", 40))

def status_pid():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(run_dir, "control.sock"))
    s.sendall(b"status\n")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    import json
    return json.loads(data)["pid"]

def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")

pid = status_pid()
conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
conn.connect(os.path.join(run_dir, "ingest.sock"))
sent_at = {}
rtts = []
lock = threading.Lock()
done = threading.Event()

def reader(sock, sink):
    buf = b""
    while not done.is_set():
        try:
            chunk = sock.recv(65536)
        except OSError:
            return
        if not chunk:
            return
        now = time.monotonic()
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            parts = line.split()
            if len(parts) >= 2 and parts[0] == b"ok":
                sink(parts[1].decode(), now)

warm_until = time.monotonic() + 2  # the first commits create every instance's row: start-up, not steady state


def on_ack(ident, now):
    with lock:
        t = sent_at.pop(ident, None)
    if t is not None and t >= warm_until:
        rtts.append((now - t) * 1000)

threading.Thread(target=reader, args=(conn, on_ack), daemon=True).start()

# Alert probes: watch the log for "probe-k breached".
log = open(log_path, "rb")
log.seek(0, os.SEEK_END)
probe_sent = {}
alert_ms = []
def watch_log():
    pending = b""
    while not done.is_set():
        chunk = log.read()
        if not chunk:
            time.sleep(0.001)
            continue
        now = time.monotonic()
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if b" breached: " in line and b"probe-" in line:
                name = line.split(b" breached: ")[0].split()[-1].decode()
                with lock:
                    t = probe_sent.pop(name, None)
                if t is not None:
                    alert_ms.append((now - t) * 1000)
threading.Thread(target=watch_log, daemon=True).start()

probe_conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
probe_conn.connect(os.path.join(run_dir, "ingest.sock"))
probe_every = seconds / max(1, probes)

step = 0.01
per_step = int(rate * step)
cpu0, t0 = cpu(pid), time.monotonic()
k = 0
n = 0
next_probe = t0 + probe_every / 2
sync_every = max(1, int(0.1 / step))
steps = int(seconds / step)
for i in range(steps):
    target = t0 + i * step
    now = time.monotonic()
    if target > now:
        time.sleep(target - now)
    lines = []
    for _ in range(per_step):
        lines.append(f"bench.s{n % objectives}:1|c\n")
        n += 1
    payload = "".join(lines)
    if i % sync_every == 0:
        ident = f"s{i}"
        payload += f"#sync {ident}\n"
        with lock:
            sent_at[ident] = time.monotonic()
    conn.sendall(payload.encode())
    if time.monotonic() >= next_probe and k < probes:
        name = f"probe-{k}"
        with lock:
            probe_sent[name] = time.monotonic()
        probe_conn.sendall(f"probe.{k}:1|c\n".encode())
        k += 1
        # A random phase against the evaluation tick, so the figures sample all of it.
        next_probe += probe_every * (0.5 + random.random())
elapsed = time.monotonic() - t0
trickle_cpu = (cpu(pid) - cpu0) / elapsed
time.sleep(2.5)

print(f"sync_p50_ms {pct(rtts, 0.5):.1f}")
print(f"sync_p99_ms {pct(rtts, 0.99):.1f}")
print(f"sync_max_ms {max(rtts) if rtts else float('nan'):.1f}")
print(f"sync_count {len(rtts)}")
print(f"alert_p50_ms {pct(alert_ms, 0.5):.0f}")
print(f"alert_p99_ms {pct(alert_ms, 0.99):.0f}")
print(f"alert_max_ms {max(alert_ms) if alert_ms else float('nan'):.0f}")
print(f"alert_count {len(alert_ms)} of {k}")
print(f"trickle_events_per_s {n / elapsed:.0f}")
print(f"trickle_cpu_percent {trickle_cpu * 100:.1f}")

if "--no-flat" in args:
    done.set()
    sys.exit(0)

# Flat out: the same events with #sync every 1,000 (acks pipelined) against none.
payloads = {}
def flat_out(count, sync_every):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(os.path.join(run_dir, "ingest.sock"))
    last = threading.Event()
    acks = []
    def sink(ident, now):
        acks.append(ident)
        if ident == "end":
            last.set()
    threading.Thread(target=reader, args=(c, sink), daemon=True).start()
    if (count, sync_every) not in payloads:
        # One block of events (a sync's worth), repeated; the syncs' ids need not differ (the
        # acknowledgements are counted, and the last one is "end").
        n = sync_every or 1000
        block = "".join(f"bench.s{i % objectives}:1|c\n" for i in range(n)).encode()
        if sync_every:
            block += b"#sync b\n"
        payloads[(count, sync_every)] = block * (count // n) + b"#sync end\n"
    payload = payloads[(count, sync_every)]
    c0, start = cpu(pid), time.monotonic()
    c.sendall(payload)
    last.wait(300)
    wall = time.monotonic() - start
    used = cpu(pid) - c0
    c.close()
    return count / wall, count / max(used, 0.01), len(acks)

# Long enough (about a second flat out) that the figure is throughput, not the latency of the
# last commit: with 1,000,000 events the whole run took 40-80 ms, a few commits' worth (and
# 20,000,000 took half a second once ingest folded its events).
events = 40_000_000
# Five of each, alternating; the medians (a run that catches one of the disk's flush stalls on
# its last commit loses a third of its rate, whatever slawatch does; with three, one such run
# on either side moved the ratio between 0.69x and 1.03x from one bench run to the next).
plains, synceds = [], []
for _ in range(5):
    plains.append(flat_out(events, 0))
    synceds.append(flat_out(events, 1000))
plain = sorted(plains)[2]
synced = sorted(synceds)[2]
print(f"flat_events_per_s {plain[0]:.0f}")
print(f"flat_events_per_cpu_s {plain[1]:.0f}")
print(f"sync1000_events_per_s {synced[0]:.0f}")
print(f"sync1000_events_per_cpu_s {synced[1]:.0f}")
print(f"sync1000_acks {synced[2]}")
done.set()
