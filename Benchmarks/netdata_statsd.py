#!/usr/bin/env python3
"""Sends the same counter lines `slawatch bench` sends to netdata's statsd plugin over TCP on
loopback and reports lines per CPU-second of netdata's statsd threads (and of the whole process).

usage: netdata_statsd.py PID PORT EVENTS SERIES
netdata parses asynchronously and has no acknowledgement, so the script waits until the statsd
threads' CPU time stops growing (0.5 s without change) before reading it.
"""
import os, socket, sys, time

pid, port, events, series = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
tick = os.sysconf("SC_CLK_TCK")

def cpu(path):
    with open(path) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / tick

def statsd_threads():
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            name = f.read().strip()
        if "STATSD" in name.upper():
            out.append(f"/proc/{pid}/task/{tid}/stat")
    return out

names = max(1, min(series, 1000))
shards = max(1, series // names)
lines = []
for i in range(events):
    line = f"bench.s{i % names}:1|c"
    if shards > 1:
        line += f"|#shard:{i // names % shards}"
    lines.append(line)
payload = ("\n".join(lines) + "\n").encode()

threads = statsd_threads()
t_cpu0 = sum(cpu(t) for t in threads)
p_cpu0 = cpu(f"/proc/{pid}/stat")
start = time.time()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(payload)
s.shutdown(socket.SHUT_WR)
s.close()
sent = time.time() - start
last, stable_since = -1.0, time.time()
while time.time() - stable_since < 0.5:
    now = sum(cpu(t) for t in threads)
    if now != last:
        last, stable_since = now, time.time()
    time.sleep(0.05)
t_cpu = last - t_cpu0
p_cpu = cpu(f"/proc/{pid}/stat") - p_cpu0
print(f"netdata statsd (TCP): {events} lines, {series} series, {len(payload)} bytes, sent in {sent:.3f} s")
print(f"  statsd threads CPU {t_cpu:.2f} s: {events / max(t_cpu, 0.01):.0f} lines per CPU-second")
print(f"  whole process CPU {p_cpu:.2f} s: {events / max(p_cpu, 0.01):.0f} lines per CPU-second")
