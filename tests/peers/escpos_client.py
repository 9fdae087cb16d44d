#!/usr/bin/env python3
"""Independent ESC/POS client: python-escpos (PyPI), which nobody here
wrote, prints to the simulated receipt printer over TCP.

Usage: escpos_client.py HOST PORT

Prints a receipt with Chinese text (python-escpos sends text with CJK
ideographs as raw GB18030 bytes), Latin text, a native QR code
(GS ( k), a CODE128 barcode (GS k 73) and a cut, after asking the paper
sensor (DLE EOT 4). Prints one JSON line with what it sent, so the Rust
side can compare it with what the simulator recorded.
"""

import json
import sys

from escpos.printer import Network


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    p = Network(host, port=port, timeout=10)
    # The paper sensor, read by python-escpos itself: 2 = paper adequate.
    paper = p.paper_status()
    title = "办件回执"
    lines = [title, "Queue A012", "事项：社会保障卡补换"]
    qr = "https://zwfw.example.gov.cn/q/A012"
    code = "P2026112809300012"
    p.set(align="center", bold=True)
    p.text(title + "\n")
    p.set(align="left", bold=False)
    p.text(lines[1] + "\n")
    p.text(lines[2] + "\n")
    p.qr(qr, native=True, size=6)
    # Module width 2: at python-escpos's default of 3 the symbol is wider
    # than 80 mm paper and a printer does not print it.
    p.barcode("{B" + code, "CODE128", function_type="B", pos="BELOW", width=2)
    p.cut()
    p.close()
    print(json.dumps({"paper": paper, "lines": lines, "qr": qr, "barcode": code}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
