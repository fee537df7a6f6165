"""Protocol-faithful simulators of the national platforms, served over real HTTP on 127.0.0.1."""

from .server import Fault, ManualClock, Request, Response, SimServer
from .tls import TlsFront

__all__ = ["Fault", "ManualClock", "Request", "Response", "SimServer", "TlsFront"]
