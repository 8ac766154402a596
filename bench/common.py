"""What the benchmarks share: the local cloud, its clients, a clean env."""

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_CLOUD = os.path.join(ROOT, 'tools', 'local-cloud')
STATE = os.path.abspath(os.environ.get('OSC_IMAGESHARE_CLOUD_DIR')
                        or os.path.join(ROOT, '.local-cloud'))
CLOUDS_YAML = os.path.join(STATE, 'clouds.yaml')
# The openstack of the environment running the benchmark (tox -e bench).
OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')


def env():
    """This environment, less OS_* (they override --os-cloud)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    e['OS_CLIENT_CONFIG_FILE'] = CLOUDS_YAML
    return e


@contextlib.contextmanager
def local_cloud():
    """The local cloud, started for the benchmark if it was not running."""
    started = subprocess.run([sys.executable, LOCAL_CLOUD, 'status'],
                             capture_output=True).returncode != 0
    if started:
        subprocess.check_call([sys.executable, LOCAL_CLOUD, 'start'])
    try:
        yield
    finally:
        if started:
            subprocess.call([sys.executable, LOCAL_CLOUD, 'stop'])


def server_cpu():
    """CPU seconds the local cloud's servers (and their workers) used.

    On a loaded machine wall time is noise; what a case costs the CPU,
    client and servers together, is not.
    """
    import json

    with open(os.path.join(STATE, 'state.json')) as f:
        state = json.load(f)
    roots = {state[k] for k in ('keystone_pid', 'glance_pid', 'glance2_pid')
             if state.get(k)}
    parent, ticks = {}, {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        parent[int(name)] = int(fields[1])
        # utime, stime, and what its reaped children used
        ticks[int(name)] = sum(int(x) for x in fields[11:15])
    total = 0
    for pid, t in ticks.items():
        p = pid
        while p not in roots and p > 1:
            p = parent.get(p, 1)
        if p in roots:
            total += t
    return total / os.sysconf('SC_CLK_TCK')


def region(cloud):
    import openstack.config
    return openstack.config.OpenStackConfig(
        config_files=[CLOUDS_YAML]).get_one(cloud=cloud)


def glance(cloud):
    from glanceclient.v2 import client
    r = region(cloud)
    return client.Client(session=r.get_session(), region_name=r.region_name,
                         interface='public')


# Loaded by the measured Python through PYTHONPATH: counts what its
# sockets receive.  /proc/PID/io cannot: its rchar counts read() calls,
# not the recv() calls sockets use.
COUNTER = """import atexit, os, socket
_got = [0]
_recv_into = socket.socket.recv_into
def _counted(self, *a, **k):
    n = _recv_into(self, *a, **k)
    _got[0] += n or 0
    return n
socket.socket.recv_into = _counted
atexit.register(lambda: open(os.environ['BENCH_RECEIVED'], 'w').write(
    str(_got[0])))
"""


def measure(cmd):
    """Run a command to its end, watching it.

    Returns seconds, CPU seconds (user + system), peak RSS (KiB, the
    child's own), the bytes it wrote
    to disk (/proc/PID/io write_bytes: temporary files would show there),
    the bytes its sockets received (a Python command only; else None) and
    its stdout.
    """
    import tempfile

    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, 'sitecustomize.py'), 'w') as f:
        f.write(COUNTER)
    e = env()
    e['PYTHONPATH'] = tmp
    e['BENCH_RECEIVED'] = os.path.join(tmp, 'received')
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    # Read as it writes: a full pipe (64 KiB) would stop the command.
    got = {}
    streams = (('out', proc.stdout), ('err', proc.stderr))
    readers = [threading.Thread(target=lambda k, s: got.__setitem__(
        k, s.read()), args=(k, s)) for k, s in streams]
    for r in readers:
        r.start()
    io, rusage, status = {'write_bytes': 0}, None, 0
    while rusage is None:
        try:
            with open('/proc/%d/io' % proc.pid) as f:
                for line in f:
                    key, _, value = line.partition(':')
                    if key in io:
                        io[key] = max(io[key], int(value))
        except OSError:
            pass
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            rusage = ru
        else:
            time.sleep(0.02)
    for r in readers:
        r.join()
    out, err = got['out'], got['err']
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise SystemExit('failed: %s\n%s' % (' '.join(cmd), err.decode()))
    try:
        with open(e['BENCH_RECEIVED']) as f:
            received = int(f.read())
    except OSError:
        received = None
    shutil.rmtree(tmp)
    return types.SimpleNamespace(seconds=seconds, rss=rusage.ru_maxrss,
                                 cpu=rusage.ru_utime + rusage.ru_stime,
                                 written=io['write_bytes'],
                                 received=received, out=out)
