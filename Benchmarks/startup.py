#!/usr/bin/env python3
"""Start-up and idle figures of slawatch on a prepared state directory (docs/performance.md).

usage: startup.py SLAWATCH_BINARY DIR [IDLE_SECONDS]

Starts `SLAWATCH_BINARY daemon --config DIR/slawatch.yaml --stderr` with NOTIFY_SOCKET pointing at a
datagram socket of this script (as systemd would), and prints:
  ready_seconds   from exec to READY=1 (config read, state restored, sockets taken)
  rss_mib         resident memory at READY and after the idle period
  report_cpu_seconds  CPU from READY until the start-up report (the week's, written once) is written
  idle_cpu_percent  the daemon's CPU share of one core while idle (evaluating every second), after it
then stops the daemon with SIGTERM and prints stop_seconds.
"""
import os, re, socket, subprocess, sys, tempfile, time
from bench import cpu  # the process CPU seconds, as bench.py reads them

binary, directory = sys.argv[1], sys.argv[2]
idle = float(sys.argv[3]) if len(sys.argv) > 3 else 10
sock_path = os.path.join(tempfile.mkdtemp(), "notify.sock")
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind(sock_path)
notify.settimeout(0.05)

def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")

env = dict(os.environ, NOTIFY_SOCKET=sock_path)
reports_dir = os.path.join(directory, "state", "reports")
had_reports = os.path.isdir(reports_dir) and bool(os.listdir(reports_dir))
log = open(os.path.join(directory, "daemon.log"), "w")
start = time.monotonic()
p = subprocess.Popen([binary, "daemon", "--config", os.path.join(directory, "slawatch.yaml"), "--stderr"],
                     env=env, stdout=log, stderr=log)
ready = None
while ready is None and p.poll() is None and time.monotonic() - start < 600:
    try:
        msg = notify.recv(4096)
    except socket.timeout:
        continue
    if b"READY=1" in msg:
        ready = time.monotonic() - start
if ready is None:
    print("the daemon did not get ready; see", os.path.join(directory, "daemon.log"))
    p.kill()
    sys.exit(1)
print(f"ready_seconds {ready:.2f}")
print(f"rss_ready_mib {rss_mib(p.pid):.0f}")
# A daemon started on a state that has no report of the current week yet writes it a few
# seconds after start (docs/reports.md): once a week, not idle work. Its CPU is its own figure,
# and idle is measured after it.
log_path = os.path.join(directory, "daemon.log")
r0, rt = cpu(p.pid), time.monotonic()
report_cpu = None
# Only the first start on a state writes that report (later ones find it written).
while not had_reports and time.monotonic() - rt < 120:
    with open(log_path, errors="replace") as f:
        if re.search(r"report \S+ written to ", f.read()):
            report_cpu = cpu(p.pid) - r0
            break
    time.sleep(0.05)
if report_cpu is not None:
    print(f"report_cpu_seconds {report_cpu:.2f}")
time.sleep(2)  # the first evaluations after READY
c0, t0 = cpu(p.pid), time.monotonic()
time.sleep(idle)
used = cpu(p.pid) - c0
print(f"idle_cpu_percent {100 * used / (time.monotonic() - t0):.1f}")
print(f"rss_idle_mib {rss_mib(p.pid):.0f}")
s0 = time.monotonic()
p.terminate()
p.wait(120)
print(f"stop_seconds {time.monotonic() - s0:.2f}")
