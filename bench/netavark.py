"""netavark's own rootful macvlan, for comparison: what a user with root would run instead of net-porter. Runs
Debian 12's netavark setup/teardown COUNT times in NETNS with the given netavark options JSON (a macvlan network with a
static IP, as podman passes it) and prints the same JSON as driver.py.

  netavark.py NETAVARK CONFIG_DIR OPTIONS_JSON NETNS COUNT      (as root)
"""
import json
import subprocess
import sys
import time

netavark, config, options, netns, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
stdin = open(options, "rb").read()


def run(verb):
    start = time.perf_counter()
    done = subprocess.run([netavark, "--config", config, verb, netns], input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        sys.exit(f"netavark {verb} failed: {done.stdout.decode()} {done.stderr.decode()}")
    return elapsed


times = {"setup": [], "teardown": []}
for _ in range(count):
    times["setup"].append(run("setup"))
    times["teardown"].append(run("teardown"))

print(json.dumps({"ms": times, "max_rss_kib": 0}))
