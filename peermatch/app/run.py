"""Start the workbench server: bind 127.0.0.1, print the address with its token, open the
browser, serve until Ctrl-C."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

from ..errors import ConfigError

__all__ = ["serve", "bind", "DEFAULT_PORT", "HOST"]

#: The port tried first when none is given (then the next ones, as Jupyter does).
DEFAULT_PORT = 8765
#: The only address the server listens on.
HOST = "127.0.0.1"


def bind(port: int | None) -> socket.socket:
    """A listening socket on 127.0.0.1: ``port``, or the first free one from
    :data:`DEFAULT_PORT` when ``port`` is None (0: any free port).

    Raises
    ------
    ConfigError
        The port asked for is taken (or no port near the default is free).
    """
    tries = [port] if port is not None else list(range(DEFAULT_PORT, DEFAULT_PORT + 20))
    last = None
    for p in tries:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((HOST, p))
        except OSError as exc:
            sock.close()
            last = exc
            continue
        sock.listen(128)
        return sock
    raise ConfigError(f"cannot listen on {HOST}:{tries[0] if len(tries) == 1 else tries}"
                      f" ({getattr(last, 'strerror', last)}). Give a free port with --port, "
                      "or --port 0 for any free one.")


def serve(path: str | None = None, *, port: int | None = None, open_browser: bool = True,
          state: str | Path | None = None, token: str | None = None,
          ready: threading.Event | None = None) -> None:
    """Serve the workbench until interrupted.

    Parameters
    ----------
    path : str, optional
        A candidates or groups CSV to open (its latest session when it was opened before
        with the same content).
    port : int, optional
        The port (default: the first free one from 8765; 0: any free port).
    open_browser : bool, default=True
        Open the address in the default browser.
    state : path, optional
        The SQLite file of the sessions (default:
        :func:`peermatch.app.state.default_state_path`).
    token : str, optional
        The access token (default: a new random one).
    ready : threading.Event, optional
        Set once the server accepts requests.
    """
    import uvicorn

    from .security import new_token
    from .server import create_app
    from .state import default_state_path
    from .workbench import Workbench

    wb = Workbench(state or default_state_path())
    start = "/"
    if path is not None:
        data = Path(path).read_bytes() if Path(path).is_file() else None
        if data is None:
            raise ConfigError(f"{path}: no such file. Give the path of a candidates or "
                              "groups CSV.")
        start = f"/s/{wb.open_file(str(path), data, reuse=True)}"
    sock = bind(port)
    port = sock.getsockname()[1]
    token = token or new_token()
    url = f"http://{HOST}:{port}{start}?token={token}"
    print(f"peermatch workbench: {url}\n  sessions kept in {wb.store.path}\n"
          "  (the address holds the access token: keep it to yourself; Ctrl-C stops)",
          flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(wb, token=token, port=port),
                                           log_level="warning", lifespan="off",
                                           # open progress streams do not hold up Ctrl-C
                                           timeout_graceful_shutdown=1))
    if open_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    if ready is not None:
        threading.Thread(target=_signal_ready, args=(server, ready), daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        print("peermatch workbench stopped.", file=sys.stderr)


def _signal_ready(server, ready: threading.Event) -> None:
    import time

    while not server.started:
        time.sleep(0.02)
    ready.set()
