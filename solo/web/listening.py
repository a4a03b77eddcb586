"""The listening sockets of `solo serve --workers N`: one per worker, the kernel spreading new
connections among them (SO_REUSEPORT).

uvicorn's own multi-worker mode shares one listening socket between its workers, and a
worker woken by new connections accepts every one that is waiting. Sixteen connections opened
at once (a load balancer's pool, a browser's, wrk's) often all went to one worker while the
other idled: on two workers, `/healthz` answered 1,500 req/s in one run of six and 2,500 to
3,100 in the others, the connections split 16/0 in the first. With a socket per worker the
kernel picks a worker for each connection by a hash of its addresses and ports.

The parent binds a socket with SO_REUSEPORT (the port is taken, or the bind fails, before any
worker starts, as with uvicorn's) and never listens on it, so no connection waits there. uvicorn
hands that socket to every worker it spawns, a restarted one included, by pickling it: this one
pickles as its address, and each worker unpickles its own socket bound to it. A worker that
dies takes the connections waiting in its own queue with it (they are reset, unanswered);
the others keep serving and the kernel sends new connections only to sockets that listen.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

Address = tuple[str, int]


def run_workers(config: uvicorn.Config, sock: PerWorkerSocket) -> None:
    """uvicorn's supervisor over `config.workers` workers, each on a socket of its own bound
    to the address of `sock` (from `bind_per_worker`)."""
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", *sock.getsockname()[:2]
    )
    Multiprocess(config, sockets=[sock]).run()


class PerWorkerSocket(socket.socket):
    """A bound socket that a worker process receives as a socket of its own."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_bound, (self.family, self.getsockname()[:2]))


def bind_per_worker(host: str, port: int) -> PerWorkerSocket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = PerWorkerSocket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    _share_port(sock, (host, port))
    return sock


def _bound(family: socket.AddressFamily, address: Address) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    _share_port(sock, address)
    return sock


def _share_port(sock: socket.socket, address: Address) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
