#!/usr/bin/env python3
"""Independent peer: the PyPI pyfingerprint library (1.5) against the
simulated EF 01 fingerprint module.

Usage: pyfingerprint_client.py PORT [PASSWORD_HEX]

Runs verifyPassword, getSystemParameters, getTemplateCount, readImage
(waiting for the finger the test laid), convertImage into buffer 1,
searchTemplate, then createTemplate/compareCharacteristics on a second
capture, and prints one JSON object. Any exception becomes
{"error": "..."} and exit code 1.
"""

import json
import sys
import time

from pyfingerprint.pyfingerprint import PyFingerprint, FINGERPRINT_CHARBUFFER1, FINGERPRINT_CHARBUFFER2


def main():
    port = sys.argv[1]
    password = int(sys.argv[2], 16) if len(sys.argv) > 2 else 0
    out = {}
    f = PyFingerprint(port, 57600, 0xFFFFFFFF, password)
    out["password_ok"] = bool(f.verifyPassword())
    if not out["password_ok"]:
        raise ValueError("the module refused the password")
    params = f.getSystemParameters()
    out["status_register"] = params[0]
    out["system_id"] = params[1]
    out["capacity"] = params[2]
    out["security_level"] = params[3]
    out["address"] = "%08X" % params[4]
    out["packet_size"] = f.getMaxPacketSize()
    out["baud"] = f.getBaudRate()
    out["template_count"] = f.getTemplateCount()
    out["index_page0"] = [i for i, used in enumerate(f.getTemplateIndex(0)) if used]

    deadline = time.monotonic() + 5
    captured = False
    while time.monotonic() < deadline:
        if f.readImage():
            captured = True
            break
        time.sleep(0.05)
    out["image"] = captured
    f.convertImage(FINGERPRINT_CHARBUFFER1)
    page, score = f.searchTemplate()
    out["search_page"] = page
    out["search_score"] = score

    # A second capture of the same finger into buffer 2: compare 1:1.
    f.readImage()
    f.convertImage(FINGERPRINT_CHARBUFFER2)
    out["compare_score"] = f.compareCharacteristics()
    characteristics = f.downloadCharacteristics(FINGERPRINT_CHARBUFFER1)
    out["template_len"] = len(characteristics)
    out["upload_roundtrip"] = bool(f.uploadCharacteristics(FINGERPRINT_CHARBUFFER2, characteristics))
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report, not a traceback
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
