#!/usr/bin/env python3
"""What the plugin costs every ``openstack`` start.

OSC imports every installed plugin module at each start.  This builds two
virtualenvs that differ only by this plugin (same pins, constraints.txt),
then times, interleaved in one run, ``openstack --version`` and
``openstack image list`` (against the local cloud) in each, and prints the
medians and their ratio.

Usage: python3 bench/startup.py [--runs N]   (default 21; target: <= 1.03)
CPU time (user + sys of the command) is printed beside wall time: on a
noisy machine it moves far less.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import common

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, 'bench', '.work')
CONSTRAINTS = os.path.join(ROOT, 'constraints.txt')


def venv(name, packages):
    path = os.path.join(WORK, name)
    marker = os.path.join(path, '.ready')
    if not os.path.exists(marker):
        subprocess.check_call([sys.executable, '-m', 'venv', '--clear', path])
        subprocess.check_call(
            [os.path.join(path, 'bin', 'pip'), 'install', '--quiet',
             '-c', CONSTRAINTS] + packages)
        open(marker, 'w').close()
    else:
        # Keep the plugin current in the 'with' venv.
        if len(packages) > 1:
            subprocess.check_call(
                [os.path.join(path, 'bin', 'pip'), 'install', '--quiet',
                 '--no-deps', '-c', CONSTRAINTS] + packages[1:])
    return os.path.join(path, 'bin', 'openstack')


def timed(cmd, env):
    """Wall time and CPU time (user + sys, less noisy) of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise SystemExit('failed: %s' % ' '.join(cmd))
    return wall, ru.ru_utime + ru.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=21)
    args = parser.parse_args()
    bins = {
        'without': venv('without', ['python-openstackclient']),
        'with': venv('with', ['python-openstackclient', ROOT]),
    }
    check = subprocess.run([bins['with'], 'image', 'share', 'status',
                            '--help'], capture_output=True)
    assert check.returncode == 0, 'plugin not loaded in the "with" venv'
    env = common.env()
    cases = {'--version': ['--version'],
             'image list': ['--os-cloud', 'alice-alpha', 'image', 'list']}
    times = {(c, v): [] for c in cases for v in bins}
    with common.local_cloud():
        for case, argv in cases.items():
            for v in bins:  # warm the page cache once
                timed([bins[v]] + argv, env)
            for i in range(args.runs):
                # Interleaved, alternating which goes first (ABBA): drift
                # and noise hit both alike.
                order = list(bins) if i % 2 == 0 else list(bins)[::-1]
                for v in order:
                    times[(case, v)].append(timed([bins[v]] + argv, env))
    print('runs: %d each, interleaved ABBA; medians, seconds' % args.runs)
    print('%-12s %-6s %8s %8s %7s' % ('command', '', 'without', 'with',
                                      'ratio'))
    for case in cases:
        for i, kind in enumerate(('wall', 'cpu')):
            a = statistics.median(t[i] for t in times[(case, 'without')])
            b = statistics.median(t[i] for t in times[(case, 'with')])
            print('%-12s %-6s %8.3f %8.3f %7.3f' % (case, kind, a, b, b / a))


if __name__ == '__main__':
    main()
