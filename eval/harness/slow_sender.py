"""A caller that declares a large body and sends it a byte a second: what holds a large-body place of the service
when nothing cuts it off. The chaos runs and the tests both start such callers."""

from __future__ import annotations

import socket
import threading


def send_slowly(url: str, route: str, headers: dict[str, str], stop: threading.Event, answers: list[str],
                declared_bytes: int = 10_000_000) -> None:  # fmt: skip
    """POST to `route` of the service at `url` a byte a second until `stop` or an answer; the answer's status (or
    "reset") is appended to `answers`."""
    host, port = url.removeprefix("http://").split(":")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (f"POST {route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{head}"
               f"Content-Length: {declared_bytes}\r\n\r\n")  # fmt: skip
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.encode())
        sock.settimeout(1.0)
        while not stop.is_set():
            try:
                sock.sendall(b" ")
                if answer := sock.recv(64):
                    answers.append(answer.split(b" ")[1].decode())
                    return
            except TimeoutError:
                continue
            except OSError:
                answers.append("reset")
                return


def slow_senders(
    url: str, route: str, headers: dict[str, str], count: int, declared_bytes: int = 100_000
) -> tuple[threading.Event, list[str], list[threading.Thread]]:
    """`count` slow senders started on threads: set the event to stop them, join the threads, read the answers."""
    stop, answers = threading.Event(), []
    arguments = (url, route, headers, stop, answers, declared_bytes)
    threads = [threading.Thread(target=send_slowly, args=arguments) for _ in range(count)]
    for thread in threads:
        thread.start()
    return stop, answers, threads
