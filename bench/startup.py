"""Startup cost of the processes that do not convert: process start → exit of runs that stop right
after loading and initialising (fcgi-app on a socket path it cannot create, janitor on a database it
cannot reach, ws-gateway on an address it cannot resolve, after starting its event loops), median of
30, and the shared objects each links (ldd).

    bench/startup.py [BIN_DIR …]      (default: .build/release; give an older build's folder to compare)
"""
import os, statistics, subprocess, sys, time
env = {"PATH": "/usr/bin:/bin", "DOCFLOW_DATABASE": "host=/nonexistent dbname=x", "DOCFLOW_STORAGE": "/tmp/startup-storage",
       "DOCFLOW_LOG_FORMAT": "json", "DOCFLOW_WS_HOST": "256.0.0.1"}
for d in sys.argv[1:] or [os.path.join(os.path.dirname(__file__), "..", ".build", "release")]:
    for name, args in (("fcgi-app", ["/nonexistent/dir/fcgi.sock"]), ("janitor", []), ("ws-gateway", [])):
        xs = []
        for _ in range(30):
            t = time.perf_counter()
            subprocess.run([f"{d}/{name}", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
            xs.append((time.perf_counter() - t) * 1000)
        libs = subprocess.run(["ldd", f"{d}/{name}"], capture_output=True, text=True).stdout.splitlines()
        heavy = [l.split()[0] for l in libs if any(k in l for k in ("poppler", "cairo", "pango", "harfbuzz", "xlsxwriter", "gdk_pixbuf", "snappy"))]
        print(f"{d}: {name} start → exit median {statistics.median(xs):.1f} ms, min {min(xs):.1f} ms; "
              f"{len(libs)} shared objects, converter libraries: {', '.join(heavy) or 'none'}")
