"""Each worker of `solo serve --workers N` listens on a socket of its own, and the kernel
spreads new connections among them."""

import pathlib
import socket
import time
from multiprocessing.reduction import ForkingPickler

import pytest

from solo.web.listening import bind_per_worker
from tests.conftest import TEST_JWT_SECRET
from tests.support.server import STARTUP_SECONDS, LiveServer

CONNECTIONS = 64


def test_each_worker_unpickles_a_socket_of_its_own_bound_to_the_parents_port():
    with bind_per_worker("127.0.0.1", 0) as parent:
        address = parent.getsockname()
        workers = [ForkingPickler.loads(ForkingPickler.dumps(parent)) for _ in range(2)]
        try:
            for worker in workers:
                assert type(worker) is socket.socket
                assert worker.getsockname() == address
                assert worker.fileno() != parent.fileno()
                assert worker.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        finally:
            for worker in workers:
                worker.close()


def test_new_connections_are_spread_among_the_workers_sockets_and_none_waits_on_the_parents():
    with bind_per_worker("127.0.0.1", 0) as parent:
        workers = [ForkingPickler.loads(ForkingPickler.dumps(parent)) for _ in range(2)]
        clients: list[socket.socket] = []
        try:
            for worker in workers:
                worker.listen(CONNECTIONS)
                worker.setblocking(False)
            clients = [socket.create_connection(parent.getsockname()) for _ in range(CONNECTIONS)]
            accepted = [_accept_all(worker) for worker in workers]
        finally:
            for sock in (*clients, *workers):
                sock.close()
    assert sum(accepted) == CONNECTIONS
    assert min(accepted) > 0  # all 64 on one of two sockets: a chance of 2 in 2**64


def test_a_port_another_socket_holds_is_refused():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        with pytest.raises(OSError):
            bind_per_worker("127.0.0.1", holder.getsockname()[1])


def test_every_worker_of_solo_serve_listens_on_its_own_socket(tmp_path):
    env = {
        "SOLO_DATABASE_URL": f"sqlite:///{tmp_path}/solo.db",
        "SOLO_JWT_SECRET": TEST_JWT_SECRET,
        "SOLO_STORAGE_URL": f"file://{tmp_path}/snapshots",
    }
    server = LiveServer(env, workers=2, log_path=tmp_path / "server.log")
    try:
        listening = _listening_inodes(server.port)
        deadline = time.monotonic() + STARTUP_SECONDS
        while len(listening) < 2 and time.monotonic() < deadline:  # ready: one worker, maybe
            time.sleep(0.1)
            listening = _listening_inodes(server.port)
        owners = {_owner(inode) for inode in listening}
    finally:
        server.stop()
    assert len(listening) == 2
    assert len(owners) == 2
    assert server.pid not in owners  # the parent binds, never listens


def _accept_all(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            accepted, _ = sock.accept()
        except BlockingIOError:
            return count
        accepted.close()
        count += 1


def _listening_inodes(port: int) -> set[str]:
    """The inodes of the TCP sockets listening on `port` (state 0A in /proc/net/tcp)."""
    rows = pathlib.Path("/proc/net/tcp").read_text().splitlines()[1:]
    fields = [row.split() for row in rows]
    return {f[9] for f in fields if f[3] == "0A" and int(f[1].split(":")[1], 16) == port}


def _owner(inode: str) -> int:
    for fd in pathlib.Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if fd.readlink().name == f"socket:[{inode}]":
                return int(fd.parts[2])
        except OSError:
            continue
    raise LookupError(inode)
