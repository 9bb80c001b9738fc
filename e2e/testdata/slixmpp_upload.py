"""Upload files to Tern with slixmpp's HTTP File Upload plugin.

Usage: slixmpp_upload.py HOST PORT SMALL_FILE LARGE_FILE
romeo logs in over STARTTLS with SCRAM-SHA-256 and finds the upload
service and its max-file-size through disco. The xep_0363 plugin then
uploads SMALL_FILE as image/png: it requests a slot and PUTs the file
with aiohttp. Then it tries LARGE_FILE, which the plugin is expected to
reject before any request because it exceeds max-file-size. Prints one
JSON object with what happened.
"""

import asyncio
import json
import ssl
import sys

import slixmpp
from slixmpp.plugins.xep_0363.http_upload import FileTooBig

HOST, PORT, SMALL, LARGE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
TIMEOUT = 20


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password, sasl_mech="SCRAM-SHA-256")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.enable_plaintext = False
        self.events = asyncio.Queue()
        self.add_event_handler("session_start", lambda _: self.events.put_nowait("session_start"))
        self.add_event_handler("failed_auth", lambda _: self.events.put_nowait("failed_auth"))
        # slixmpp 1.8 announces channel binding support with the 'y' flag
        # although it cannot bind to TLS 1.3. Report no binding data so it
        # sends 'n', as slixmpp_chat.py does.
        mechs = self["feature_mechanisms"]
        default_credentials = mechs._default_credentials

        def credentials(required, optional):
            creds = default_credentials(required, optional)
            if "channel_binding" in creds:
                creds["channel_binding"] = None
            return creds

        mechs.sasl_callback = credentials
        for plugin in ("xep_0030", "xep_0363"):
            self.register_plugin(plugin)

    async def start(self):
        self.connect(address=(HOST, PORT), force_starttls=True, disable_starttls=False)
        event = await asyncio.wait_for(self.events.get(), TIMEOUT)
        if event != "session_start":
            raise RuntimeError(f"{self.boundjid}: {event}")


async def find_upload_service(client):
    """Set the xep_0363 plugin's service and max-file-size from disco.

    slixmpp 1.8's own discovery (XEP_0030.get_info_from_domain) passes
    coroutines to asyncio.wait, which Python 3.11 rejects with a
    TypeError, so this does the same steps with plain disco requests.
    """
    disco = client["xep_0030"]
    items = await disco.get_items(jid="localhost", timeout=TIMEOUT)
    for item in items["disco_items"]["items"]:
        info = await disco.get_info(jid=item[0], timeout=TIMEOUT)
        identities = info["disco_info"]["identities"]
        if not any(i[0] == "store" and i[1] == "file" for i in identities):
            continue
        if "urn:xmpp:http:upload:0" not in info["disco_info"]["features"]:
            continue
        upload = client["xep_0363"]
        upload.upload_service = info["from"]
        for form in info["disco_info"].iterables:
            values = form["values"]
            if values["FORM_TYPE"] == ["urn:xmpp:http:upload:0"]:
                upload.max_file_size = int(values["max-file-size"])
        return
    raise RuntimeError("no upload service in the disco#items of localhost")


async def main():
    romeo = Client("romeo@localhost/upload", "r-secret")
    await romeo.start()
    await find_upload_service(romeo)
    upload = romeo["xep_0363"]
    url = await upload.upload_file(SMALL, content_type="image/png", timeout=TIMEOUT)
    too_big = False
    try:
        await upload.upload_file(LARGE, content_type="image/png", timeout=TIMEOUT)
    except FileTooBig:
        too_big = True
    result = {
        "service": str(upload.upload_service),
        "max_file_size": upload.max_file_size,
        "url": url,
        "too_big": too_big,
    }
    romeo.disconnect()
    print(json.dumps(result))


asyncio.run(asyncio.wait_for(main(), 60))
