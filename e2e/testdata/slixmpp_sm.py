"""A slixmpp client with stream management for the end-to-end test.

Usage: slixmpp_sm.py HOST PORT
Logs in as romeo@localhost/phone with XEP-0198 enabled, reconnects (and so
resumes) whenever the connection drops, and prints one JSON object per
line: {"event": "ready"} once stream management is on, {"event":
"resumed"} after a resumption, {"event": "message", "body": ...} per
message, and exits after the message with body "done".
"""

import asyncio
import json
import ssl
import sys

import slixmpp

HOST, PORT = sys.argv[1], int(sys.argv[2])


def emit(**fields):
    print(json.dumps(fields), flush=True)


class Phone(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__("romeo@localhost/phone", "r-secret", sasl_mech="SCRAM-SHA-256")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.enable_plaintext = False
        # slixmpp 1.8 announces tls-unique channel binding support with the
        # SCRAM 'y' flag, which a server offering -PLUS must refuse; report
        # no binding data so it sends 'n' (see slixmpp_chat.py).
        mechs = self["feature_mechanisms"]
        default_credentials = mechs._default_credentials

        def credentials(required, optional):
            creds = default_credentials(required, optional)
            if "channel_binding" in creds:
                creds["channel_binding"] = None
            return creds

        mechs.sasl_callback = credentials
        self.register_plugin("xep_0198")
        self["xep_0198"].allow_resume = True
        self.done = asyncio.Event()
        self.add_event_handler("session_start", lambda _: self.send_presence())
        self.add_event_handler("sm_enabled", lambda _: emit(event="ready"))
        self.add_event_handler("session_resumed", lambda _: emit(event="resumed"))
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("disconnected", self.on_disconnected)

    def on_message(self, msg):
        if msg["type"] not in ("chat", "normal") or not msg["body"]:
            return
        emit(event="message", body=msg["body"])
        if msg["body"] == "done":
            self.done.set()

    def on_disconnected(self, _):
        if not self.done.is_set():
            emit(event="disconnected")
            asyncio.get_event_loop().call_later(0.2, self.dial)

    def dial(self):
        self.connect(address=(HOST, PORT), force_starttls=True)


async def main():
    phone = Phone()
    phone.dial()
    await asyncio.wait_for(phone.done.wait(), 60)
    # Acknowledge everything before leaving so nothing is redelivered.
    phone["xep_0198"].send_ack()
    phone.disconnect()
    await phone.disconnected


asyncio.new_event_loop().run_until_complete(main())
