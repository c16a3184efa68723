"""mkt-mcp's market tools through the official MCP Python SDK (`mcp` on PyPI) over stdio.

The SDK's ClientSession validates every structured result against the tool's output schema,
so this checks the schemas rmcp derives as a real client reads them. Run by run.sh, which
installs the pinned SDK into a virtualenv and builds `mkt` and `mkt-mcp`:

    python market_sdk.py MKT MKT_MCP REPO_ROOT
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

OPS = "s6ely-d4zm2-yclie-fotzv-d7ttp-fffoy-t3nwx-j6s5t-p67tc-bodrq-7qe"
ALICE = "7a2bc-recr7-jwo3j-zk77y-nmy7c-3fll5-hgbus-jmgtq-ldmeo-mjcal-uqe"
SECRET_HEX = "07" * 32


def mkt(mkt_bin, root, state, *args):
    out = subprocess.run(
        [mkt_bin, "--state", state, "--candid", os.path.join(root, "candid/marketplace.did"),
         "--wasm", os.path.join(root, "target/wasm/marketplace.wasm.gz"), *args],
        check=True, capture_output=True, text=True, cwd=root,
    )
    return out.stdout


def market(mkt_bin, root, work):
    """A deployed canister with the example catalog and two nodes offered for 30 days."""
    state = os.path.join(work, "state")
    mkt(mkt_bin, root, state, "deploy")
    key = os.path.join(work, "provider.key")
    with open(key, "w") as f:
        f.write(SECRET_HEX + "\n")
    mkt(mkt_bin, root, state, "provider", "publish", "--key", key,
        "--csv", os.path.join(root, "tests/fixtures/serverhunter-offering-example.csv"))
    mkt(mkt_bin, root, state, "provider", "delegate", "--key", key, "--principal", OPS)
    pem = mkt(mkt_bin, root, state, "provider", "show", "--key", key, "--as-arg").strip()
    now = time.time_ns() - 3600 * 10**9
    # Two nodes: an offer makes one lease, and the check leases twice.
    for item_id, price in [(1, 250), (2, 300)]:
        mkt(mkt_bin, root, state, "call", "inventory_register",
            f'(record {{ provider = {pem}; items = vec {{ record {{ resource_type = "ironic_node"; '
            f'resource_uuid = "node-{item_id}"; sku = "4D.large"; attributes = record {{ '
            f'cores = 32; memory_mb = 262144; storage_gb = 4000; gpus = 0; '
            f'resource_class = "baremetal.large"; routable_ips = 2; labels = vec {{}} }} }} }} }})',
            "--caller", OPS)
        mkt(mkt_bin, root, state, "call", "offer_create",
            f"(record {{ provider = {pem}; item_id = {item_id}; start_ns = {now}; "
            f"end_ns = {now + 30 * 86400 * 10**9}; price_per_hour = {price}; "
            f"properties = vec {{}} }})", "--caller", OPS)
    return state


async def check(mcp_bin, state, keys):
    params = StdioServerParameters(
        command=mcp_bin, args=["--local", state, "--caller", ALICE, "--keys", keys])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.server_info.name == "mkt-mcp", init

            tools = {t.name: t for t in (await session.list_tools()).tools}
            expected = {
                "search_offerings": (True, False, True),
                "products": (True, False, True),
                "request_offerset": (False, False, False),
                "accept_offer": (False, True, True),
                "lease_status": (True, False, True),
                "end_lease": (False, True, True),
                "extend_lease": (False, False, False),
                "cancel_execution": (False, True, True),
                "lease_by_sku": (False, False, False),
                "my_leases": (True, False, True),
                "availability": (True, False, True),
            }
            for name, (read_only, destructive, idempotent) in expected.items():
                tool = tools[name]
                assert tool.output_schema and tool.output_schema["type"] == "object", name
                a = tool.annotations
                assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint,
                        a.open_world_hint) == (read_only, destructive, idempotent, True), (name, a)

            async def ok(name, arguments):
                # call_tool raises if the structured content does not fit the output schema.
                result = await session.call_tool(name, arguments)
                assert not result.is_error, (name, result)
                return result.structured_content

            async def error(name, arguments):
                result = await session.call_tool(name, arguments)
                assert result.is_error, (name, result)
                return result.content[0].text

            first = await ok("search_offerings", {"product_type": "dedicated", "limit": 1})
            assert [o["key"] for o in first["offerings"]] == ["QC1494"], first
            second = await ok("search_offerings", {"product_type": "dedicated", "limit": 1,
                                                   "cursor": first["next_cursor"]})
            assert [o["key"] for o in second["offerings"]] == ["4XQC3719"], second
            assert second["next_cursor"] is None, second
            products = await ok("products", {})
            assert products["products"][0]["sku"] == "4D.large", products

            # A lease from tomorrow: extended, then cancelled before its start.
            tomorrow = time.time_ns() + 86400 * 10**9
            offerset = await ok("request_offerset", {"image": "ubuntu-24.04",
                                                     "duration_seconds": 7200, "min_cores": 16,
                                                     "start_ns": tomorrow})
            assert offerset["result"] == "yes", offerset
            execution = offerset["offers"][0]["execution_id"]
            accepted = await ok("accept_offer", {"execution_id": execution})
            assert len(accepted["lessee_public_key"]) == 64, accepted
            assert os.stat(os.path.join(keys, "lessee.key")).st_mode & 0o777 == 0o600
            status = await ok("lease_status", {"execution_id": execution})
            assert status["credentials_state"] == "not_sealed", status
            assert status["execution"]["reclaim"] is None, status
            # The lease books only its window: node-1 is free before and after it.
            now = time.time_ns()
            free = await ok("availability", {"item_id": 1, "from_ns": now,
                                             "to_ns": now + 3 * 86400 * 10**9})
            windows = free["items"][0]["windows"]
            assert [w["end_ns"] for w in windows][:1] == [accepted["start_ns"]], free
            assert windows[1]["start_ns"] == accepted["end_ns"], free
            text = await error("accept_offer", {"execution_id": 99})
            assert text.startswith("UnknownExecution"), text
            extended = await ok("extend_lease", {"execution_id": execution,
                                                 "extend_by_seconds": 3600})
            assert extended["end_ns"] == accepted["end_ns"] + 3600 * 10**9, extended
            cancelled = await ok("cancel_execution", {"execution_id": execution,
                                                      "reason": "plans changed"})
            assert cancelled["phase"] == "cancelled", cancelled

            # That lease was tomorrow's, and is cancelled: a lease by SKU from now takes the
            # cheapest node, node-1.
            leased = await ok("lease_by_sku", {"sku": "4D.large", "image": "ubuntu-24.04",
                                               "duration_seconds": 3600})
            assert leased["resource_uuid"] == "node-1", leased
            assert leased["lessee_public_key"] == accepted["lessee_public_key"], leased
            mine = await ok("my_leases", {})
            phases = {e["execution_id"]: e["phase"] for e in mine["executions"]}
            assert phases[execution] == "cancelled" and leased["execution_id"] in phases, mine
            assert mine["next_cursor"] is None, mine
            status = await ok("lease_status", {"execution_id": leased["execution_id"]})
            assert status["execution"]["phase"] in ("preparing", "available"), status

            # Ended now: its server is released (undeployed and cleaned), billed to the
            # started hour; ending it again is refused.
            ended = await ok("end_lease", {"execution_id": leased["execution_id"]})
            assert ended["execution_id"] == leased["execution_id"], ended
            assert ended["phase"] in ("releasing", "completed"), ended
            assert ended["end_ns"] < leased["end_ns"], ended
            assert ended["total_price"] == 250, ended
            text = await error("end_lease", {"execution_id": leased["execution_id"]})
            assert text.startswith("WrongPhase"), text
            status = await ok("lease_status", {"execution_id": leased["execution_id"]})
            assert status["execution"]["phase"] == ended["phase"], (status, ended)
            return status["execution"]["phase"]


def main():
    mkt_bin, mcp_bin, root = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as work:
        state = market(mkt_bin, root, work)
        phase = asyncio.run(check(mcp_bin, state, os.path.join(work, "keys")))
    print(f"mkt-mcp through the MCP Python SDK: ok (lease {phase})")


if __name__ == "__main__":
    main()
