"""An in-process stand-in for a Corvo node's worker stream (tests only): records the frames a
worker sends and answers them as a test scripts."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable, Optional

import grpc

from corvo.v1 import worker_pb2 as pb

#: Answers one frame: the responses to send (none: no answer), or raises to end the stream.
Script = Callable[["FakeCorvo", pb.StreamLifecycleRequest], list[pb.StreamLifecycleResponse]]


def answer(frame: pb.StreamLifecycleRequest) -> pb.StreamLifecycleResponse:
    """The plain success answer to a frame: every item accepted."""
    return pb.StreamLifecycleResponse(
        request_id=frame.request_id,
        acked=len(frame.acks),
        ack_results=[pb.ItemResult(job_id=a.job_id) for a in frame.acks],
        fail_results=[pb.ItemResult(job_id=f.job_id) for f in frame.fails],
        heartbeat_results=[pb.ItemResult(job_id=h.job_id) for h in frame.heartbeats],
    )


class EndStream(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code = code
        self.details = details


class FakeCorvo:
    def __init__(self, script: Optional[Script] = None) -> None:
        self.script: Script = script or (lambda server, frame: [answer(frame)])
        self.frames: list[tuple[int, pb.StreamLifecycleRequest]] = []
        self.metadata: list[dict[str, str]] = []
        self.streams = 0
        self.changed = asyncio.Event()
        self.pushes: Optional[asyncio.Queue[Optional[pb.StreamLifecycleResponse]]] = None
        self.server: Optional[grpc.aio.Server] = None
        self.port = 0

    async def start(self) -> str:
        handler: grpc.RpcMethodHandler[pb.StreamLifecycleRequest, pb.StreamLifecycleResponse]
        handler = grpc.stream_stream_rpc_method_handler(
            self._stream,
            request_deserializer=pb.StreamLifecycleRequest.FromString,
            response_serializer=pb.StreamLifecycleResponse.SerializeToString,
        )
        self.server = grpc.aio.server()
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("corvo.v1.WorkerService", {"StreamLifecycle": handler}),)
        )
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        await self.server.start()
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(None)

    def push(self, response: pb.StreamLifecycleResponse) -> None:
        """Sends ``response`` on the current stream (jobs, cancel ids)."""
        assert self.pushes is not None, "no stream open"
        self.pushes.put_nowait(response)

    def end_current(self) -> None:
        """Ends the current stream from the server's side (as a node going away)."""
        if self.pushes is not None:
            self.pushes.put_nowait(None)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError("timed out waiting for the worker")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.05))
            except asyncio.TimeoutError:
                pass

    async def _stream(
        self, requests: AsyncIterator[pb.StreamLifecycleRequest], context: grpc.aio.ServicerContext[pb.StreamLifecycleRequest, pb.StreamLifecycleResponse],
    ) -> AsyncIterator[pb.StreamLifecycleResponse]:
        self.streams += 1
        sid = self.streams
        md = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        self.metadata.append(md)
        out: asyncio.Queue[Optional[pb.StreamLifecycleResponse]] = asyncio.Queue()
        self.pushes = out
        ended: list[EndStream] = []

        async def read() -> None:
            try:
                async for frame in requests:
                    self.frames.append((sid, frame))
                    self.changed.set()
                    for r in self.script(self, frame):
                        out.put_nowait(r)
            except EndStream as e:
                ended.append(e)
            except Exception:  # noqa: BLE001 - the client went away
                pass
            out.put_nowait(None)

        reader = asyncio.get_running_loop().create_task(read())
        try:
            while True:
                r = await out.get()
                if r is None:
                    break
                yield r
        finally:
            reader.cancel()
            self.changed.set()
        if ended:
            await context.abort(ended[0].code, ended[0].details)
