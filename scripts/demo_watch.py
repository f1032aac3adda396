#!/usr/bin/env python3
"""The demo's live line: polls a running `upfront serve` (GET /v1/stats) once
a second and prints events/s, decisions, deliveries by channel and guardrail
blocks on one line. With --seconds N it stops after N seconds and prints the
final scorecard (GET /v1/scorecard) when the server offers one.

    demo_watch.py --url http://127.0.0.1:8080 --key ADMIN_KEY [--seconds 30]
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.request


def get(url, key):
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + key})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def line(stats, previous, dt):
    events = stats["events"]["accepted"]
    rate = (events - previous) / dt if dt > 0 else 0.0
    d = stats.get("decisions", {})
    deliveries = {}
    for channel, actions in d.get("actions", {}).items():
        n = actions.get("deliver", 0) + actions.get("ask_confirm", 0)
        if n:
            deliveries[channel] = n
    review = sum(a.get("review", 0) for a in d.get("actions", {}).values())
    blocked = sorted(d.get("blocked", {}).items(), key=lambda kv: -kv[1])[:4]
    holdout = d.get("by_cohort", {}).get("holdout", 0)
    parts = [
        f"{rate:6.0f} ev/s",
        f"{events} events",
        f"{d.get('points', 0)} decisions ({holdout} holdout)",
        "delivered " + (", ".join(f"{c} {n}" for c, n in sorted(deliveries.items())) or "none"),
        f"review {review}",
        "blocked " + (", ".join(f"{r} {n}" for r, n in blocked) or "none"),
        f"webhooks ok {stats['webhooks']['delivered']}/pending {stats['webhooks']['pending']}",
    ]
    return " | ".join(parts), events


def print_scorecard(url, key):
    try:
        card = get(url + "/v1/scorecard", key)
    except urllib.error.HTTPError as e:
        print(f"(no scorecard: HTTP {e.code})")
        return
    print("\nScorecard (treatment vs holdout):")
    def fmt(x):
        return "n/a" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)
    for m in card.get("headline", []):
        verdict = m.get("verdict", "")
        note = f"  ({verdict.replace('_', ' ')}: {m.get('n_treatment', 0)} vs {m.get('n_control', 0)})"
        print(f"  {m.get('label', m.get('metric', '?')):<28} treatment {fmt(m.get('treatment'))}"
              f"  holdout {fmt(m.get('control'))}  difference {fmt(m.get('difference'))}"
              f" [{fmt(m.get('ci_low'))}, {fmt(m.get('ci_high'))}]{note}")
    for warning in card.get("warnings", [])[:3]:
        print("  !", warning.get("message", json.dumps(warning)) if isinstance(warning, dict) else warning)
    print("  full scorecard: GET /v1/scorecard (analyst key)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--key", required=True)
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: until Ctrl-C)")
    args = parser.parse_args()
    start = time.monotonic()
    previous, last = 0, time.monotonic()
    tty = sys.stdout.isatty()
    try:
        while args.seconds <= 0 or time.monotonic() - start < args.seconds:
            time.sleep(1)
            now = time.monotonic()
            try:
                stats = get(args.url + "/v1/stats", args.key)
            except (urllib.error.URLError, ConnectionError) as e:
                print(f"\nthe server stopped answering: {e}")
                return 1
            text, previous = line(stats, previous, now - last)
            last = now
            print(("\r\033[K" + text) if tty else text, end="" if tty else "\n", flush=True)
    except KeyboardInterrupt:
        pass
    if tty:
        print()
    print_scorecard(args.url, args.key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
