"""``python -m bank_sandbox``: serve ING, ABN AMRO and Rabobank on three HTTPS ports.

Both banks run in one process (sharing scenario, faults and log) but on their
own ports, so a client's base URL is a clean swap for the bank's host.
"""

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from . import certs as certs_module
from .abnamro import AbnAmroApp
from .bunq import BunqApp
from .ing import IngApp
from .nextgenpsd2 import NextGenPsd2Router
from .rabobank import RabobankApp
from .scenario import load_file
from .server import serve, ssl_context
from .state import State
from .web import ClientCertChecker


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bank_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443, help="ING port (0 = any free port)")
    parser.add_argument("--abnamro-port", type=int, default=None,
                        help="ABN AMRO port (default: ING port + 1; 0 = any free port)")
    parser.add_argument("--rabobank-port", type=int, default=None,
                        help="Rabobank port (default: ING port + 2; 0 = any free port)")
    parser.add_argument("--nextgenpsd2-port", type=int, default=None,
                        help="Knab, Triodos, ASN/SNS/RegioBank port (default: ING port + 3; 0 = any free port)")
    parser.add_argument("--bunq-port", type=int, default=None,
                        help="bunq port (default: ING port + 4; 0 = any free port)")
    parser.add_argument("--certs", required=True, help="certificate directory (created if missing)")
    parser.add_argument("--scenario", help="scenario file (JSON or YAML); default: built-in scenario")
    parser.add_argument("--state-dir", help="keep tokens, consents and log here across restarts")
    parser.add_argument("--tan", default="123456", help="TAN the consent pages accept")
    parser.add_argument("--ready-file", help="write the actual ports here as JSON once listening")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("the sandbox only listens on loopback", file=sys.stderr)
        return 2
    cert_dir = certs_module.generate(args.certs)
    scenario = load_file(args.scenario) if args.scenario else {}
    state = State(scenario, args.state_dir)
    from cryptography import x509

    checker = ClientCertChecker(x509.load_pem_x509_certificate((cert_dir / "ca.pem").read_bytes()))
    ports = {}
    settings = {"tan": args.tan, "ports": ports}
    context = ssl_context(cert_dir)
    abnamro_port = args.abnamro_port if args.abnamro_port is not None else (args.port + 1 if args.port else 0)
    rabobank_port = args.rabobank_port if args.rabobank_port is not None else (args.port + 2 if args.port else 0)
    bunq_port = args.bunq_port if args.bunq_port is not None else (args.port + 4 if args.port else 0)
    bunq_settings = {**settings, "bunq_server_key": str(cert_dir / "bunq_server.key"), "ca": str(cert_dir / "ca.pem")}
    bunq_server, bunq_thread = serve(BunqApp(state, checker, bunq_settings), args.host, bunq_port, context)
    ports["bunq"] = bunq_server.server_address[1]
    ing_server, ing_thread = serve(IngApp(state, checker, settings), args.host, args.port, context)
    abn_server, abn_thread = serve(AbnAmroApp(state, checker, settings), args.host, abnamro_port, context)
    rabo_server, rabo_thread = serve(RabobankApp(state, checker, settings), args.host, rabobank_port, context)
    ngp_port = args.nextgenpsd2_port if args.nextgenpsd2_port is not None else (args.port + 3 if args.port else 0)
    ngp_server, ngp_thread = serve(NextGenPsd2Router(state, checker, settings), args.host, ngp_port, context)
    ports["ing"] = ing_server.server_address[1]
    ports["abnamro"] = abn_server.server_address[1]
    ports["rabobank"] = rabo_server.server_address[1]
    ports["nextgenpsd2"] = ngp_server.server_address[1]
    ing_thread.start()
    abn_thread.start()
    rabo_thread.start()
    ngp_thread.start()
    print(f"ING      https://{args.host}:{ports['ing']}", flush=True)
    print(f"ABN AMRO https://{args.host}:{ports['abnamro']}", flush=True)
    print(f"Rabobank https://{args.host}:{ports['rabobank']}", flush=True)
    print(f"Knab, Triodos, ASN, SNS, RegioBank https://{args.host}:{ports['nextgenpsd2']}", flush=True)
    bunq_thread.start()
    print(f"bunq     https://{args.host}:{ports['bunq']}", flush=True)
    if args.ready_file:
        ready = Path(args.ready_file)
        temporary = ready.with_suffix(".tmp")
        temporary.write_text(json.dumps({"pid": os.getpid(), "host": args.host, **ports}))
        temporary.replace(ready)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    ing_server.shutdown()
    abn_server.shutdown()
    rabo_server.shutdown()
    ngp_server.shutdown()
    bunq_server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
