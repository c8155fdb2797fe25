"""Fixtures: a fake OpenAI-compatible provider and the quickstart started as a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

API_KEY = "mcp-interop-key-7d2f"
# The question that makes the fake provider hold its answer until the caller goes away.
HANG = "please hang"
ANSWER = {"answer": "Tools are async fns with a doc comment.", "citations": ["tools"], "confidence": 0.75}


@dataclass
class Provider:
    """A loopback OpenAI-compatible chat endpoint: answers `ANSWER` (streamed when asked),
    or, for a question containing `HANG`, holds the request until the client disconnects."""

    url: str
    hung: threading.Event = field(default_factory=threading.Event)
    dropped: threading.Event = field(default_factory=threading.Event)


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    state: dict[str, Provider] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if HANG in json.dumps(request):
                return self.hang()
            content = json.dumps(ANSWER)
            if request.get("stream"):
                return self.stream(content)
            body = json.dumps({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": request["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def stream(self, content: str) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")
            self.end_headers()
            third = len(content) // 3 + 1
            for piece in (content[i : i + third] for i in range(0, len(content), third)):
                delta = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
            done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
            self.close_connection = True

        def hang(self) -> None:
            state["p"].hung.set()
            # Waits for the caller to close the connection (the run was dropped), at most 30 s.
            self.connection.settimeout(30)
            try:
                while self.connection.recv(1024):
                    pass
                state["p"].dropped.set()
            except OSError:
                pass
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["p"] = Provider(url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    yield state["p"]
    server.shutdown()


def quickstart_env(provider: Provider) -> dict[str, str]:
    """The quickstart's environment: the fake provider as its model, an API key required."""
    return {
        "GENFLOW_MODEL": "openai/gpt-4o-mini",
        "OPENAI_BASE_URL": provider.url,
        "OPENAI_API_KEY": "sk-fake",
        "GENFLOW_AUTH_API_KEY_ENV": "MCP_INTEROP_KEY",
        "MCP_INTEROP_KEY": API_KEY,
        "RUST_LOG": "info",
    }


def quickstart_bin() -> str:
    path = os.environ.get("QUICKSTART_BIN")
    if not path:
        pytest.fail("QUICKSTART_BIN is not set: run interop/mcp-python/run.sh")
    return path


@dataclass
class Service:
    """The quickstart serving HTTP on a free loopback port."""

    base: str
    process: subprocess.Popen[str]


@pytest.fixture(scope="session")
def service(provider: Provider) -> Iterator[Service]:
    env = os.environ | quickstart_env(provider) | {"PORT": "0"}
    process = subprocess.Popen(
        [quickstart_bin()], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    base = None
    banner = []
    # The banner ends with the metrics endpoint.
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        banner.append(line)
        if found := re.search(r"genflow serving on (http://\S+)", line):
            base = found.group(1)
        if base and "metrics GET" in line:
            break
    if base is None:
        process.kill()
        pytest.fail("the quickstart did not start:\n" + "".join(banner))
    # Keep draining its logs so that it never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    assert any("/mcp" in line for line in banner), "the banner names the MCP endpoint:\n" + "".join(banner)
    yield Service(base=base, process=process)
    process.terminate()
    process.wait(timeout=15)
