"""A real MCP server built with the official MCP Python SDK (`mcp` on PyPI, FastMCP), serving
streamable HTTP at /mcp, for kst's tests: kst must list the tools of a server it did not write.
Usage: mcp_server.py PORT [stateless|sse]   (sse: the legacy HTTP+SSE transport at /sse)"""
import sys

from mcp.server.fastmcp import FastMCP
from mcp.types import ToolAnnotations

port = int(sys.argv[1])
mode = sys.argv[2] if len(sys.argv) > 2 else ""
stateless = mode == "stateless"
server = FastMCP("kst-peer", host="127.0.0.1", port=port, stateless_http=stateless, log_level="WARNING")


@server.tool(description="Adds two integers")
def add(a: int, b: int) -> int:
    return a + b


@server.tool(description="Echoes a message back", annotations=ToolAnnotations(readOnlyHint=True, title="Echo"))
def echo(message: str, shout: bool = False) -> str:
    return message.upper() if shout else message


@server.tool(description="Looks up the weather for a city")
def get_weather(city: str) -> str:
    return f"sunny in {city}"


server.run(transport="sse" if mode == "sse" else "streamable-http")
