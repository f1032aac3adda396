#!/usr/bin/env python3
"""A stand-in for an email provider in the demo: receives Upfront's webhooks
on 127.0.0.1:PORT, checks each Standard Webhooks signature with the secret in
UPFRONT_EMAIL_SECRET, answers 200 (or 401 for a bad signature) and logs one
line per message.

    UPFRONT_EMAIL_SECRET=whsec_... demo_receiver.py --port 9000 --log emails.log
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os


def valid(secret, headers, body):
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(sig.split(",", 1)[-1] == expected for sig in headers.get("webhook-signature", "").split())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--log", default="-")
    args = parser.parse_args()
    secret = os.environ["UPFRONT_EMAIL_SECRET"]
    log = open(args.log, "a", buffering=1) if args.log != "-" else None

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            ok = valid(secret, headers, body)
            self.send_response(200 if ok else 401)
            self.end_headers()
            data = json.loads(body).get("data", {}) if ok else {}
            text = (f"{headers.get('webhook-id')} {'signed ok' if ok else 'BAD SIGNATURE'} "
                    f"to {data.get('customer')}: {data.get('message')}")
            print(text, file=log, flush=True) if log else print(text, flush=True)

        def log_message(self, *_):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
