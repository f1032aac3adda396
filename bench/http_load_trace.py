#!/usr/bin/env python3
"""Sums up an HTTP_LOAD_TRACE file from http_load_bench per second.

    HTTP_LOAD_TRACE=/tmp/trace.txt build/release/bench/http_load_bench ...
    python3 bench/http_load_trace.py /tmp/trace.txt --batch 100

Prints, for each second of the measured phase, the events answered, the
p50/p99/max acknowledgement latency and a bar of the events per second, so a
tail that comes in bursts (flushes, checkpoints) shows as its own rows.
"""
import argparse
import collections
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trace", help="the file HTTP_LOAD_TRACE named")
    parser.add_argument("--batch", type=int, default=100, help="events per request (default 100)")
    parser.add_argument("--window", type=float, default=1.0, help="seconds per row (default 1)")
    args = parser.parse_args()

    windows = collections.defaultdict(list)
    rows = []
    try:
        with open(args.trace) as f:
            for number, line in enumerate(f, 1):
                fields = line.split()
                try:
                    rows.append((float(fields[1]), float(fields[2])))
                except (IndexError, ValueError):
                    sys.exit(f"{args.trace}:{number}: expected 'connection sent_s latency_ms', got {line.strip()!r}")
    except OSError as e:
        sys.exit(f"{args.trace}: {e.strerror}")
    if not rows:
        sys.exit(f"{args.trace}: no requests")
    start = min(sent for sent, _ in rows)
    for sent, latency in rows:
        windows[int((sent - start) / args.window)].append(latency)
    rates = {k: len(v) * args.batch / args.window for k, v in windows.items()}
    top = max(rates.values())
    print(f"{'from_s':>6} {'events/s':>9} {'p50_ms':>7} {'p99_ms':>7} {'max_ms':>7}")
    for k in sorted(windows):
        v = sorted(windows[k])
        bar = "#" * round(40 * rates[k] / top)
        print(f"{k * args.window:6.1f} {rates[k]:9.0f} {v[len(v) // 2]:7.1f} {v[int(len(v) * 0.99)]:7.1f} "
              f"{v[-1]:7.1f} {bar}")


if __name__ == "__main__":
    main()
