"""A real A2A agent-card server built with the official A2A Python SDK (a2a-sdk), for kst's
tests: kst must read cards that code it did not write produces. Usage: a2a_server.py PORT"""
import sys

import uvicorn
from a2a.server.routes.agent_card_routes import create_agent_card_routes
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from starlette.applications import Starlette

port = int(sys.argv[1])
card = AgentCard(
    name="currency-agent",
    description="Converts amounts between currencies (a2a-sdk test peer)",
    version="1.2.0",
    supported_interfaces=[
        AgentInterface(url=f"http://127.0.0.1:{port}/", protocol_binding="JSONRPC", protocol_version="1.0")
    ],
    capabilities=AgentCapabilities(streaming=True, push_notifications=False),
    default_input_modes=["text/plain"],
    default_output_modes=["text/plain"],
    skills=[
        AgentSkill(
            id="convert",
            name="Convert currency",
            description="Converts an amount from one currency to another",
            tags=["finance", "fx"],
            examples=["100 USD in EUR?"],
        )
    ],
)
app = Starlette(routes=create_agent_card_routes(card))
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
