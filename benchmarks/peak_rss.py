"""peak_rss.py - run a command and record its peak resident set size
(getrusage's ru_maxrss of the finished child) and wall time.

    peak_rss.py OUT.csv COMMAND [ARGS...]

OUT.csv: command,seconds,max_rss_kb (the command as a user would type it:
./ and --out/--quiet dropped).
"""
import os
import resource
import subprocess
import sys
import time

if len(sys.argv) < 3:
    sys.exit("usage: peak_rss.py OUT.csv COMMAND [ARGS...]")
out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
secs = time.monotonic() - t0
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
shown, skip = [os.path.basename(cmd[0])], False
for a in cmd[1:]:
    if skip:
        skip = False
    elif a == "--out":
        skip = True
    elif a != "--quiet":
        shown.append(a)
with open(out + ".tmp", "w") as f:
    f.write(f"command,seconds,max_rss_kb\n{' '.join(shown)},{secs:.1f},{kb}\n")
os.replace(out + ".tmp", out)
print(f"   {' '.join(shown)}: {kb / 1024:.0f} MiB peak RSS in {secs:.0f} s")
