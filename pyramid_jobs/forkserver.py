"""The embedded worker's fork server: one single-threaded process that forks each job's child.

A child forked from the web process itself would copy a process of many threads, and with it
every lock another thread held at that instant (SQLite's bookkeeping of a transaction, a module's
import lock, a library's own locks) with nobody left to release it: its first claim met
"database is locked", or it hung. The fork server is forked once, when the application is
created, before the embedded worker, the web server or a heartbeat start any thread and with no
SQLite connection open; it then only waits on sockets and forks, so every job child is a copy of
that quiet process (the whole runtime, host processors and subscribers included) and inherits no
half-held lock.

Each job has a socket pair of its own (``SOCK_SEQPACKET`` on Linux, a stream elsewhere: every
message is one length-prefixed record), handed to the server over its control socket. On it the
server says the child's pid, then its exit code once it reaped it; the child sends its report;
the web process may ask for a kill. A web process that closes its end kills the child, and the
server ends when the web process does.
"""
from __future__ import annotations

import ctypes
import logging
import os
import pickle
import selectors
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger("pyramid_jobs.forkserver")

#: Runs in a job's child: the job id and the child's end of the job's socket (it sends its report).
Target = Callable[[str, socket.socket], None]

#: The largest record on a job's socket (a report is a few hundred bytes).
RECORD = 1 << 16
KILL = b"kill"
PR_SET_PDEATHSIG = 1
#: Unix sockets keep record boundaries only on Linux (macOS has no ``SOCK_SEQPACKET`` for them).
STREAM = not sys.platform.startswith("linux")
#: A job id travels padded to this many bytes, so a stream never runs two requests together.
JOB_ID_BYTES = 64


class ForkServerGone(RuntimeError):
    """The fork server died: the embedded worker cannot start jobs until the web process restarts."""


def send(sock: socket.socket, message: tuple) -> None:
    """One record on a job's socket."""
    _send_record(sock, pickle.dumps(message))


def _pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM if STREAM else socket.SOCK_SEQPACKET)


def _send_record(sock: socket.socket, data: bytes) -> None:
    sock.sendall(len(data).to_bytes(4, "big") + data)


def _recv_record(sock: socket.socket) -> bytes:
    """The next record (b"" when the other end closed). The socket's timeout applies to the wait
    for its first bytes; the rest of a record is already on its way."""
    if not STREAM:
        data = sock.recv(RECORD)
        return data[4:] if data else b""
    head = sock.recv(4)
    if not head:
        return b""
    timeout = sock.gettimeout()
    sock.settimeout(None)
    try:
        head += _exactly(sock, 4 - len(head))
        return _exactly(sock, int.from_bytes(head, "big"))
    finally:
        sock.settimeout(timeout)


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionResetError("the other end closed mid-record")
        data += chunk
    return data


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when its parent ends (Linux), and end now if it
    already has: the fork server ends with the web process, a job's child with the fork server."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the server still ends when its control socket closes
        pass
    if os.getppid() != parent:
        os._exit(1)


class ForkServer:
    """The web process's handle on its fork server."""

    def __init__(self, target: Target, warm: Callable[[], None] | None = None):
        """Fork the server now, which the caller does while this process has a single thread.
        The server first runs ``warm`` (loading the processors' libraries once, for every child),
        then serves; a request made meanwhile waits for it."""
        others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
        if others:
            # (pserve --reload: hupper's two threads, idle on their pipes)
            log.info("the fork server starts beside other threads (%s)", ", ".join(others))
        ours, theirs = _pair()
        parent = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:  # the server
            code = 0
            try:
                die_with_parent(parent)
                ours.close()
                if warm is not None:
                    warm()
                _serve(theirs, target)
            except BaseException:
                log.exception("the fork server failed")
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self._control = ours
        self._lock = threading.Lock()

    def fork(self, job_id: str) -> Child:
        """A new child running the job (its pid comes with its first record)."""
        mine, its = _pair()
        try:
            with self._lock:
                socket.send_fds(self._control, [job_id.encode().ljust(JOB_ID_BYTES, b"\0")], [its.fileno()])
        except OSError as exc:
            mine.close()
            raise ForkServerGone("the embedded worker's fork server is gone; restart the web process") from exc
        finally:
            its.close()
        return Child(mine)

    @property
    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def stop(self) -> None:
        """Close the control socket: the server kills its children and ends."""
        self._control.close()


class Child:
    """One job's child, seen from the web process (the fork server is its parent)."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        #: Its pid, once the server said it.
        self.pid: int | None = None
        #: Its exit code once the server reaped it (negative: the signal that killed it).
        self.exitcode: int | None = None
        self._report: tuple | None = None
        self._gone = False

    @property
    def ended(self) -> bool:
        """Whether the child ended (its exit code is known), or the server died (then it is None)."""
        return self._gone

    def report(self, timeout: float) -> tuple | None:
        """The child's report (``("outcome", Outcome)`` or ``("error", repr)``), or None when it
        ended without one or ``timeout`` seconds passed first (then it has not :attr:`ended`)."""
        self._read(timeout, lambda: self._report is not None)
        return self._report

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the child to end."""
        self._read(timeout, lambda: False)

    def kill(self, timeout: float = 30) -> None:
        """SIGKILL the child and wait for the server to reap it."""
        if not self._gone:
            try:
                _send_record(self._sock, KILL)
            except OSError:
                self._gone = True
        self.join(timeout)

    def close(self) -> None:
        """Let go of the child (the server kills it if it still runs)."""
        self._sock.close()

    def _read(self, timeout: float, enough: Callable[[], bool]) -> None:
        deadline = time.monotonic() + timeout
        while not self._gone and not enough():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._sock.settimeout(left)
            try:
                data = _recv_record(self._sock)
            except (TimeoutError, BlockingIOError):
                return
            except OSError:
                data = b""
            if not data:  # the server died
                self._gone = True
                return
            kind, value = pickle.loads(data)
            if kind == "pid":
                self.pid = value
            elif kind == "exit":
                self.exitcode, self._gone = value, True
            else:
                self._report = (kind, value)


def _serve(control: socket.socket, target: Target) -> None:
    """The server's loop: fork on request, kill on request, reap and tell."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the web process's to handle
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    jobs: dict[int, socket.socket] = {}  # pid -> the server's copy of its job's socket

    def in_child(keep: socket.socket) -> None:
        """A job's child keeps its own socket and nothing else of the server's."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        selector.close()
        os.close(wake_r)
        os.close(wake_w)
        control.close()
        for sock in jobs.values():
            if sock is not keep:
                sock.close()

    while True:
        for key, _ in selector.select():
            if key.fileobj is control:
                try:
                    data, fds, _, _ = socket.recv_fds(control, JOB_ID_BYTES, 1)
                    if data and len(data) < JOB_ID_BYTES:  # a stream may hand a request over in parts
                        data += _exactly(control, JOB_ID_BYTES - len(data))
                except OSError:
                    data, fds = b"", []
                if not data:  # the web process is gone or stopping
                    for pid in jobs:
                        _kill(pid)
                    return
                sock = socket.socket(fileno=fds[0])
                pid = _fork(data.rstrip(b"\0").decode(), sock, target, in_child)
                jobs[pid] = sock
                selector.register(sock, selectors.EVENT_READ, pid)
                _tell(sock, ("pid", pid))
            elif key.fileobj == wake_r:
                while _drain(wake_r):
                    pass
                _reap(jobs, selector)
            elif key.data in jobs:  # a kill request, or the web process let go of the child
                try:
                    asked = _recv_record(key.fileobj)
                except OSError:
                    asked = b""
                if not asked:
                    selector.unregister(key.fileobj)
                _kill(key.data)


def _fork(job_id: str, sock: socket.socket, target: Target, in_child: Callable[[socket.socket], None]) -> int:
    server = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            die_with_parent(server)
            in_child(sock)
            target(job_id, sock)
        except BaseException:
            log.exception("job %s: its process failed", job_id)
            code = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(code)
    return pid


def _reap(jobs: dict[int, socket.socket], selector: selectors.BaseSelector) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        sock = jobs.pop(pid, None)
        if sock is None:
            continue
        try:
            selector.unregister(sock)
        except KeyError:  # already, when the web process let go of it
            pass
        _tell(sock, ("exit", os.waitstatus_to_exitcode(status)))
        sock.close()


def _tell(sock: socket.socket, message: tuple) -> None:
    try:
        send(sock, message)
    except OSError:  # the web process let go of this child
        pass


def _kill(pid: int) -> None:
    """Only ever a child not yet reaped, so the pid is still that child's."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _drain(fd: int) -> bool:
    try:
        return bool(os.read(fd, 4096))
    except BlockingIOError:
        return False


__all__ = ["ForkServer", "ForkServerGone", "Child", "send", "die_with_parent"]
