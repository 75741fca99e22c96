#!/usr/bin/env python3
"""Score an adaptive-baseline setting on the NAB series (issue 13 B).

Replays every CSV under the NAB directory (default ../shared/data/nab) through
`slawatch replay` with one objectives directory (default config/examples/adaptive-default,
the documented default setting), and prints per series: labelled windows hit, breach
episodes outside the windows, and, for the series without anomalies, every episode.

The objectives directory holds two objectives over the metric `series.value`: one
`direction: at_least` (named `below-usual`) and one `direction: at_most` (`above-usual`).
Which of them judge a series follows its anomaly kind (KINDS below, from the data's
README and the values inside the windows, never from a score): `drop` uses `at_least`,
`rise` uses `at_most`, `both` (and every series without anomalies, to count false alarms
in either direction) uses both. A series not in KINDS gets its kind from its own data:
drop when the windows' median is below the median outside them, else rise.

A labelled window is hit when a breach entry (the moment the alert fires, after `for`)
falls inside it, as NAB counts a detection; a breach entry outside every window is an
episode outside. Exit status 0; 2 when slawatch or the data cannot be read. With
--check, exit 1 unless at least --min-hit windows are hit and at most --max-outside
episodes fall outside windows (anomaly-free series included), for `.ci/run`.
"""

import argparse
import csv
import datetime as dt
import json
import os
import statistics
import subprocess
import sys

# Anomaly kind per series: what an SLA monitor watching it would call a miss.
KINDS = {
    "nyc_taxi.csv": "drop",  # holidays and the blizzard: fewer passengers than usual
    "ec2_request_latency_system_failure.csv": "rise",  # latency
    "art_daily_jumpsup.csv": "rise",
    "art_daily_nojump.csv": "drop",  # the daily peak fails to come
    "ambient_temperature_system_failure.csv": "both",  # overheating, then a cold failure
    "cpu_utilization_asg_misconfiguration.csv": "rise",
    "speed_6005.csv": "drop",  # road speed collapses
    "occupancy_6005.csv": "rise",  # road occupancy jumps
    "Twitter_volume_AMZN.csv": "rise",
    "ec2_cpu_utilization_5f5533.csv": "rise",
    "rds_cpu_utilization_cc0c53.csv": "rise",
    "ec2_network_in_257a54.csv": "rise",
}
OBJECTIVES = {"drop": ["below-usual"], "rise": ["above-usual"], "both": ["below-usual", "above-usual"]}
# The quick form for .ci/run: the two-week series (four labelled, two anomaly-free).
QUICK = [
    "art_daily_jumpsup.csv",
    "art_daily_nojump.csv",
    "art_daily_no_noise.csv",
    "art_noisy.csv",
    "ec2_request_latency_system_failure.csv",
    "rds_cpu_utilization_cc0c53.csv",
]


def parse_time(text):
    return dt.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)


def inferred_kind(path, windows):
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows.append((parse_time(r["timestamp"]), float(r["value"])))
    inside = [v for t, v in rows if any(a <= t <= b for a, b in windows)]
    outside = [v for t, v in rows if not any(a <= t <= b for a, b in windows)]
    if not inside or not outside:
        return "both"
    return "drop" if statistics.median(inside) < statistics.median(outside) else "rise"


def replay(binary, objectives, path, step):
    cmd = [
        binary, "replay", "--objectives", objectives, "--csv-metric", "series.value",
        "--csv-kind", "distribution", "--step", step, "--output", "json", path,
    ]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"nab-score: {' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    breaches = []
    for n, line in enumerate(p.stdout.splitlines(), 1):
        try:
            e = json.loads(line)
        except json.JSONDecodeError as err:
            sys.exit(f"nab-score: replay of {path}, output line {n}: {err}")
        if e.get("SLAWATCH_TRANSITION") == "breach":
            at = dt.datetime.strptime(e["SLAWATCH_AT"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
            breaches.append((e["SLAWATCH_OBJECTIVE"], at))
    return breaches


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(repo, ".build", "release", "slawatch"))
    ap.add_argument("--objectives", default=os.path.join(repo, "config", "examples", "adaptive-default"))
    # As the tests find it: $SLAWATCH_DATA_DIR, ../shared/data beside the repository, /work/shared/data.
    candidates = [os.environ.get("SLAWATCH_DATA_DIR"), os.path.join(repo, "..", "shared", "data"), "/work/shared/data"]
    found = next((c for c in candidates if c and os.path.exists(os.path.join(c, "nab", "labels.json"))), None)
    ap.add_argument("--data", default=os.path.join(found or candidates[1], "nab"),
                    help="NAB directory (default: $SLAWATCH_DATA_DIR/nab, ../shared/data/nab, /work/shared/data/nab)")
    ap.add_argument("--step", default="5m", help="evaluation step of event time (default 5m)")
    ap.add_argument("--quick", action="store_true", help="only the two-week series (for .ci/run)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--check", action="store_true", help="exit 1 unless the totals reach the limits")
    ap.add_argument("--min-hit", type=int, default=0)
    ap.add_argument("--max-outside", type=int, default=1_000_000)
    a = ap.parse_args()
    try:
        with open(os.path.join(a.data, "labels.json")) as f:
            labels = json.load(f)
    except OSError as err:
        sys.exit(f"nab-score: {err}")
    names = sorted(n for n in os.listdir(a.data) if n.endswith(".csv"))
    if a.quick:
        names = [n for n in names if n in QUICK]
    rows = []
    for name in names:
        path = os.path.join(a.data, name)
        windows = [(parse_time(s), parse_time(e)) for s, e in labels.get(name, {}).get("windows", [])]
        kind = KINDS.get(name) if windows else "both"
        if kind is None:
            kind = inferred_kind(path, windows)
        judging = OBJECTIVES[kind]
        breaches = [(o, t) for o, t in replay(a.binary, a.objectives, path, a.step) if o in judging]
        hit = sum(1 for w0, w1 in windows if any(w0 <= t <= w1 for _, t in breaches))
        outside = [t for _, t in breaches if not any(w0 <= t <= w1 for w0, w1 in windows)]
        rows.append((name, kind, len(windows), hit, len(outside)))
    total_windows = sum(r[2] for r in rows)
    total_hit = sum(r[3] for r in rows)
    outside_labelled = sum(r[4] for r in rows if r[2] > 0)
    outside_clean = sum(r[4] for r in rows if r[2] == 0)
    head = ("series", "kind", "windows", "hit", "episodes outside")
    if a.markdown:
        print("| " + " | ".join(head) + " |")
        print("| --- | --- | ---: | ---: | ---: |")
        for r in rows:
            print(f"| {r[0]} | {r[1] if r[2] else 'none (both directions)'} | {r[2]} | {r[3]} | {r[4]} |")
        print(f"| **total** | | {total_windows} | **{total_hit}** | {outside_labelled} + {outside_clean} on anomaly-free |")
    else:
        print(f"{head[0]:42} {head[1]:6} {head[2]:>7} {head[3]:>4} {head[4]:>16}")
        for r in rows:
            print(f"{r[0]:42} {r[1] if r[2] else '-':6} {r[2]:7} {r[3]:4} {r[4]:16}")
        print(f"total: {total_hit} of {total_windows} labelled windows hit; {outside_labelled} episode(s) outside "
              f"them on labelled series, {outside_clean} on anomaly-free series")
    if a.check and (total_hit < a.min_hit or outside_labelled + outside_clean > a.max_outside):
        print(f"nab-score: below the limits (at least {a.min_hit} hit, at most {a.max_outside} outside)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
