"""Drive a Tern server with slixmpp for the end-to-end test.

Usage: slixmpp_chat.py PHASE HOST PORT
PHASE "exchange": romeo and juliet log in over STARTTLS with SCRAM-SHA-256,
subscribe to each other, exchange a message each way; romeo logs out and
juliet sends him one more message, which the server must store.
PHASE "receive": romeo logs in and waits for the stored message.
Prints one JSON object with what happened.
"""

import asyncio
import json
import ssl
import sys

import slixmpp

HOST, PORT = sys.argv[2], int(sys.argv[3])
TIMEOUT = 20


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, stock=False):
        super().__init__(jid, password, sasl_mech=None if stock else "SCRAM-SHA-256")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.enable_plaintext = False
        self.messages = asyncio.Queue()
        self.events = asyncio.Queue()
        self.mechanism = None
        self.add_event_handler("message", lambda m: self.messages.put_nowait(m))
        self.add_event_handler("session_start", lambda _: self.events.put_nowait("session_start"))
        self.add_event_handler("failed_all_auth", lambda _: self.events.put_nowait("failed_all_auth"))
        self.add_event_handler("presence_subscribed", lambda p: self.events.put_nowait("subscribed:" + p["from"].bare))
        self.add_event_handler("presence_unavailable", lambda p: self.events.put_nowait("unavailable:" + p["from"].bare))
        self.add_event_handler("auth_success", self.on_auth)
        self.register_plugin("xep_0199")
        self.register_plugin("xep_0203")
        if stock:
            return
        # slixmpp 1.8 knows only the tls-unique channel binding, which
        # RFC 9266 rules out for TLS 1.3, yet it announces binding support
        # with the 'y' flag; a server that offers -PLUS must then refuse
        # (RFC 5802 section 6). Report no binding data so it sends 'n'.
        mechs = self["feature_mechanisms"]
        default_credentials = mechs._default_credentials

        def credentials(required, optional):
            creds = default_credentials(required, optional)
            if "channel_binding" in creds:
                creds["channel_binding"] = None
            return creds

        mechs.sasl_callback = credentials

    def on_auth(self, _):
        self.mechanism = self["feature_mechanisms"].mech.name if self["feature_mechanisms"].mech else None

    async def start(self):
        self.connect(address=(HOST, PORT), force_starttls=True, disable_starttls=False)
        event = await asyncio.wait_for(self.events.get(), TIMEOUT)
        if event != "session_start":
            raise RuntimeError(f"{self.boundjid}: {event}")
        self.send_presence()
        await self.get_roster()

    async def wait_event(self, name):
        while True:
            event = await asyncio.wait_for(self.events.get(), TIMEOUT)
            if event == name:
                return

    async def next_message(self):
        while True:
            msg = await asyncio.wait_for(self.messages.get(), TIMEOUT)
            if msg["type"] in ("chat", "normal") and msg["body"]:
                return msg


async def exchange():
    romeo = Client("romeo@localhost/orchard", "r-secret")
    juliet = Client("juliet@localhost/balcony", "j-secret")
    await romeo.start()
    await juliet.start()
    result = {"tls": romeo.is_secure if hasattr(romeo, "is_secure") else None,
              "mechanism": romeo.mechanism}

    # slixmpp accepts subscription requests automatically by default.
    romeo.send_presence_subscription(pto="juliet@localhost")
    await romeo.wait_event("subscribed:juliet@localhost")
    juliet.send_presence_subscription(pto="romeo@localhost")
    await juliet.wait_event("subscribed:romeo@localhost")
    result["romeo_roster"] = romeo.client_roster["juliet@localhost"]["subscription"]
    result["juliet_roster"] = juliet.client_roster["romeo@localhost"]["subscription"]

    romeo.send_message(mto="juliet@localhost", mbody="hello juliet", mtype="chat")
    got = await juliet.next_message()
    result["juliet_got"] = [got["body"], str(got["from"])]
    juliet.send_message(mto="romeo@localhost", mbody="hello romeo", mtype="chat")
    got = await romeo.next_message()
    result["romeo_got"] = [got["body"], str(got["from"])]

    romeo.disconnect()
    await romeo.disconnected
    # romeo's unavailable presence shows that the server has ended his
    # session, so the next message goes to offline storage. The end of his
    # TCP connection does not show that, because slixmpp aborts it when
    # the server's closing tag takes more than 2 seconds (the default wait
    # of disconnect in slixmpp 1.8). A message routed before the server
    # reads romeo's closing tag is then written to the dead connection and
    # lost.
    await juliet.wait_event("unavailable:romeo@localhost")
    juliet.send_message(mto="romeo@localhost", mbody="while you were away", mtype="chat")
    # A round trip makes sure the server has processed the message.
    await juliet["xep_0199"].ping(jid="localhost", timeout=TIMEOUT)
    juliet.disconnect()
    await juliet.disconnected
    return result


async def receive():
    romeo = Client("romeo@localhost/orchard", "r-secret")
    await romeo.start()
    msg = await romeo.next_message()
    delay = msg["delay"]
    result = {"body": msg["body"], "from": str(msg["from"]),
              "delay_stamp": str(delay["stamp"]) if delay["stamp"] else None}
    romeo.disconnect()
    await romeo.disconnected
    return result


async def stock():
    """Log in three times with slixmpp's defaults: it tries the -PLUS
    mechanisms with tls-unique and SCRAM with the 'y' flag, which the
    server refuses, before falling back to a mechanism that works."""
    mechanisms = []
    for _ in range(3):
        juliet = Client("juliet@localhost/stock", "j-secret", stock=True)
        await juliet.start()
        mechanisms.append(juliet.mechanism)
        juliet.disconnect()
        await juliet.disconnected
    return {"mechanisms": mechanisms}


def main():
    import logging, os
    if os.environ.get("SLIX_DEBUG"):
        logging.basicConfig(level=logging.DEBUG)
    phase = sys.argv[1]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    coro = {"exchange": exchange, "receive": receive, "stock": stock}[phase]()
    result = loop.run_until_complete(coro)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
