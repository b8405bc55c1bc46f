"""Runs the net-porter plugin the way netavark does, N times, from wherever it is started (the bench starts it inside
a rootless-style caller), and prints one JSON object: per-verb wall times in milliseconds and the plugin's peak RSS.

The peak RSS comes from three more runs under /usr/bin/time (not timed): a child's ru_maxrss as Python sees it
includes the Python process it was forked from (~14 MiB, whatever the plugin does); time(1) is forked from a
process of about 2 MiB, so the figure it reports is the plugin's own.

  driver.py PLUGIN COUNT VERB [NETNS] < STDIN       one verb, COUNT times
  driver.py PLUGIN COUNT cycle NETNS < STDIN        setup then teardown, COUNT times
  driver.py PLUGIN COUNT parallel NETNS... < STDIN  one worker thread per NETNS, each COUNT setup/teardown cycles of a
                                                    container of its own (container_id and name made unique per
                                                    worker); failures are counted, not fatal; "start"/"end" are epoch
                                                    seconds, so that several drivers' runs can be put together
"""
import hashlib
import json
import subprocess
import sys
import threading
import time

plugin, count, verb = sys.argv[1], int(sys.argv[2]), sys.argv[3]
netns = sys.argv[4] if len(sys.argv) > 4 else None
stdin = sys.stdin.buffer.read()


client_timings = {}


def run(args, data=stdin):
    start = time.perf_counter()
    done = subprocess.run([plugin] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stdout.decode()} {done.stderr.decode()}")
    # With NET_PORTER_TIMINGS=1 the plugin reports its own phases on stderr; kept with the wall time they belong to.
    for line in done.stderr.decode().splitlines():
        if line.startswith("net-porter: timings: "):
            client_timings.setdefault(args[0], []).append({"wall": elapsed, "line": line[len("net-porter: timings: "):]})
    return elapsed


def peak_rss(args, data=stdin):
    done = subprocess.run(["/usr/bin/time", "-f", "%M", plugin] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stdout.decode()} {done.stderr.decode()}")
    return int(done.stderr.decode().strip().splitlines()[-1])


def parallel(namespaces):
    base = json.loads(stdin)
    lock = threading.Lock()
    times = {"setup": [], "teardown": []}
    errors = []

    def worker(index, path):
        exec_json = dict(base)
        exec_json["container_id"] = hashlib.sha256(f"{base['container_id']}-{index}".encode()).hexdigest()
        exec_json["container_name"] = f"{base['container_name']}-{index}"
        data = json.dumps(exec_json).encode()
        for _ in range(count):
            for step in ("setup", "teardown"):
                try:
                    took = run([step, path], data)
                    with lock:
                        times[step].append(took)
                except RuntimeError as e:
                    with lock:
                        errors.append(str(e).strip())
                    if step == "setup":
                        # Leave the container clean for its next cycle, as podman's next start would find it.
                        subprocess.run([plugin, "teardown", path], input=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                        break

    threads = [threading.Thread(target=worker, args=(i, path)) for i, path in enumerate(namespaces)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    end = time.time()
    return {"ms": times, "errors": len(errors), "error_samples": errors[:5], "start": start, "end": end}


if verb == "parallel":
    print(json.dumps(parallel(sys.argv[4:])))
    sys.exit(0)

times = {}
rss = 0
try:
    for _ in range(count):
        if verb == "cycle":
            times.setdefault("setup", []).append(run(["setup", netns]))
            times.setdefault("teardown", []).append(run(["teardown", netns]))
        else:
            times.setdefault(verb, []).append(run([verb] + ([netns] if netns else [])))
    for _ in range(3):
        if verb == "cycle":
            rss = max(rss, peak_rss(["setup", netns]), peak_rss(["teardown", netns]))
        else:
            rss = max(rss, peak_rss([verb] + ([netns] if netns else [])))
except RuntimeError as e:
    sys.exit(str(e))

print(json.dumps({"ms": times, "max_rss_kib": rss, "client_timings": client_timings}))
