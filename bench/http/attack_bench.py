#!/usr/bin/env python3
"""Memory of `mplane component` under hostile clients (issue 10), for one or more binaries in
the same run (e.g. the build before the limits as the baseline, and the current one).

  bench/http/attack_bench.py BINARY [BINARY...] [--mib-per-conn N] [--big-mib N]

For each binary, each attack starts a fresh component (loopback service, one shard) and reports
its peak RSS (VmHWM) during the attack and its RSS two seconds after the attackers left:
  pipeline-plain  10 connections pipeline 1 MiB specifications and never read a reply
                  (up to --mib-per-conn MiB each; stops when no connection made progress
                  for 2 s, or after 60 s)
  pipeline-tls    the same over mutual TLS (certificates from `mplane pki`)
  big-request     one request with a --big-mib MiB test.input, reply read whole
"""
import argparse
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def spec(input_bytes):
    return ('{"specification": "measure", "version": 1, '
            '"registry": "http://mplane.corvid.ch/registry/loopback", "when": "now", '
            '"parameters": {"test.input": "' + "x" * input_bytes + '"}, '
            '"results": ["test.output"]}').encode()


def post(body):
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-mplane+json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


class Component:
    def __init__(self, binary, pki, tls):
        self.port = free_port()
        args = [binary, "component", "--service", "loopback", "--shards", "1",
                "--listen", f"127.0.0.1:{self.port}"]
        if tls:
            args += ["--ca", f"{pki}/ca.crt", "--cert", f"{pki}/component-Bench-1.crt",
                     "--key", f"{pki}/component-Bench-1.key"]
        else:
            args += ["--insecure"]
        self.proc = subprocess.Popen(args, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("component did not start")

    def peak(self):
        return status_kib(self.proc.pid, "VmHWM")

    def rss(self):
        return status_kib(self.proc.pid, "VmRSS")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def connect(port, tls_ctx):
    s = socket.create_connection(("127.0.0.1", port))
    if tls_ctx:
        s = tls_ctx.wrap_socket(s, server_hostname="127.0.0.1")
    s.setblocking(False)
    return s


def pipeline(comp, tls_ctx, mib_per_conn):
    request = post(spec(1 << 20))
    conns = [connect(comp.port, tls_ctx) for _ in range(10)]
    sent = [0] * len(conns)
    want = len(request) * mib_per_conn
    last = start = time.time()
    while time.time() - last < 2 and time.time() - start < 60 and comp.alive():
        progress = False
        for i, c in enumerate(conns):
            if sent[i] >= want:
                continue
            at = sent[i] % len(request)
            try:
                n = c.send(request[at:at + 256 * 1024])
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                continue
            except OSError:
                sent[i] = want
                continue
            sent[i] += n
            progress = progress or n > 0
        if progress:
            last = time.time()
        else:
            time.sleep(0.005)
    peak = comp.peak() if comp.alive() else -1
    for c in conns:
        c.close()
    time.sleep(2)
    after = comp.rss() if comp.alive() else -1
    return peak, after, sum(sent) >> 20


def big_request(comp, mib):
    body = spec(mib << 20)
    s = socket.create_connection(("127.0.0.1", comp.port))
    s.sendall(post(body))
    got, need = 0, None
    buf = b""
    while comp.alive():
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += len(chunk)
        if need is None:
            buf += chunk
            head_end = buf.find(b"\r\n\r\n")
            if head_end >= 0:
                length = [l for l in buf[:head_end].split(b"\r\n")
                          if l.lower().startswith(b"content-length:")]
                need = head_end + 4 + int(length[0].split(b":")[1]) if length else None
                buf = b""
        if need is not None and got >= need:
            break
    s.close()
    peak = comp.peak()
    time.sleep(2)
    return peak, comp.rss(), got >> 20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--mib-per-conn", type=int, default=100)
    ap.add_argument("--big-mib", type=int, default=60)
    a = ap.parse_args()
    work = tempfile.mkdtemp()
    pki = f"{work}/pki"
    m = a.binaries[-1]
    subprocess.run([m, "pki", "init", pki], check=True, stdout=subprocess.DEVNULL)
    for role, name in (("component", "Bench-1"), ("client", "Loader-1")):
        cmd = [m, "pki", "issue", pki, "--role", role, "--name", name]
        if role == "component":
            cmd += ["--san", "127.0.0.1"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls_ctx.load_verify_locations(f"{pki}/ca.crt")
    tls_ctx.load_cert_chain(f"{pki}/client-Loader-1.crt", f"{pki}/client-Loader-1.key")

    print(f"{'binary':40} {'attack':15} {'sent MiB':>9} {'peak MiB':>9} {'after MiB':>10}")
    for binary in a.binaries:
        runs = (("pipeline-plain", False, lambda c: pipeline(c, None, a.mib_per_conn)),
                ("pipeline-tls", True, lambda c: pipeline(c, tls_ctx, a.mib_per_conn)),
                ("big-request", False, lambda c: big_request(c, a.big_mib)))
        for name, tls, attack in runs:
            comp = Component(binary, pki, tls)
            try:
                peak, after, mib = attack(comp)
            finally:
                comp.stop()
            print(f"{binary[-40:]:40} {name:15} {mib:9d} {peak / 1024:9.1f} {after / 1024:10.1f}",
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())
