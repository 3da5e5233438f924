"""The one network probe: can a server be reached before something waits on it?

The course runs where there is no network (course machines reach only package
registries): PASCAL VOC and the pretrained weights are fetched only when their
server answers within seconds, so an offline run says so at once instead of
hanging in a download (`data.pascal_2007`, `model.pretrained_weights`).
"""
import socket
import threading


def reachable(host, port=443, timeout=4.0):
    """Can we open a TCP connection to host within `timeout` s (DNS included)?"""
    result = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(None)
        except OSError as e:
            result.append(e)

    t = threading.Thread(target=probe, daemon=True)   # getaddrinfo has no timeout of its own
    t.start()
    t.join(timeout + 1)
    if not result:
        return f"no answer from {host} within {timeout:.0f} s"
    return None if result[0] is None else f"{type(result[0]).__name__}: {result[0]}"
