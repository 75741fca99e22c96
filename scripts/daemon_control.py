"""The control socket's `status` request, for the scripts that drive a daemon (soak.py, hostile.py)."""
import json
import socket


def status(control_socket, timeout=5):
    """`slawatch status --json` of the daemon listening on `control_socket`, as a dict."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(control_socket)
    s.sendall(b"status\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data)
