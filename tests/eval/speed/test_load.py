import asyncio
import json

from eval.speed.load import LoadResult, RawHttpClient, run_load


async def serve_statuses(statuses: list[int], seen: list[dict]) -> tuple[asyncio.AbstractServer, int]:
    """A keep-alive HTTP server answering the given statuses in turn, recording each JSON body."""
    count = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            )
            seen.append(json.loads(await reader.readexactly(length)))
            status = statuses[count % len(statuses)]
            count += 1
            body = b'{"ok": true}'
            writer.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_every_request_is_counted_by_status_and_only_200s_count_pairs():
    seen: list[dict] = []

    async def main() -> LoadResult:
        server, port = await serve_statuses([200, 429, 200, 503], seen)
        async with server:
            bodies = [{"pairs": [1, 2, 3]}, {"pairs": [4]}]
            return await run_load(
                f"http://127.0.0.1:{port}/x",
                bodies,
                concurrency=1,
                max_requests=8,
                max_seconds=10,
                pairs_per_body=lambda body: len(body["pairs"]),
            )

    result = asyncio.run(main())
    assert result.requests == 8
    assert result.statuses == {200: 4, 429: 2, 503: 2}
    assert result.errors == 4
    assert result.pairs == 4 * 3  # the 200s fell on the first body each time
    assert seen[:2] == [{"pairs": [1, 2, 3]}, {"pairs": [4]}]
    summary = result.summary()
    assert summary["requests"] == 8 and summary["statuses"] == {"200": 4, "429": 2, "503": 2}
    assert summary["p50_ms"] <= summary["p99_ms"]


def test_concurrent_clients_stop_at_the_request_bound():
    async def main() -> LoadResult:
        server, port = await serve_statuses([200], [])
        async with server:
            return await run_load(f"http://127.0.0.1:{port}/x", [{"a": 1}], 8, max_requests=50, max_seconds=10)

    result = asyncio.run(main())
    assert result.requests == 50 and result.statuses == {200: 50} and result.pairs == 50


def test_a_refused_connection_is_status_zero():
    async def main() -> int:
        client = RawHttpClient("127.0.0.1", 9, timeout_s=2)  # discard port: nothing listens
        return await client.post("/x", b"{}")

    assert asyncio.run(main()) == 0


def test_an_answer_without_content_length_counts_as_a_failure_not_a_desync():
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
        await writer.drain()

    async def main() -> int:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        async with server:
            client = RawHttpClient("127.0.0.1", server.sockets[0].getsockname()[1], timeout_s=5)
            return await client.post("/x", b"{}")

    assert asyncio.run(main()) == 0
