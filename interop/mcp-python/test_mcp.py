"""The official Python MCP SDK's client against the quickstart: over streamable HTTP (behind the
API key) and over stdio (`quickstart mcp`), each a real process."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from conftest import ANSWER, API_KEY, HANG, Provider, Service, quickstart_bin, quickstart_env

pytestmark = pytest.mark.anyio

# "auto" negotiates the newest protocol (2026-07-28); "legacy" the initialize handshake, where a
# cancelled call is a `notifications/cancelled` message.
MODES = ["auto", "legacy"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def over_http(service: Service, mode: str, key: str | None = API_KEY) -> AsyncIterator[Client]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http:
        transport = streamable_http_client(f"{service.base}/mcp", http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


@asynccontextmanager
async def over_stdio(provider: Provider, mode: str) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=quickstart_bin(), args=["mcp"], env=quickstart_env(provider))
    async with Client(params, mode=mode) as client:
        yield client


async def check_tools(client: Client) -> None:
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) == {"ragQuery", "ragQueryStream", "searchDocs"}, listed.keys()
    rag = listed["ragQuery"]
    assert rag.description == "Answer a question from the bundled documents."
    assert rag.input_schema["type"] == "object"
    assert rag.input_schema["required"] == ["question"], rag.input_schema
    assert set(rag.output_schema["properties"]) == {"answer", "citations", "confidence"}
    # searchDocs returns a list: its output is wrapped as {"result": [...]}.
    search = listed["searchDocs"]
    assert search.output_schema["required"] == ["result"], search.output_schema
    assert search.output_schema["properties"]["result"]["type"] == "array"


async def check_typed_output(client: Client) -> None:
    result = await client.call_tool("ragQuery", {"question": "How do tools work?"})
    assert not result.is_error, result
    assert result.structured_content == ANSWER, result.structured_content
    assert json.loads(result.content[0].text) == ANSWER
    search = await client.call_tool("searchDocs", {"query": "tools", "limit": 1})
    assert not search.is_error, search
    assert [p["id"] for p in search.structured_content["result"]] == ["tools"], search.structured_content


async def check_input_error(client: Client) -> None:
    result = await client.call_tool("ragQuery", {"question": 42, "context": ["fine", 7]})
    assert result.is_error, result
    body = result.structured_content
    assert body["status"] == "INVALID_ARGUMENT", body
    paths = sorted(v["path"] for v in body["details"]["errors"])
    assert paths == ["/context/1", "/question"], body
    assert result.content[0].text.startswith("INVALID_ARGUMENT: "), result.content


async def call_and_cancel(client: Client, provider: Provider) -> float:
    """Starts a call whose model never answers, cancels it once the model is called, and
    returns how long the provider then waited for the run to drop its request."""
    provider.hung.clear()
    provider.dropped.clear()
    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(client.call_tool, "ragQuery", {"question": f"{HANG}: how do tools work?"})
            while not provider.hung.is_set():
                await anyio.sleep(0.05)
            group.cancel_scope.cancel()
    cancelled = time.monotonic()
    while not provider.dropped.is_set():
        assert time.monotonic() - cancelled < 10, "the run kept waiting on its model after the call was cancelled"
        await anyio.sleep(0.05)
    return time.monotonic() - cancelled


def cancelled_runs(service: Service) -> int:
    metrics = httpx2.get(f"{service.base}/metrics").text
    found = re.search(r'genkit_action_requests_total\{kind="flow",name="ragQuery",status="CANCELLED"\} (\d+)', metrics)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("mode", MODES)
async def test_http_lists_and_calls_tools(service: Service, mode: str) -> None:
    async with over_http(service, mode) as client:
        await check_tools(client)
        await check_typed_output(client)
        await check_input_error(client)


@pytest.mark.parametrize("mode", MODES)
async def test_http_streaming_flow_sends_its_chunks_as_progress(service: Service, mode: str) -> None:
    messages: list[str] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")

    async with over_http(service, mode) as client:
        result = await client.call_tool("ragQueryStream", {"question": "How do tools work?"}, progress_callback=progress)
    assert not result.is_error, result
    assert result.structured_content == ANSWER
    assert len(messages) >= 2, messages
    assert "".join(messages) == ANSWER["answer"], messages


@pytest.mark.parametrize("mode", MODES)
async def test_http_cancelled_call_cancels_the_run(service: Service, provider: Provider, mode: str) -> None:
    before = cancelled_runs(service)
    async with over_http(service, mode) as client:
        await call_and_cancel(client, provider)
        # The session goes on serving.
        await check_typed_output(client)
    assert cancelled_runs(service) == before + 1, "the run ended CANCELLED"


async def test_http_refuses_callers_without_the_key(service: Service) -> None:
    for key, status in [(None, 401), ("wrong-key", 403)]:
        # The SDK's client cannot connect (it reports no HTTP status)...
        with pytest.RaisesGroup(MCPError, allow_unwrapped=True, flatten_subgroups=True):
            async with over_http(service, "legacy", key=key) as client:
                await client.list_tools()
        # ...because /mcp answers as the flow routes do.
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
        headers = {"accept": "application/json, text/event-stream"}
        if key:
            headers["authorization"] = f"Bearer {key}"
        raw = httpx2.post(f"{service.base}/mcp", json=initialize, headers=headers)
        assert raw.status_code == status, raw.text
        assert raw.json()["status"] == ("UNAUTHENTICATED" if status == 401 else "PERMISSION_DENIED")


async def test_openapi_does_not_list_mcp(service: Service) -> None:
    paths = httpx2.get(f"{service.base}/openapi.json").json()["paths"]
    assert "/ragQuery" in paths and not any("mcp" in path for path in paths), list(paths)


@pytest.mark.parametrize("mode", MODES)
async def test_stdio_lists_calls_and_cancels(provider: Provider, mode: str) -> None:
    async with over_stdio(provider, mode) as client:
        await check_tools(client)
        await check_typed_output(client)
        await check_input_error(client)
        await call_and_cancel(client, provider)
        await check_typed_output(client)
