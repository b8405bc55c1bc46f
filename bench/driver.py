"""Runs the net-porter plugin the way netavark does, N times, from wherever it is started (the bench starts it inside
a rootless-style caller), and prints one JSON object: per-verb wall times in milliseconds and the plugin's peak RSS.

  driver.py PLUGIN COUNT VERB [NETNS] < STDIN       one verb, COUNT times
  driver.py PLUGIN COUNT cycle NETNS < STDIN        setup then teardown, COUNT times
"""
import json
import resource
import subprocess
import sys
import time

plugin, count, verb = sys.argv[1], int(sys.argv[2]), sys.argv[3]
netns = sys.argv[4] if len(sys.argv) > 4 else None
stdin = sys.stdin.buffer.read()


def run(args):
    start = time.perf_counter()
    done = subprocess.run([plugin] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {done.stdout.decode()} {done.stderr.decode()}")
    return elapsed


times = {}
for _ in range(count):
    if verb == "cycle":
        times.setdefault("setup", []).append(run(["setup", netns]))
        times.setdefault("teardown", []).append(run(["teardown", netns]))
    else:
        times.setdefault(verb, []).append(run([verb] + ([netns] if netns else [])))

print(json.dumps({"ms": times, "max_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
