"""The floor net-porter is measured against: root runs the same CNI plugins with the same configuration directly
(no plugin process of net-porter's, no server), as a root runtime would. Prints the same JSON as driver.py, with
"setup" for ADD and "teardown" for DEL.

  floor.py CONF NETNS COUNT      (CONF: the network's plugin configuration with name and cniVersion; run as root)
"""
import json
import os
import subprocess
import sys
import time

conf_path, netns, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
conf = json.load(open(conf_path))
plugin = os.path.join("/usr/lib/cni", conf["type"])


def run(command, stdin):
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": "floor", "CNI_NETNS": netns, "CNI_IFNAME": "eth0",
           "CNI_PATH": "/usr/lib/cni", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    start = time.perf_counter()
    done = subprocess.run([plugin], input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        sys.exit(f"{command} failed: {done.stdout.decode()} {done.stderr.decode()}")
    return elapsed, done.stdout


times = {"setup": [], "teardown": []}
for _ in range(count):
    took, result = run("ADD", json.dumps(conf).encode())
    times["setup"].append(took)
    # DEL gets the ADD result as prevResult, as a runtime's cache gives it.
    with_prev = dict(conf, prevResult=json.loads(result))
    took, _ = run("DEL", json.dumps(with_prev).encode())
    times["teardown"].append(took)

print(json.dumps({"ms": times, "max_rss_kib": 0}))
