"""An MCP server of the official Python SDK (`MCPServer`, formerly `FastMCP`) whose tools a
genflow flow calls in genflow-runtime/tests/mcp_client.rs.

    python tools_server.py stdio
    python tools_server.py http PORT     (streamable HTTP at http://127.0.0.1:PORT/mcp)
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("genflow-test-tools")


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


@server.tool()
def forecast(city: str) -> str:
    """Tomorrow's weather in a city."""
    if city != "Lyon":
        # A `ToolError`'s message reaches the client; other exceptions read "Error executing tool".
        raise ToolError(f"no forecast for {city}")
    return "Lyon: rain, 14 C"


@server.tool()
async def slow(seconds: float) -> str:
    """Answers after a while."""
    await asyncio.sleep(seconds)
    return "finally"


@server.tool()
def pid() -> int:
    """This server's process id."""
    return os.getpid()


if __name__ == "__main__":
    if sys.argv[1:] == ["stdio"]:
        server.run("stdio")
    elif len(sys.argv) == 3 and sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        sys.exit(__doc__)
