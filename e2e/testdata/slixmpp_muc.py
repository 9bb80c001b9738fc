"""Drive a Tern chat room with slixmpp for the end-to-end test.

Usage: slixmpp_muc.py HOST PORT ROOM
juliet logs in over STARTTLS with SCRAM-SHA-256 and joins ROOM as
"Juliet" with the xep_0045 plugin, requesting two history messages. She
sends a groupchat message and waits for its reflection and for a message
from the nick "Romeo". Then she reads the room archive with the xep_0313
plugin. Prints one JSON object with what happened.
"""

import asyncio
import json
import ssl
import sys

import slixmpp

HOST, PORT, ROOM = sys.argv[1], int(sys.argv[2]), sys.argv[3]
TIMEOUT = 20


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password, sasl_mech="SCRAM-SHA-256")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.enable_plaintext = False
        self.events = asyncio.Queue()
        self.groupchat = asyncio.Queue()
        self.add_event_handler("session_start", lambda _: self.events.put_nowait("session_start"))
        self.add_event_handler("failed_auth", lambda _: self.events.put_nowait("failed_auth"))
        self.add_event_handler("groupchat_message", lambda m: self.groupchat.put_nowait(m))
        # slixmpp 1.8 announces channel binding support with the 'y' flag
        # although it cannot bind to TLS 1.3; a server that offers -PLUS
        # must then refuse (RFC 5802 section 6). Report no binding data so
        # it sends 'n', as slixmpp_chat.py does.
        mechs = self["feature_mechanisms"]
        default_credentials = mechs._default_credentials

        def credentials(required, optional):
            creds = default_credentials(required, optional)
            if "channel_binding" in creds:
                creds["channel_binding"] = None
            return creds

        mechs.sasl_callback = credentials
        for plugin in ("xep_0030", "xep_0045", "xep_0059", "xep_0203", "xep_0297", "xep_0313", "xep_0359"):
            self.register_plugin(plugin)

    async def start(self):
        self.connect(address=(HOST, PORT), force_starttls=True, disable_starttls=False)
        event = await asyncio.wait_for(self.events.get(), TIMEOUT)
        if event != "session_start":
            raise RuntimeError(f"{self.boundjid}: {event}")
        self.send_presence()

    async def next_groupchat(self, nick, body):
        while True:
            msg = await asyncio.wait_for(self.groupchat.get(), TIMEOUT)
            if msg["from"].resource == nick and msg["body"] == body and not msg["delay"]["stamp"]:
                return msg


async def run():
    juliet = Client("juliet@localhost/balcony", "juliet-secret")
    await juliet.start()
    muc = juliet["xep_0045"]
    pres, subject, occupants, history = await muc.join_muc_wait(
        slixmpp.JID(ROOM), "Juliet", maxstanzas=2, timeout=TIMEOUT)
    result = {
        "self_codes": sorted(int(c) for c in pres["muc"]["status_codes"]),
        "role": pres["muc"]["role"],
        "occupants": sorted(p["from"].resource for p in occupants),
        "history": [m["body"] for m in history],
        "subject": subject["subject"],
    }

    juliet.send_message(mto=ROOM, mbody="hello from juliet", mtype="groupchat")
    echo = await juliet.next_groupchat("Juliet", "hello from juliet")
    result["echo_stanza_id"] = echo["stanza_id"]["id"]
    result["echo_stanza_id_by"] = str(echo["stanza_id"]["by"])
    got = await juliet.next_groupchat("Romeo", "hello from romeo")
    result["from_romeo"] = got["body"]

    iq = await juliet["xep_0313"].retrieve(jid=slixmpp.JID(ROOM), timeout=TIMEOUT)
    result["archive"] = [r["mam_result"]["forwarded"]["stanza"]["body"] for r in iq["mam"]["results"]]
    result["archive_ids"] = [r["mam_result"]["id"] for r in iq["mam"]["results"]]

    muc.leave_muc(slixmpp.JID(ROOM), "Juliet")
    juliet.disconnect()
    await juliet.disconnected
    return result


def main():
    import logging
    import os
    if os.environ.get("SLIX_DEBUG"):
        logging.basicConfig(level=logging.DEBUG)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    print(json.dumps(loop.run_until_complete(run())))


if __name__ == "__main__":
    main()
